//! The FOCI client list: loading it (embedded, a CSV file or an https URL), validating it, and
//! registering it as the table `foci_clients(client_id, application_name)`.

use std::path::Path;
use std::time::Duration;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The Secureworks list as shipped in `data/foci_clients.csv`.
pub const EMBEDDED_CSV: &str = include_str!("../data/foci_clients.csv");

/// A download larger than this is not a client list.
const MAX_DOWNLOAD_BYTES: u64 = 1 << 20;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the list comes from: `embedded`, a local path or an `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FociSource {
    Embedded,
    File(String),
    Url(String),
}

impl FociSource {
    /// Reads the `--foci` value. Plain `http://` is refused: the list decides what is hunted.
    pub fn parse(text: &str) -> Result<FociSource> {
        if text == "embedded" {
            Ok(FociSource::Embedded)
        } else if text.starts_with("https://") {
            Ok(FociSource::Url(text.to_string()))
        } else if text.contains("://") {
            Err(Error::Foci { source_name: text.to_string(), message: "only https:// URLs are allowed".into() })
        } else {
            Ok(FociSource::File(text.to_string()))
        }
    }

    fn name(&self) -> String {
        match self {
            FociSource::Embedded => "embedded".to_string(),
            FociSource::File(path) => path.clone(),
            FociSource::Url(url) => url.clone(),
        }
    }
}

/// One family client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FociClient {
    pub client_id: String,
    pub application_name: String,
}

/// Loads and validates the list. Any problem is an error naming the source; there is no
/// fallback to the embedded list, so a hunt never runs on a list the user did not ask for.
pub async fn load(source: &FociSource) -> Result<Vec<FociClient>> {
    let text = match source {
        FociSource::Embedded => EMBEDDED_CSV.to_string(),
        FociSource::File(path) => std::fs::read_to_string(path).map_err(|e| Error::Foci {
            source_name: path.clone(),
            message: e.to_string(),
        })?,
        FociSource::Url(url) => download(url).await?,
    };
    parse_csv(&text).map_err(|message| Error::Foci { source_name: source.name(), message })
}

async fn download(url: &str) -> Result<String> {
    let fail = |message: String| Error::Foci { source_name: url.to_string(), message };
    let client = reqwest::Client::builder()
        .timeout(DOWNLOAD_TIMEOUT)
        .https_only(true)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut response = client.get(url).send().await.map_err(|e| fail(format!("download failed: {e}")))?;
    if !response.status().is_success() {
        return Err(fail(format!("download failed: HTTP {}", response.status())));
    }
    if response.content_length().is_some_and(|n| n > MAX_DOWNLOAD_BYTES) {
        return Err(fail(format!("larger than {MAX_DOWNLOAD_BYTES} bytes")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(format!("download failed: {e}")))? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_DOWNLOAD_BYTES {
            return Err(fail(format!("larger than {MAX_DOWNLOAD_BYTES} bytes")));
        }
    }
    String::from_utf8(body).map_err(|_| fail("not UTF-8 text".into()))
}

/// Parses CSV text with a header row. As the rule's `externaldata` maps columns by position,
/// the first column is the client id whatever its header says; a second column, if any, is
/// the application name.
pub fn parse_csv(text: &str) -> std::result::Result<Vec<FociClient>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let head = text.trim_start().get(..256.min(text.trim_start().len())).unwrap_or("").to_ascii_lowercase();
    if head.starts_with('<') || head.contains("<html") {
        return Err("this is an HTML page, not a CSV list of client ids".into());
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let mut clients = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let id = record.get(0).unwrap_or("").trim();
        if id.is_empty() && record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if !is_guid(id) {
            return Err(format!("line {line}: client id {id:?} is not a GUID"));
        }
        clients.push(FociClient {
            client_id: id.to_string(),
            application_name: record.get(1).unwrap_or("").trim().to_string(),
        });
    }
    if clients.is_empty() {
        return Err("the list holds no client ids".into());
    }
    Ok(clients)
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Writes the list to `dir/foci_clients.csv` and registers it as `foci_clients`. The table is
/// file-backed so that a plan using it can be shipped to other executors as it is.
pub async fn register(ctx: &SessionContext, clients: &[FociClient], dir: &Path) -> Result<()> {
    let path = dir.join("foci_clients.csv");
    let mut writer = csv::Writer::from_path(&path).map_err(|e| Error::Io { path: path.clone(), source: e.into() })?;
    let io_err = |e: csv::Error| Error::Io { path: path.clone(), source: e.into() };
    writer.write_record(["client_id", "application_name"]).map_err(io_err)?;
    for client in clients {
        writer.write_record([&client.client_id, &client.application_name]).map_err(io_err)?;
    }
    writer.flush().map_err(|e| Error::Io { path: path.clone(), source: e })?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("client_id", DataType::Utf8, false),
        Field::new("application_name", DataType::Utf8, true),
    ]));
    let url = ListingTableUrl::parse(path.to_string_lossy()).map_err(Error::engine("FOCI list"))?;
    let options = ListingOptions::new(Arc::new(CsvFormat::default().with_has_header(true)))
        .with_file_extension(".csv");
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
    let table = ListingTable::try_new(config).map_err(Error::engine("FOCI list"))?;
    ctx.register_table("foci_clients", Arc::new(table)).map_err(Error::engine("FOCI list"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_is_the_37_secureworks_clients() {
        let clients = parse_csv(EMBEDDED_CSV).unwrap();
        assert_eq!(clients.len(), 37);
        assert!(clients.iter().any(|c| c.client_id == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
            && c.application_name == "Microsoft Azure CLI"));
    }

    #[test]
    fn first_column_is_the_id_whatever_its_header() {
        let clients = parse_csv("id\nABCDEF01-2345-6789-abcd-ef0123456789\n").unwrap();
        assert_eq!(clients[0].client_id, "ABCDEF01-2345-6789-abcd-ef0123456789");
        assert_eq!(clients[0].application_name, "");
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(parse_csv("client_id,application_name\n").unwrap_err().contains("no client ids"));
        assert!(parse_csv("client_id\nnot-a-guid\n").unwrap_err().contains("line 2"));
        assert!(parse_csv("<!DOCTYPE html><html><body>404</body></html>").unwrap_err().contains("HTML"));
        assert!(FociSource::parse("http://example.invalid/list.csv").is_err());
    }

    #[test]
    fn guid_shape() {
        assert!(is_guid("00000002-0000-0000-c000-000000000000"));
        assert!(!is_guid("00000002-0000-0000-c000-00000000000"));
        assert!(!is_guid("0000000g-0000-0000-c000-000000000000"));
        assert!(!is_guid("{00000002-0000-0000-c000-000000000000}"));
    }
}
