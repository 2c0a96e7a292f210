//! Object stores against real servers on loopback: Azurite for Azure Blob (`az://`), moto's
//! server for S3 (`s3://`) and a web server that answers range requests for plain `http://`
//! files. A generated lake is uploaded with the clouds' own SDKs, hunted in place, converted
//! store-to-store and written back; every answer must equal the local run.
//!
//! The servers are started here, each test its own on a free port. `.ci/run` installs them and
//! sets FOCI_HUNT_AZURITE (the `azurite-blob` executable) and FOCI_HUNT_SERVICES_PYTHON (a
//! Python with moto[server], boto3, azure-storage-blob and rangehttpserver). Without them these
//! tests say so and pass, except under CI, where a missing server is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const HELPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/services/objects.py");
const SINCE: &str = "2026-11-02T00:00:00Z";
const UNTIL: &str = "2026-11-03T00:00:00Z";

fn tool(variable: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("CI").is_some() => panic!("{variable} is not set: .ci/run installs the object-store servers"),
        None => {
            eprintln!("{variable} is not set: object-store tests against a real server did not run");
            None
        }
    }
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(mut command: Command, port: u16, data: tempfile::TempDir) -> Server {
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start server");
    let server = Server { child, port, _data: data };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

#[derive(Clone, Copy, PartialEq)]
enum Cloud {
    Azure,
    S3,
}

impl Cloud {
    fn name(self) -> &'static str {
        match self {
            Cloud::Azure => "azure",
            Cloud::S3 => "s3",
        }
    }

    fn scheme(self) -> &'static str {
        match self {
            Cloud::Azure => "az",
            Cloud::S3 => "s3",
        }
    }

    fn start(self) -> Option<(Server, PathBuf)> {
        let python = tool("FOCI_HUNT_SERVICES_PYTHON")?;
        let port = free_port();
        let data = tempfile::tempdir().unwrap();
        let command = match self {
            Cloud::Azure => {
                let azurite = tool("FOCI_HUNT_AZURITE")?;
                let mut command = Command::new(azurite);
                command
                    .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--location"])
                    .arg(data.path())
                    .args(["--silent", "--skipApiVersionCheck"]);
                command
            }
            Cloud::S3 => {
                let mut command = Command::new(python.with_file_name("moto_server"));
                command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                command
            }
        };
        Some((start(command, port, data), python))
    }

    /// The standard environment variables foci-hunt reads its credentials from.
    fn environment(self, port: u16) -> Vec<(&'static str, String)> {
        match self {
            Cloud::Azure => vec![
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", format!("http://127.0.0.1:{port}")),
            ],
            Cloud::S3 => vec![
                ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
                ("AWS_ALLOW_HTTP", "true".into()),
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test-secret-never-printed".into()),
                ("AWS_REGION", "us-east-1".into()),
            ],
        }
    }
}

