//! A TCP proxy on loopback that adds a fixed latency to every request, so a local S3 server
//! answers as slowly as a real one: `scripts/bench-s3.py` puts it in front of the server.
//!
//!     cargo run --release --example latency_proxy -- UPSTREAM_HOST:PORT LATENCY_MS
//!
//! It prints `http://127.0.0.1:PORT` (its own address) on the first line of stdout, then
//! relays each connection both ways. Every chunk the client sends (an HTTP/1.1 request: its
//! head arrives in one write, and a GET has no body) is held for LATENCY_MS before it goes on,
//! so each request's first byte back comes LATENCY_MS later than from the server itself:
//! the round trip plus the time to first byte of a request to S3 from another network. The
//! answer flows back at loopback speed, as it would from a nearby region. Connections are
//! independent (a thread pair each), so N requests in flight wait their latency in parallel,
//! as they do against S3. It runs until stdin closes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(upstream), Some(latency)) = (args.first(), args.get(1)) else {
        eprintln!("usage: latency_proxy UPSTREAM_HOST:PORT LATENCY_MS");
        return ExitCode::from(2);
    };
    let Ok(latency) = latency.parse::<u64>().map(Duration::from_millis) else {
        eprintln!("latency_proxy: LATENCY_MS must be a whole number, not {latency:?}");
        return ExitCode::from(2);
    };
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((addr, listener)) => {
            println!("http://{addr}");
            listener
        }
        Err(e) => {
            eprintln!("latency_proxy: cannot listen on loopback: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The proxy lives as long as whoever started it holds our stdin open.
    thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let upstream = upstream.clone();
        thread::spawn(move || {
            if let Err(e) = relay(client, &upstream, latency) {
                eprintln!("latency_proxy: connection ended: {e}");
            }
        });
    }
    ExitCode::SUCCESS
}

/// Relays one connection: client to server with the latency, server to client as it comes.
fn relay(client: TcpStream, upstream: &str, latency: Duration) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let back = thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let (mut from_client, mut to_server) = (client, server);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from_client.read(&mut buf)?;
        if n == 0 {
            break;
        }
        thread::sleep(latency);
        to_server.write_all(&buf[..n])?;
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}
