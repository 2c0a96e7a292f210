//! Object stores: turning `az://`, `abfss://`, Azure Blob `https://`, `s3://`, `gs://` and plain
//! `http(s)://` locations into registered stores configured from each cloud's standard
//! environment variables, and opening files from any of them as a plain reader.
//!
//! Credentials are read by the cloud builders from the environment and never shown: messages
//! name a location without its query string (where a SAS token would be).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionContext;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::path::Path as StorePath;
use object_store::{ClientOptions, ObjectMeta, ObjectStore, RetryConfig};
use url::Url;

use super::json_scan::{ByteCount, CountingReader};
use super::{FileKind, SourceFile};
use crate::error::{Error, Result};

/// `location` without its query string or password, for messages.
pub fn redact(location: &str) -> String {
    match Url::parse(location) {
        Ok(mut url) if url.scheme().len() > 1 => {
            url.set_query(None);
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => location.to_string(),
    }
}

/// A store's failure in one short line: the HTTP status and the service's error code and
/// message when it sent them, or what to set when no credential was found.
pub fn describe_error(message: &str) -> String {
    let between = |start: &str, end: &str| {
        let from = message.find(start)? + start.len();
        let to = message[from..].find(end)? + from;
        Some(message[from..to].trim().to_string())
    };
    if message.contains("169.254.169.254") || message.contains("Account must be specified") {
        return "no usable credentials: set the cloud's standard variables (AZURE_STORAGE_ACCOUNT_NAME with \
                AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
                GOOGLE_APPLICATION_CREDENTIALS)"
            .to_string();
    }
    let status = between("status code: ", ":").or_else(|| between("status code: ", "\n"));
    let code = between("<Code>", "</Code>");
    let detail = between("<Message>", "</Message>").map(|m| m.split("RequestId").next().unwrap_or_default().trim().to_string());
    // A plain web server lists a folder only if it speaks WebDAV.
    if message.contains("PROPFIND") {
        let refused = status.map(|s| format!(" ({s})")).unwrap_or_default();
        return format!(
            "this web server does not list folders{refused}: name each file, or use the store's own URL (az://, s3://, gs://)"
        );
    }
    match (status, code, detail) {
        (Some(status), Some(code), Some(detail)) => format!("{status}: {code}: {detail}"),
        (Some(status), Some(code), None) => format!("{status}: {code}"),
        (Some(status), None, _) => status,
        _ => crate::error::one_line(message),
    }
}

/// True for a location on a remote store (not a local path or `file://`).
pub fn is_remote(location: &str) -> bool {
    Url::parse(location).is_ok_and(|u| u.scheme().len() > 1 && u.scheme() != "file")
}

/// Few, quick retries: a missing container or a refused credential should be one clear line
/// within seconds, not minutes of backoff.
fn retry() -> RetryConfig {
    RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(20), ..RetryConfig::default() }
}

