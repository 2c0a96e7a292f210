//! Sign-in sources: resolving `--input` values to files, checking them, and registering the
//! canonical view `signin_logs` over every input, whatever its format.
//!
//! Each format group (Parquet, NDJSON, gzip NDJSON) becomes one listing table over the exact
//! files found, with the canonical schema; missing columns read as NULL and the view turns them
//! into `''` (KQL strings are never null) and `TimeGenerated` into a UTC nanosecond timestamp.
//! The engine streams the files and reads only the columns a query uses.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::error::{Error, Result};

/// The time column; every other canonical column is text.
pub const TIME_COLUMN: &str = "TimeGenerated";

/// The text columns of `AADNonInteractiveUserSignInLogs` that the detections and outputs use.
pub const TEXT_COLUMNS: &[&str] = &[
    "AppDisplayName",
    "AppId",
    "AuthenticationProcessingDetails",
    "ClientAppUsed",
    "DeviceDetail",
    "HomeTenantId",
    "Identity",
    "IncomingTokenType",
    "IPAddress",
    "Location",
    "LocationDetails",
    "ResourceIdentity",
    "ResourceTenantId",
    "ResultDescription",
    "ResultType",
    "SessionId",
    "UserAgent",
    "UserPrincipalName",
];

/// `--input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// By file name: `.parquet`, or `.json`/`.ndjson`/`.jsonl`, each optionally `.gz`.
    #[default]
    Auto,
    Parquet,
    Ndjson,
}

/// How one file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Parquet,
    Ndjson,
    NdjsonGzip,
}

impl FileKind {
    /// The kind a file name says, if any.
    fn from_name(name: &str) -> Option<FileKind> {
        let lower = name.to_ascii_lowercase();
        let (stem, gzip) = match lower.strip_suffix(".gz") {
            Some(stem) => (stem, true),
            None => (lower.as_str(), false),
        };
        if stem.ends_with(".parquet") && !gzip {
            Some(FileKind::Parquet)
        } else if [".json", ".ndjson", ".jsonl"].iter().any(|ext| stem.ends_with(ext)) {
            Some(if gzip { FileKind::NdjsonGzip } else { FileKind::Ndjson })
        } else {
            None
        }
    }

    /// The kind of `name` under an explicit `--input-format`.
    fn forced(format: InputFormat, name: &str) -> Option<FileKind> {
        match format {
            InputFormat::Auto => FileKind::from_name(name),
            InputFormat::Parquet => Some(FileKind::Parquet),
            InputFormat::Ndjson if name.to_ascii_lowercase().ends_with(".gz") => Some(FileKind::NdjsonGzip),
            InputFormat::Ndjson => Some(FileKind::Ndjson),
        }
    }

    fn table_name(self) -> &'static str {
        match self {
            FileKind::Parquet => "signin_source_parquet",
            FileKind::Ndjson => "signin_source_ndjson",
            FileKind::NdjsonGzip => "signin_source_ndjson_gz",
        }
    }
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Where the engine reads it (`file:///…`, later `s3://…`).
    pub url: String,
    pub kind: FileKind,
    pub size: u64,
}

impl SourceFile {
    /// The name a user recognises: a local path, or the URL.
    pub fn display(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(u) if u.scheme() == "file" => u
                .to_file_path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| self.url.clone()),
            _ => self.url.clone(),
        }
    }
}

impl fmt::Display for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// The resolved inputs of a run.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: Vec<SourceFile>,
    /// Files found in folders whose names match no known format (reported, never read).
    pub skipped: Vec<String>,
}

