//! A read-only S3 endpoint over a directory, for benchmarks: `scripts/bench-s3.py` serves a
//! trail with it so that what is measured is the reader, not the server.
//!
//!     cargo run --release --example s3_file_server -- ROOT
//!
//! Prints `http://127.0.0.1:PORT` on the first line of stdout and serves until stdin closes.
//! ROOT/BUCKET/KEY is object KEY of bucket BUCKET, addressed path-style. It answers the
//! requests a trail reader makes, as the S3 API reference defines them:
//! - `GET /BUCKET?list-type=2` (ListObjectsV2) with `prefix`, `delimiter`, `max-keys` (at
//!   most 1,000), `continuation-token`, `start-after` and `encoding-type=url`;
//! - `GET` and `HEAD /BUCKET/KEY` (GetObject, HeadObject), with a `Range: bytes=` header
//!   answered 206 as DuckDB's httpfs asks for it; a missing key is 404 NoSuchKey.
//!
//! With `S3_FILE_SERVER_FIRST_GET=FILE` in its environment, it writes the time (Unix
//! seconds) of the first GetObject it answers into FILE: how long a reader waited before it
//! fetched anything (`scripts/bench-org-listing.py --analyze`).
//!
//! Signatures are not checked (it is a benchmark on loopback). The ETag is made from the
//! file's size and modification time, not its MD5: computing an MD5 on every GET is what
//! makes s3s-fs spend about as much CPU serving a trail as the reader spends decoding it,
//! and no client here checks a GetObject ETag against the body. Bodies go from the page
//! cache to the socket with sendfile (std::io::copy specializes File to TcpStream), one
//! thread per connection.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::UNIX_EPOCH;

fn main() -> ExitCode {
    let Some(root) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: s3_file_server ROOT");
        return ExitCode::from(2);
    };
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((addr, listener)) => {
            println!("http://{addr}");
            listener
        }
        Err(e) => {
            eprintln!("s3_file_server: cannot listen on loopback: {e}");
            return ExitCode::FAILURE;
        }
    };
    thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let root = Arc::new(root);
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let root = Arc::clone(&root);
        thread::spawn(move || {
            let _ = serve(conn, &root);
        });
    }
    ExitCode::SUCCESS
}

/// One request's line and the headers this server reads.
struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    range: Option<String>,
    close: bool,
}

/// Serves the requests of one keep-alive connection until the client closes it.
fn serve(conn: TcpStream, root: &Path) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    while let Some(req) = read_request(&mut reader)? {
        respond(&req, root, &mut out)?;
        if req.close {
            break;
        }
    }
    Ok(())
}

fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let (mut range, mut close, mut body) = (None, false, 0usize);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "range" => range = Some(value.to_owned()),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            "content-length" => body = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    // A body (none is expected) is read and dropped, to keep the connection in step.
    std::io::copy(&mut reader.take(body as u64), &mut std::io::sink())?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect();
    Ok(Some(Request {
        method,
        path: decode(path, false),
        query,
        range,
        close,
    }))
}

fn respond(req: &Request, root: &Path, out: &mut TcpStream) -> std::io::Result<()> {
    let path = req.path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() || bucket.contains("..") || key.split('/').any(|s| s == "..") {
        return error(out, "400 Bad Request", "InvalidRequest", req);
    }
    let bucket_dir = root.join(bucket);
    if !bucket_dir.is_dir() {
        return error(out, "404 Not Found", "NoSuchBucket", req);
    }
    match (req.method.as_str(), key.is_empty()) {
        ("GET", true) if param(req, "list-type") == Some("2") => list(req, &bucket_dir, out),
        ("GET" | "HEAD", false) => object(req, &bucket_dir.join(key), out),
        _ => error(out, "501 Not Implemented", "NotImplemented", req),
    }
}

fn param<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The keys a listing of `prefix` can show, with their size and modification time. Only the
/// folder the prefix's last `/` names is read: walking the whole bucket for every request
/// made each of an organization trail's 2,400 day-folder listings read 691,000 files'
/// metadata. With the delimiter `/`, a sub-folder is one entry, `dir/` (it rolls up into the
/// same CommonPrefix as its keys would, and sorts among the other keys as they do), shown
/// only when a file lies somewhere below it: S3 has no empty folders.
fn candidates(bucket_dir: &Path, prefix: &str, delimiter: Option<&str>) -> Vec<(String, u64, i64)> {
    let folder = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
    let start = bucket_dir.join(folder);
    if delimiter == Some("/") {
        let Ok(entries) = std::fs::read_dir(&start) else {
            return Vec::new();
        };
        return entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let key = format!("{folder}{name}");
                if !key.starts_with(prefix) {
                    return None;
                }
                let meta = e.metadata().ok()?;
                if meta.is_dir() {
                    let has_file = walkdir::WalkDir::new(e.path())
                        .into_iter()
                        .filter_map(Result::ok)
                        .any(|f| f.file_type().is_file());
                    has_file.then(|| (format!("{key}/"), 0, 0))
                } else {
                    meta.is_file().then(|| (key, meta.len(), mtime(&meta)))
                }
            })
            .collect();
    }
    walkdir::WalkDir::new(&start)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let key = e.path().strip_prefix(bucket_dir).ok()?.to_str()?.to_owned();
            let meta = e.metadata().ok()?;
            Some((key, meta.len(), mtime(&meta)))
        })
        .filter(|(k, _, _)| k.starts_with(prefix))
        .collect()
}