/// Registers the store `location` lives on, configured from the environment, and returns the
/// location as the engine should list it (Azure `https://` blob URLs become `az://`).
pub fn register_for(ctx: &SessionContext, location: &str) -> Result<String> {
    let fail = |message: String| Error::Input { input: redact(location), message };
    let url = Url::parse(location).map_err(|e| fail(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_string();
    let (engine_location, store): (String, Arc<dyn ObjectStore>) = match url.scheme() {
        "s3" | "s3a" => {
            let store = AmazonS3Builder::from_env().with_bucket_name(&host).with_retry(retry()).build();
            (location.to_string(), Arc::new(store.map_err(|e| fail(describe_error(&e.to_string())))?))
        }
        "gs" => {
            let store = GoogleCloudStorageBuilder::from_env().with_bucket_name(&host).with_retry(retry()).build();
            (location.to_string(), Arc::new(store.map_err(|e| fail(describe_error(&e.to_string())))?))
        }
        "az" | "abfs" | "abfss" => {
            let store = MicrosoftAzureBuilder::from_env().with_url(location).with_retry(retry()).build();
            (location.to_string(), Arc::new(store.map_err(|e| fail(describe_error(&e.to_string())))?))
        }
        "https" | "http" if is_azure_blob_host(&host) => {
            let account = host.split('.').next().unwrap_or_default().to_string();
            let mut segments = url.path_segments().map(|s| s.collect::<Vec<_>>()).unwrap_or_default();
            if segments.first().is_none_or(|c| c.is_empty()) {
                return Err(fail("an Azure Blob URL needs a container: https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH".into()));
            }
            let container = segments.remove(0).to_string();
            let mut builder = MicrosoftAzureBuilder::from_env().with_account(account).with_container_name(&container).with_retry(retry());
            // A SAS URL carries its token as the query string.
            if let Some(sas) = url.query().filter(|q| q.contains("sig=")) {
                builder = builder.with_config(object_store::azure::AzureConfigKey::SasKey, sas);
            }
            let store = builder.build();
            let rest = segments.join("/");
            (format!("az://{container}/{rest}"), Arc::new(store.map_err(|e| fail(e.to_string()))?))
        }
        "https" | "http" => {
            let origin = url.origin().ascii_serialization();
            // Plain http only when the URL says so (a file server on the local network).
            let client = ClientOptions::new().with_allow_http(url.scheme() == "http");
            let store = HttpBuilder::new().with_url(&origin).with_client_options(client).with_retry(retry()).build();
            (location.to_string(), Arc::new(store.map_err(|e| fail(describe_error(&e.to_string())))?))
        }
        "file" => return Ok(location.to_string()),
        other => {
            return Err(fail(format!("unsupported scheme {other}:// (use a path, file://, az://, abfss://, s3://, gs:// or https://)")));
        }
    };
    let engine_url = Url::parse(&engine_location).map_err(|e| fail(e.to_string()))?;
    ctx.runtime_env().register_object_store(&engine_url, store);
    Ok(engine_location)
}

fn is_azure_blob_host(host: &str) -> bool {
    host.ends_with(".blob.core.windows.net") || host.ends_with(".dfs.core.windows.net")
}

/// The store and path of `file`.
pub fn locate(file: &SourceFile, runtime: &RuntimeEnv) -> Result<(Arc<dyn ObjectStore>, StorePath)> {
    let fail = |message: String| Error::Format { path: file.display(), message };
    let url = Url::parse(&file.url).map_err(|e| fail(e.to_string()))?;
    let store_url = ObjectStoreUrl::parse(&url[..url::Position::BeforePath]).map_err(|e| fail(e.to_string()))?;
    let store = runtime.object_store(&store_url).map_err(|e| fail(e.to_string()))?;
    let path = StorePath::from_url_path(url.path()).map_err(|e| fail(e.to_string()))?;
    Ok((store, path))
}

/// Opens `file` for reading on a blocking thread (gzip decoded), with a count of the bytes
/// read from storage. Local files are read directly; remote ones stream in chunks.
pub fn open_blocking(file: &SourceFile, runtime: &RuntimeEnv, handle: &tokio::runtime::Handle) -> Result<(Box<dyn Read + Send>, ByteCount)> {
    let fail = |message: String| Error::Format { path: file.display(), message };
    let raw: Box<dyn Read + Send> = match Url::parse(&file.url) {
        Ok(url) if url.scheme() == "file" => {
            let path = url.to_file_path().map_err(|()| fail("not a local path".into()))?;
            Box::new(std::fs::File::open(&path).map_err(|e| fail(format!("cannot open: {e}")))?)
        }
        _ => {
            let (store, location) = locate(file, runtime)?;
            let meta = ObjectMeta { location, last_modified: chrono::Utc::now(), size: file.size, e_tag: None, version: None };
            let reader = object_store::buffered::BufReader::with_capacity(store, &meta, 4 << 20);
            Box::new(tokio_util::io::SyncIoBridge::new_with_handle(reader, handle.clone()))
        }
    };
    let (counted, bytes) = CountingReader::new(raw);
    let reader: Box<dyn Read + Send> = match file.kind {
        FileKind::NdjsonGzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        _ => Box::new(counted),
    };
    Ok((reader, bytes))
}

/// Copies the local file `from` to the object-store location `to` (multipart when large).
pub async fn upload(ctx: &SessionContext, from: &std::path::Path, to: &str) -> Result<()> {
    let fail = |message: String| Error::Output { target: redact(to), source: message.into() };
    let engine_location = register_for(ctx, to)?;
    let url = Url::parse(&engine_location).map_err(|e| fail(e.to_string()))?;
    let store_url = ObjectStoreUrl::parse(&url[..url::Position::BeforePath]).map_err(|e| fail(e.to_string()))?;
    let store = ctx.runtime_env().object_store(&store_url).map_err(|e| fail(e.to_string()))?;
    let path = StorePath::from_url_path(url.path()).map_err(|e| fail(e.to_string()))?;
    let mut source = tokio::fs::File::open(from).await.map_err(|e| Error::Io { path: from.to_path_buf(), source: e })?;
    let mut sink = object_store::buffered::BufWriter::new(store, path);
    tokio::io::copy(&mut source, &mut sink).await.map_err(|e| fail(e.to_string()))?;
    tokio::io::AsyncWriteExt::shutdown(&mut sink).await.map_err(|e| fail(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_shown_without_secrets() {
        assert_eq!(
            redact("https://acct.blob.core.windows.net/logs/x.json?sv=2024&sig=SECRET"),
            "https://acct.blob.core.windows.net/logs/x.json"
        );
        assert_eq!(redact("s3://user:pass@bucket/p"), "s3://user@bucket/p");
        assert_eq!(redact("logs/x.json"), "logs/x.json");
        assert!(is_remote("s3://b/p") && !is_remote("/tmp/x") && !is_remote("file:///tmp/x"));
    }

    #[test]
    fn store_errors_are_told_briefly() {
        let azure = "Generic MicrosoftAzure error: Error performing list request: Error performing GET http://127.0.0.1:1/a \
                     in 27ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?> <Error> \
                     <Code>ContainerNotFound</Code> <Message>The specified container does not exist. RequestId:b3 Time:x</Message> </Error>";
        assert_eq!(describe_error(azure), "404 Not Found: ContainerNotFound: The specified container does not exist.");
        let imds = "Error performing GET http://169.254.169.254/metadata/identity/oauth2/token - 403 Forbidden";
        assert!(describe_error(imds).starts_with("no usable credentials"));
        assert_eq!(describe_error("something\nelse"), "something else");
        let webdav = "Generic HTTP error: Error performing PROPFIND http://127.0.0.1:1/ in 1ms - \
                      Server returned non-2xx status code: 501 Not Implemented: ";
        assert_eq!(describe_error(webdav), "this web server does not list folders (501 Not Implemented): name each file, or use the store's own URL (az://, s3://, gs://)");
    }

    #[test]
    fn azure_blob_urls_are_listed_as_az() {
        let ctx = SessionContext::new();
        let listed = register_for(&ctx, "https://acct.blob.core.windows.net/logs/y=2026/*.json").unwrap();
        assert_eq!(listed, "az://logs/y=2026/*.json");
        let err = register_for(&ctx, "https://acct.blob.core.windows.net/").unwrap_err();
        assert!(err.to_string().contains("needs a container"), "{err}");
        assert!(register_for(&ctx, "ftp://x/y").unwrap_err().to_string().contains("unsupported scheme"));
        // abfss and az keep their own URLs: the store is registered under them.
        let abfss = "abfss://logs@acct.dfs.core.windows.net/insights/";
        assert_eq!(register_for(&ctx, abfss).unwrap(), abfss);
        let url = Url::parse(abfss).unwrap();
        assert!(ctx.runtime_env().object_store(ObjectStoreUrl::parse(&url[..url::Position::BeforePath]).unwrap()).is_ok());
        assert_eq!(register_for(&ctx, "s3://bucket/exports/").unwrap(), "s3://bucket/exports/");
    }
}