impl Inputs {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Resolves every `--input` (file, folder, glob or URL) to the files it names.
pub async fn resolve(ctx: &SessionContext, inputs: &[String], format: InputFormat) -> Result<Inputs> {
    let mut files = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    let state = ctx.state();
    for input in inputs {
        let fail = |message: String| Error::Input { input: input.clone(), message };
        let is_glob = input.contains(['*', '?', '[']);
        let is_url = url::Url::parse(input).is_ok_and(|u| u.scheme().len() > 1);
        if !is_glob && !is_url {
            std::fs::metadata(input).map_err(|e| fail(e.to_string()))?;
        }
        let table_url = ListingTableUrl::parse(input).map_err(|e| fail(e.to_string()))?;
        let store = ctx.runtime_env().object_store(table_url.object_store()).map_err(|e| fail(e.to_string()))?;
        let store_prefix = table_url.object_store().as_str().trim_end_matches('/').to_string();
        let listed: Vec<ObjectMeta> = table_url
            .list_all_files(&state, store.as_ref(), "")
            .await
            .map_err(|e| fail(e.to_string()))?
            .try_collect()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let named_directly = listed.len() == 1 && !is_glob && !table_url.is_collection();
        let mut found = 0;
        for meta in listed {
            let url = format!("{store_prefix}/{}", meta.location);
            // A generated lake's answer key is not a sign-in file.
            if !named_directly && meta.location.filename() == Some(crate::generate::GROUND_TRUTH_FILE) {
                skipped.insert(url);
                continue;
            }
            match FileKind::forced(format, meta.location.as_ref()) {
                Some(kind) => {
                    found += 1;
                    files.insert(SourceFile { url, kind, size: meta.size });
                }
                None if named_directly => {
                    return Err(Error::Format {
                        path: input.clone(),
                        message: "cannot tell the format from the name (expected .parquet, .json, \
                                  .ndjson or .jsonl, optionally .gz); use --input-format"
                            .into(),
                    });
                }
                None => {
                    skipped.insert(url);
                }
            }
        }
        if found == 0 {
            return Err(fail("no sign-in files found (.parquet, .json, .ndjson, .jsonl, optionally .gz)".into()));
        }
    }
    Ok(Inputs { files: files.into_iter().collect(), skipped: skipped.into_iter().collect() })
}

/// The schema every source table declares. `TimeGenerated` is a UTC nanosecond timestamp:
/// Parquet timestamps of any unit and zone are cast on read, and NDJSON text is parsed while
/// each line is decoded, so every row read is checked even if no query looks at its time.
fn table_schema() -> SchemaRef {
    let mut fields = vec![Field::new(TIME_COLUMN, DataType::Timestamp(TimeUnit::Nanosecond, None), true)];
    fields.extend(TEXT_COLUMNS.iter().map(|c| Field::new(*c, DataType::Utf8, true)));
    Arc::new(Schema::new(fields))
}

/// Checks the inputs that can be checked cheaply (Parquet footers), then registers one table
/// per format and the view `signin_logs` over all of them.
pub async fn register(ctx: &SessionContext, inputs: &Inputs) -> Result<()> {
    let mut selects = Vec::new();
    for kind in [FileKind::Parquet, FileKind::Ndjson, FileKind::NdjsonGzip] {
        let files: Vec<&SourceFile> = inputs.files.iter().filter(|f| f.kind == kind).collect();
        if files.is_empty() {
            continue;
        }
        if kind == FileKind::Parquet {
            for file in &files {
                check_parquet_footer(ctx, file).await?;
            }
        }
        let format: Arc<dyn FileFormat> = match kind {
            FileKind::Parquet => Arc::new(ParquetFormat::default()),
            FileKind::Ndjson => Arc::new(JsonFormat::default()),
            FileKind::NdjsonGzip => Arc::new(JsonFormat::default().with_file_compression_type(FileCompressionType::GZIP)),
        };
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(&f.url))
            .collect::<datafusion::error::Result<Vec<_>>>()
            .map_err(Error::engine("listing inputs"))?;
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(ListingOptions::new(format).with_file_extension(""))
            .with_schema(table_schema());
        let table = ListingTable::try_new(config).map_err(Error::engine("listing inputs"))?;
        ctx.register_table(kind.table_name(), Arc::new(table)).map_err(Error::engine("listing inputs"))?;
        selects.push(canonical_select(kind.table_name()));
    }
    let view = format!("CREATE VIEW signin_logs AS {}", selects.join("\nUNION ALL\n"));
    ctx.sql(&view).await.map_err(Error::engine("creating signin_logs"))?;
    Ok(())
}

/// The SELECT that turns one source table into canonical rows: strings are never null.
fn canonical_select(table: &str) -> String {
    let mut columns = vec![format!("\"{TIME_COLUMN}\"")];
    columns.extend(TEXT_COLUMNS.iter().map(|c| format!("COALESCE(\"{c}\", '') AS \"{c}\"")));
    format!("SELECT {} FROM {table}", columns.join(", "))
}

/// Reads a Parquet footer and refuses a file that is not Parquet, or whose canonical columns
/// have types that cannot be read as the canonical ones.
async fn check_parquet_footer(ctx: &SessionContext, file: &SourceFile) -> Result<()> {
    let fail = |message: String| Error::Parquet { path: file.display(), message };
    let table_url = ListingTableUrl::parse(&file.url).map_err(|e| fail(e.to_string()))?;
    let store = ctx.runtime_env().object_store(table_url.object_store()).map_err(|e| fail(e.to_string()))?;
    let meta = store.head(table_url.prefix()).await.map_err(|e| fail(e.to_string()))?;
    let schema = ParquetFormat::default()
        .infer_schema(&ctx.state(), &store, &[meta])
        .await
        .map_err(|e| fail(format!("not a readable Parquet file: {e}")))?;
    for field in schema.fields() {
        let name = field.name().as_str();
        let usable = if name == TIME_COLUMN {
            matches!(field.data_type(), DataType::Timestamp(_, _))
        } else if TEXT_COLUMNS.contains(&name) {
            is_textual(field.data_type())
        } else {
            true
        };
        if !usable {
            let expected = if name == TIME_COLUMN { "a timestamp" } else { "text (JSON as text, as Sentinel stores it)" };
            return Err(fail(format!("column {name} has type {}; expected {expected}", field.data_type())));
        }
    }
    Ok(())
}

/// Types the engine can turn into text without losing meaning.
fn is_textual(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, value) => is_textual(value),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null | DataType::Boolean => true,
        // Some writers store text without the UTF-8 annotation.
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => true,
        t => t.is_integer() || t.is_floating(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(FileKind::from_name("a/b.parquet"), Some(FileKind::Parquet));
        assert_eq!(FileKind::from_name("PT1H.json"), Some(FileKind::Ndjson));
        assert_eq!(FileKind::from_name("x.JSONL"), Some(FileKind::Ndjson));
        assert_eq!(FileKind::from_name("x.ndjson.gz"), Some(FileKind::NdjsonGzip));
        assert_eq!(FileKind::from_name("x.csv"), None);
        assert_eq!(FileKind::from_name("x.parquet.gz"), None);
        assert_eq!(FileKind::forced(InputFormat::Ndjson, "x.log"), Some(FileKind::Ndjson));
        assert_eq!(FileKind::forced(InputFormat::Ndjson, "x.log.gz"), Some(FileKind::NdjsonGzip));
    }
}
