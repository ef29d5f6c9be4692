//! An HTTP proxy on loopback in front of the S3 test server that misbehaves on purpose:
//! it answers some requests with 503 SlowDown or 500, drops the connection without an
//! answer, or cuts a response body short, as S3 and the networks in front of it do.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forward it and relay the answer.
    Pass,
    /// 503 SlowDown, as S3 answers a burst beyond the request rate of a prefix.
    SlowDown,
    /// 500 InternalError.
    InternalError,
    /// Close the connection without answering.
    Drop,
    /// Relay the answer's head and half its body, then close.
    Truncate,
    /// Forward it and relay the answer, 300 ms later: a slow network.
    Slow,
    /// 403 AccessDenied.
    AccessDenied,
    /// 301 PermanentRedirect naming eu-west-1 as the bucket's region.
    WrongRegion,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target, query included (`/bucket/key?x-id=GetObject`).
    pub path: String,
}

impl Request {
    /// The path without its query: `/bucket/key` in path-style addressing.
    pub fn object_path(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }
}

type Plan = dyn Fn(&Request, u64) -> Fault + Send + Sync;

pub struct FaultProxy {
    pub endpoint: String,
    /// Every request seen, with what was done to it.
    pub log: Arc<Mutex<Vec<(Request, Fault)>>>,
    /// GetObject requests being forwarded now, and the most there ever were at once.
    pub gets: Arc<Gauge>,
}

/// A count of things under way, and the highest it reached.
#[derive(Default)]
pub struct Gauge {
    now: AtomicU64,
    pub max: AtomicU64,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FaultProxy {
    /// Starts the proxy; `plan(request, n)` decides the fate of the n-th request (from 0).
    pub fn start(
        upstream: &str,
        plan: impl Fn(&Request, u64) -> Fault + Send + Sync + 'static,
    ) -> FaultProxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("http endpoint")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let plan: Arc<Plan> = Arc::new(plan);
        let counter = Arc::new(AtomicU64::new(0));
        let gets = Arc::new(Gauge::default());
        let state = (log.clone(), plan, counter, gets.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (log, plan, counter, gets) = (
                    state.0.clone(),
                    state.1.clone(),
                    state.2.clone(),
                    state.3.clone(),
                );
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &upstream, &*plan, &counter, &log, &gets);
                });
            }
        });
        FaultProxy {
            endpoint,
            log,
            gets,
        }
    }

    pub fn count(&self, fault: Fault) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|(_, f)| *f == fault)
            .count()
    }
}

/// A deterministic share of requests: true for about `percent` of `n`s.
pub fn share(n: u64, salt: u64, percent: u64) -> bool {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    x % 100 < percent
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Serves requests on one client connection until it closes.
fn serve(
    mut client: TcpStream,
    upstream: &str,
    plan: &Plan,
    counter: &AtomicU64,
    log: &Mutex<Vec<(Request, Fault)>>,
    gets: &Gauge,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut buf = Vec::new();
    loop {
        // Read one request: its head, then its body.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = client.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let body_len = content_length(&head);
        while buf.len() < head_end + body_len {
            let mut chunk = [0u8; 8192];
            let n = client.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let request_bytes: Vec<u8> = buf.drain(..head_end + body_len).collect();
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let request = Request {
            method: first.next().unwrap_or("").to_owned(),
            path: first.next().unwrap_or("").to_owned(),
        };
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let fault = plan(&request, n);
        // A GetObject: a key below the bucket, and no list query.
        let get = request.method == "GET"
            && request.object_path().trim_start_matches('/').contains('/')
            && !request.path.contains("list-type=");
        log.lock().expect("log").push((request, fault));
        match fault {
            Fault::Drop => {
                let _ = client.shutdown(Shutdown::Both);
                return Ok(());
            }
            Fault::SlowDown => {
                return answer(
                    &mut client,
                    "503 Slow Down",
                    "SlowDown",
                    "Please reduce your request rate.",
                    "",
                );
            }
            Fault::InternalError => {
                return answer(
                    &mut client,
                    "500 Internal Server Error",
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                    "",
                );
            }
            Fault::AccessDenied => {
                return answer(
                    &mut client,
                    "403 Forbidden",
                    "AccessDenied",
                    "Access Denied",
                    "",
                );
            }
            Fault::WrongRegion => {
                return answer(
                    &mut client,
                    "301 Moved Permanently",
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be addressed using the specified endpoint.",
                    "x-amz-bucket-region: eu-west-1\r\n",
                );
            }
            Fault::Pass | Fault::Truncate | Fault::Slow => {
                if get {
                    gets.enter();
                }
                if fault == Fault::Slow {
                    std::thread::sleep(Duration::from_millis(300));
                }
                let response = forward(upstream, &request_bytes, &head, head_end);
                if get {
                    gets.leave();
                }
                let response = response?;
                if fault == Fault::Truncate {
                    let body_at = find(&response, b"\r\n\r\n").map_or(response.len(), |i| i + 4);
                    let keep = body_at + (response.len() - body_at) / 2;
                    client.write_all(&response[..keep])?;
                    let _ = client.shutdown(Shutdown::Both);
                    return Ok(());
                }
                client.write_all(&response)?;
                let response_head = String::from_utf8_lossy(&response[..response.len().min(4096)])
                    .to_ascii_lowercase();
                if response_head.contains("connection: close") {
                    let _ = client.shutdown(Shutdown::Write);
                    return Ok(());
                }
            }
        }
    }
}

/// Sends one request upstream on a fresh connection and returns the whole response.
fn forward(
    upstream: &str,
    request: &[u8],
    head: &str,
    head_end: usize,
) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    // Ask for one response per connection, so that the response ends where the stream does.
    let mut rewritten = String::new();
    for line in head[..head_end - 4].split("\r\n") {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    up.write_all(rewritten.as_bytes())?;
    up.write_all(&request[head_end..])?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    Ok(response)
}

fn answer(
    client: &mut TcpStream,
    status: &str,
    code: &str,
    message: &str,
    extra: &str,
) -> std::io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>FAULTPROXY</RequestId></Error>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes())?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
