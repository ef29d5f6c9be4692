//! A real S3-compatible server on loopback (moto's server mode, started through
//! scripts/s3-test-server.py), buckets filled with the SDK, and runs of the binary against it
//! with dummy credentials.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use super::repo_root;

/// The server, shared by every test of the run. It holds the write end of the server's
/// stdin: when this test process exits, the pipe closes and the server stops.
pub struct S3Server {
    pub endpoint: String,
    _child: Child,
}

static SERVER: OnceLock<S3Server> = OnceLock::new();

pub fn server() -> &'static S3Server {
    SERVER.get_or_init(|| {
        let mut child = Command::new("python3")
            .arg(repo_root().join("scripts/s3-test-server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 scripts/s3-test-server.py starts (moto[server] from scripts/requirements.txt)");
        let stdout = child.stdout.take().expect("server stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("server prints its endpoint");
        let endpoint = first.trim().to_owned();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "the S3 test server did not start: {first:?}"
        );
        S3Server {
            endpoint,
            _child: child,
        }
    })
}

/// Dummy credentials and a region, isolated from any AWS configuration on the machine;
/// instance metadata is off so that nothing leaves the loopback.
pub const TEST_ENV: [(&str, &str); 6] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_CONFIG_FILE", "/nonexistent/trailsift-test/config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/trailsift-test/credentials",
    ),
];

/// Variables that would point the SDK elsewhere: removed from the binary's environment.
pub const CLEARED_ENV: [&str; 5] = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_DEFAULT_REGION",
];

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn client(endpoint: &str) -> Client {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests");
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(creds)
        .build();
    Client::from_conf(config)
}

/// Creates `bucket` and uploads every file under `dir` as `prefix` + its path below `dir`.
/// Returns the number of objects uploaded.
pub fn upload_dir(bucket: &str, dir: &Path, prefix: &str) -> usize {
    let mut files: Vec<(String, std::path::PathBuf)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("below dir")
                .to_string_lossy()
                .replace('\\', "/");
            (format!("{prefix}{rel}"), e.path().to_path_buf())
        })
        .collect();
    files.sort();
    let n = files.len();
    let client = client(&server().endpoint);
    runtime().block_on(async move {
        client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in files.chunks(n.div_ceil(16).max(1)) {
            let chunk = chunk.to_vec();
            let client = client.clone();
            let bucket = bucket.to_owned();
            tasks.spawn(async move {
                for (key, path) in chunk {
                    let body = std::fs::read(&path).expect("read file");
                    client
                        .put_object()
                        .bucket(&bucket)
                        .key(&key)
                        .body(ByteStream::from(body))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("upload {key}: {e:?}"));
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("upload task");
        }
    });
    n
}

/// Puts one object with the given body into an existing bucket.
pub fn put(bucket: &str, key: &str, body: Vec<u8>) {
    let client = client(&server().endpoint);
    runtime().block_on(async move {
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("put object");
    });
}

/// `trailsift analyze URL --out OUT --no-progress --endpoint-url ENDPOINT EXTRA` with the
/// test credentials, ready to run or spawn.
pub fn analyze_command(url: &str, endpoint: &str, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsift"));
    for var in CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.envs(TEST_ENV)
        .arg("analyze")
        .arg(url)
        .arg("--out")
        .arg(out)
        .args(["--no-progress", "--endpoint-url", endpoint])
        .args(extra);
    cmd
}

/// [`analyze_command`], run to its end.
pub fn run_analyze(url: &str, endpoint: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    analyze_command(url, endpoint, out, extra)
        .output()
        .expect("trailsift runs")
}

/// Like [`run_analyze`], and asserts success.
pub fn analyze_s3(url: &str, endpoint: &str, out: &Path, extra: &[&str]) -> String {
    let output = run_analyze(url, endpoint, out, extra);
    assert!(
        output.status.success(),
        "trailsift analyze {url} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("utf-8 report")
}

/// The body of one object.
pub fn get(bucket: &str, key: &str) -> Vec<u8> {
    let client = client(&server().endpoint);
    runtime().block_on(async move {
        let out = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get s3://{bucket}/{key}: {e:?}"));
        out.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .to_vec()
    })
}

/// The keys under `prefix`, sorted.
pub fn keys(bucket: &str, prefix: &str) -> Vec<String> {
    let client = client(&server().endpoint);
    runtime().block_on(async move {
        let out = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await
            .expect("list");
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    })
}

/// Creates an empty bucket.
pub fn create_bucket(bucket: &str) {
    let client = client(&server().endpoint);
    runtime().block_on(async move {
        client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
    });
}