/// ListObjectsV2: keys in UTF-8 binary order, as S3 lists them; a key's part after the
/// prefix up to the first delimiter is rolled up into a CommonPrefix.
fn list(req: &Request, bucket_dir: &Path, out: &mut TcpStream) -> std::io::Result<()> {
    let prefix = param(req, "prefix").unwrap_or("");
    let delimiter = param(req, "delimiter").filter(|d| !d.is_empty());
    let max_keys: usize = param(req, "max-keys")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let url = param(req, "encoding-type") == Some("url");
    // The continuation token is the last key or prefix of the page before.
    let after = param(req, "continuation-token")
        .or(param(req, "start-after"))
        .unwrap_or("");
    let mut keys = candidates(bucket_dir, prefix, delimiter);
    keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (mut contents, mut prefixes, mut last, mut truncated) =
        (String::new(), String::new(), None, false);
    let mut count = 0;
    for (key, size, modified) in &keys {
        let rolled = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| &key[..prefix.len() + i + d.len()])
        });
        let entry = rolled.unwrap_or(key);
        if entry <= after || last.as_deref() == Some(entry) {
            continue;
        }
        if count == max_keys {
            truncated = true;
            break;
        }
        count += 1;
        last = Some(entry.to_owned());
        let shown = if url { encode(entry) } else { xml(entry) };
        match rolled {
            Some(_) => prefixes.push_str(&format!("<CommonPrefixes><Prefix>{shown}</Prefix></CommonPrefixes>")),
            None => contents.push_str(&format!(
                "<Contents><Key>{shown}</Key><LastModified>{}</LastModified><ETag>&quot;{}&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                iso8601(*modified),
                etag(*size, *modified)
            )),
        }
    }
    let token = match (&last, truncated) {
        (Some(last), true) => format!(
            "<NextContinuationToken>{}</NextContinuationToken>",
            xml(last)
        ),
        _ => String::new(),
    };
    let name = bucket_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{}</Name><Prefix>{}</Prefix>{}<KeyCount>{count}</KeyCount><MaxKeys>{max_keys}</MaxKeys>{}<IsTruncated>{truncated}</IsTruncated>{token}{}{contents}{prefixes}</ListBucketResult>",
        xml(name),
        if url { encode(prefix) } else { xml(prefix) },
        delimiter
            .map(|d| format!("<Delimiter>{}</Delimiter>", xml(d)))
            .unwrap_or_default(),
        if url {
            "<EncodingType>url</EncodingType>"
        } else {
            ""
        },
        param(req, "continuation-token")
            .map(|t| format!("<ContinuationToken>{}</ContinuationToken>", xml(t)))
            .unwrap_or_default(),
    );
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-amz-request-id: 0\r\n\r\n{body}",
        body.len()
    )
}

/// GetObject and HeadObject, whole or one byte range.
/// Writes the time of the first GetObject where `S3_FILE_SERVER_FIRST_GET` says, once.
fn note_first_get() {
    static NOTED: std::sync::Once = std::sync::Once::new();
    NOTED.call_once(|| {
        if let Some(file) = std::env::var_os("S3_FILE_SERVER_FIRST_GET") {
            let now = std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            if let Err(e) = std::fs::write(&file, format!("{now:.6}\n")) {
                eprintln!("s3_file_server: cannot write the first GET's time: {e}");
            }
        }
    });
}

fn object(req: &Request, path: &Path, out: &mut TcpStream) -> std::io::Result<()> {
    if req.method == "GET" {
        note_first_get();
    }
    let Ok(mut file) = File::open(path) else {
        return error(out, "404 Not Found", "NoSuchKey", req);
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return error(out, "404 Not Found", "NoSuchKey", req);
    }
    let (size, modified) = (meta.len(), mtime(&meta));
    let range = req.range.as_deref().and_then(|r| byte_range(r, size));
    if req.range.is_some() && range.is_none() {
        return error(
            out,
            "416 Requested Range Not Satisfiable",
            "InvalidRange",
            req,
        );
    }
    let (status, start, len, content_range) = match range {
        Some((a, b)) => (
            "206 Partial Content",
            a,
            b - a + 1,
            format!("Content-Range: bytes {a}-{b}/{size}\r\n"),
        ),
        None => ("200 OK", 0, size, String::new()),
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n{content_range}Accept-Ranges: bytes\r\nETag: \"{}\"\r\nLast-Modified: {}\r\nx-amz-request-id: 0\r\n\r\n",
        etag(size, modified),
        http_date(modified)
    )?;
    if req.method == "GET" {
        file.seek(SeekFrom::Start(start))?;
        let sent = std::io::copy(&mut file.take(len), out)?;
        if sent != len {
            // The file shrank while being sent: cut the connection, as a broken body.
            return Err(std::io::Error::other("file shorter than its length"));
        }
    }
    Ok(())
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`, as (first, last) byte within `size`.
fn byte_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", n) => (size.checked_sub(n.parse().ok()?)?, size.checked_sub(1)?),
        (a, "") => (a.parse().ok()?, size.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?),
        ),
    };
    (first <= last && first < size).then_some((first, last))
}

fn error(out: &mut TcpStream, status: &str, code: &str, req: &Request) -> std::io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{code}</Message><Resource>{}</Resource><RequestId>0</RequestId></Error>",
        xml(&req.path)
    );
    let body = if req.method == "HEAD" {
        String::new()
    } else {
        body
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-amz-request-id: 0\r\n\r\n{body}",
        body.len()
    )
}

fn mtime(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

fn etag(size: u64, modified: i64) -> String {
    format!("{size:016x}{modified:016x}")
}

fn iso8601(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

fn http_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// URL encoding of keys and prefixes for `encoding-type=url`: all but the unreserved
/// characters and `/`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-decoding of a path or query part; in a query `+` is also a space.
fn decode(s: &str, query: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'+', _) if query => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