fn helper(python: &Path, cloud: Cloud, port: u16, args: &[&str]) -> Vec<u8> {
    let output = Command::new(python).arg(HELPER).args([cloud.name(), &port.to_string()]).args(args).output().unwrap();
    assert!(output.status.success(), "helper {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

fn foci_hunt(env: &[(&'static str, String)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_foci-hunt"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key.starts_with("AZURE_") || key.starts_with("AZURITE_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str()))).args(args).output().unwrap()
}

fn ok(output: Output) -> (String, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

/// A small generated lake in the diagnostic export's hourly layout.
fn local_lake(dir: &Path) -> PathBuf {
    let out = dir.join("lake");
    let args = ["generate", "--rows", "3000", "--days", "3", "--output-format", "ndjson", "--shape", "diagnostic"];
    let generated = Command::new(env!("CARGO_BIN_EXE_foci-hunt"))
        .args(args)
        .args(["--partition-by", "hour", "--attacks", "20", "--lookalikes", "5", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    out
}

fn hunt_in_place(cloud: Cloud) {
    let Some((server, python)) = cloud.start() else { return };
    let env = cloud.environment(server.port);
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path());
    let lake_text = lake.display().to_string();
    helper(&python, cloud, server.port, &["lake", "create"]);
    helper(&python, cloud, server.port, &["lake", "upload", &lake_text, "exports"]);
    let remote = format!("{}://lake/exports/", cloud.scheme());

    let (expected, _) = ok(foci_hunt(&[], &["hunt", "--input", &lake_text, "--output-format", "csv"]));
    assert!(expected.lines().count() > 5, "{expected}");
    let (found, summary) = ok(foci_hunt(&env, &["hunt", "--input", &remote, "--output-format", "csv"]));
    assert_eq!(found, expected, "hunting {remote} in place");
    assert!(!summary.contains("test-secret-never-printed"));

    let window = ["--since", SINCE, "--until", UNTIL, "--output-format", "csv"];
    let (expected, _) = ok(foci_hunt(&[], &[&["hunt", "--input", &lake_text][..], &window].concat()));
    let (found, summary) = ok(foci_hunt(&env, &[&["hunt", "--input", &remote][..], &window].concat()));
    assert_eq!(found, expected, "windowed");
    assert!(summary.contains("outside the window not opened"), "{summary}");

    // Store to store: convert in place, hunt the converted lake by a glob, write alerts back.
    let converted = format!("{}://lake/converted", cloud.scheme());
    ok(foci_hunt(&env, &["convert", "--input", &remote, "--output", &converted, "--quiet"]));
    let glob = format!("{converted}/date=*/*.parquet");
    let (expected, _) = ok(foci_hunt(&[], &["hunt", "--input", &lake_text, "--output-format", "csv"]));
    let (found, _) = ok(foci_hunt(&env, &["hunt", "--input", &glob, "--output-format", "csv"]));
    assert_eq!(found, expected, "hunting the converted lake at {glob}");
    let alerts_url = format!("{}://lake/results/alerts.csv", cloud.scheme());
    ok(foci_hunt(&env, &["hunt", "--input", &glob, "--output", &alerts_url, "--quiet"]));
    let written = helper(&python, cloud, server.port, &["lake", "get", "results/alerts.csv"]);
    assert_eq!(String::from_utf8(written).unwrap(), expected);

    // A container that does not exist is one line, quickly.
    let started = Instant::now();
    let missing = foci_hunt(&env, &["hunt", "--input", &format!("{}://no-such-container/x/", cloud.scheme())]);
    let stderr = String::from_utf8_lossy(&missing.stderr).to_string();
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-container"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[test]
fn azure_blob_lake_hunted_in_place() {
    hunt_in_place(Cloud::Azure);
}

#[test]
fn s3_lake_hunted_in_place() {
    hunt_in_place(Cloud::S3);
}

#[test]
fn a_refused_azure_key_is_one_line_without_the_key() {
    let Some((server, python)) = Cloud::Azure.start() else { return };
    helper(&python, Cloud::Azure, server.port, &["lake", "create"]);
    let wrong_key = "d3Jvbmcta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk";
    let env = vec![
        ("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1".to_string()),
        ("AZURE_STORAGE_ACCOUNT_KEY", wrong_key.to_string()),
        ("AZURE_STORAGE_USE_EMULATOR", "true".to_string()),
        ("AZURITE_BLOB_STORAGE_URL", format!("http://127.0.0.1:{}", server.port)),
    ];
    let output = foci_hunt(&env, &["hunt", "--input", "az://lake/exports/"]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains(wrong_key), "{stderr}");
    assert!(stderr.contains("az://lake/exports"), "{stderr}");
}

/// Files behind a plain web server (with range requests, as object stores and CDNs serve them).
#[test]
fn plain_http_files_are_hunted_where_they_lie() {
    let Some(python) = tool("FOCI_HUNT_SERVICES_PYTHON") else { return };
    let served = tempfile::tempdir().unwrap();
    for (format, folder) in [("parquet", "pq"), ("ndjson", "nd")] {
        let out = served.path().join(folder);
        let args = ["generate", "--rows", "2000", "--days", "2", "--files", "2", "--attacks", "10", "--quiet", "--output-format", format];
        let generated = Command::new(env!("CARGO_BIN_EXE_foci-hunt")).args(args).arg("--out").arg(&out).output().unwrap();
        assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    }
    let mut names: Vec<String> = Vec::new();
    for folder in ["pq", "nd"] {
        for entry in std::fs::read_dir(served.path().join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.starts_with("part-") {
                names.push(format!("{folder}/{name}"));
            }
        }
    }
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");

    let root = served.path().to_path_buf();
    let port = free_port();
    let mut command = Command::new(&python);
    command.args(["-m", "RangeHTTPServer", &port.to_string(), "--bind", "127.0.0.1"]).current_dir(&root);
    let server = start(command, port, served);

    let inputs = |base: &str| -> Vec<String> { names.iter().flat_map(|name| ["--input".to_string(), format!("{base}/{name}")]).collect() };
    let hunt = |base: &str| {
        let mut args = vec!["hunt".to_string(), "--output-format".into(), "csv".into()];
        args.extend(inputs(base));
        ok(foci_hunt(&[], &args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let (expected, _) = hunt(&root.display().to_string());
    assert!(expected.lines().count() > 2, "{expected}");
    let (found, summary) = hunt(&format!("http://127.0.0.1:{}", server.port));
    assert_eq!(found, expected);
    assert!(summary.contains("4 files"), "{summary}");

    // A web server without WebDAV cannot list a folder: one line that says so.
    let folder = foci_hunt(&[], &["hunt", "--input", &format!("http://127.0.0.1:{}/pq/", server.port)]);
    let stderr = String::from_utf8_lossy(&folder.stderr).to_string();
    assert_eq!(folder.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("does not list folders"), "{stderr}");
}
