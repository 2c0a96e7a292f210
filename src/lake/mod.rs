//! Sign-in sources ("the lake"): resolving `--input` values (paths, folders, globs, object-store
//! URLs) to files, leaving out files whose folders lie outside the hunt window, and registering
//! the canonical view `signin_logs` over every file whatever its format and export shape.
//!
//! - [`store`]: object stores from URLs and the environment; opening any file as a reader.
//! - [`partitions`]: the time span a folder names, and the window that prunes by it.
//! - [`shapes`]: the export shapes and their SQL mappings (`sql/shapes/*.sql`).
//! - [`json_text`], [`raw_json`] (with [`fast_json`]), [`json_scan`]: JSON files as texts, read
//!   lazily, decoded into a shape's raw columns; [`value_filter`]: the filters the engine pushes into those scans;
//!   [`fingerprints`]: each record's session id, kept so that later scans skip other sessions.
//! - [`timestamps`]: the time text forms exports use.
//! - [`bad_records`]: `--on-bad-record`, `--bad-records`, and read counts.
//! - [`register`]: the tables and views a workspace queries.

pub mod bad_records;
pub mod fast_json;
pub mod fingerprints;
pub mod json_scan;
pub mod json_text;
pub mod partitions;
pub mod raw_json;
pub mod register;
pub mod shapes;
pub mod store;
pub mod timestamps;
pub mod value_filter;

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectMeta;

use crate::error::{Error, Result};
pub use bad_records::{BadRecordPolicy, BadRecords};
pub use partitions::Window;
pub use shapes::ShapeChoice;

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
    "Level",
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

/// Splits `location` at the last `/` before its first glob character: the folder to list, and
/// the pattern the paths below it must match.
fn split_glob(location: &str) -> Option<(&str, &str)> {
    let first = location.find(['*', '?', '['])?;
    match location[..first].rfind('/') {
        Some(slash) => Some(location.split_at(slash + 1)),
        None => Some(("./", location)),
    }
}

/// How the inputs are read.
#[derive(Debug, Clone, Default)]
pub struct LakeOptions {
    pub format: InputFormat,
    pub shape: ShapeChoice,
    pub on_bad_record: BadRecordPolicy,
    /// Where skipped records are written (with `--on-bad-record skip`).
    pub bad_records: Option<PathBuf>,
    /// Files whose folders lie wholly outside it are never opened.
    pub window: Window,
}

/// The resolved inputs of a run.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub files: Vec<SourceFile>,
    /// Files found in folders whose names match no known format (reported, never read).
    pub skipped: Vec<String>,
    /// Files left unopened because their folders lie outside the window.
    pub pruned: Vec<SourceFile>,
}

impl Inputs {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn pruned_bytes(&self) -> u64 {
        self.pruned.iter().map(|f| f.size).sum()
    }
}

/// Resolves every `--input` (file, folder, glob or URL) to the files it names, registering the
/// object stores the URLs need, and sets aside the files the window excludes by their folders.
pub async fn resolve(ctx: &SessionContext, inputs: &[String], options: &LakeOptions) -> Result<Inputs> {
    let mut files = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    let mut pruned = BTreeSet::new();
    let state = ctx.state();
    for input in inputs {
        let shown = store::redact(input);
        let is_glob = input.contains(['*', '?', '[']);
        let remote = store::is_remote(input);
        let fail = |message: String| {
            let message = if remote { store::describe_error(&message) } else { crate::error::one_line(&message) };
            Error::Input { input: shown.clone(), message }
        };
        let location = if remote { store::register_for(ctx, input)? } else { input.clone() };
        if !is_glob && !remote && !input.starts_with("file:") {
            std::fs::metadata(input).map_err(|e| fail(e.to_string()))?;
        }
        // Globs are matched here, on the whole path below the listed folder: DataFusion's own
        // matching skips `key=value` folders, so `date=*/*.parquet` would match nothing.
        let (listed_location, pattern) = match split_glob(&location) {
            Some((folder, pattern)) => (folder.to_string(), Some(pattern)),
            None => (location.clone(), None),
        };
        let pattern = pattern
            .map(|p| glob::Pattern::new(p).map_err(|e| fail(format!("bad glob {p:?}: {e}"))))
            .transpose()?;
        let table_url = ListingTableUrl::parse(&listed_location).map_err(|e| fail(e.to_string()))?;
        let store = ctx.runtime_env().object_store(table_url.object_store()).map_err(|e| fail(e.to_string()))?;
        let store_url = table_url.object_store();
        let store_prefix = store_url.as_str().strip_suffix('/').unwrap_or(store_url.as_str()).to_string();
        let folder = table_url.prefix().as_ref().to_string();
        let mut listed: Vec<ObjectMeta> = table_url
            .list_all_files(&state, store.as_ref(), "")
            .await
            .map_err(|e| fail(e.to_string()))?
            .try_collect()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if let Some(pattern) = &pattern {
            let options = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
            listed.retain(|meta| {
                let below = meta.location.as_ref().strip_prefix(folder.as_str()).unwrap_or(meta.location.as_ref());
                pattern.matches_with(below.trim_start_matches('/'), options)
            });
        }
        let named_directly = listed.len() == 1 && !is_glob && !table_url.is_collection();
        let mut found = 0;
        for meta in listed {
            let url = format!("{store_prefix}/{}", meta.location);
            // A generated lake's answer key is not a sign-in file.
            if !named_directly && meta.location.filename() == Some(crate::generate::GROUND_TRUTH_FILE) {
                skipped.insert(url);
                continue;
            }
            match FileKind::forced(options.format, meta.location.as_ref()) {
                Some(kind) => {
                    found += 1;
                    let file = SourceFile { url, kind, size: meta.size };
                    let outside = partitions::folder_span(meta.location.as_ref()).is_some_and(|span| options.window.excludes(span));
                    if outside {
                        pruned.insert(file);
                    } else {
                        files.insert(file);
                    }
                }
                None if named_directly => {
                    return Err(Error::Format {
                        path: shown.clone(),
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
    let files: Vec<SourceFile> = files.into_iter().collect();
    let pruned = pruned.into_iter().filter(|f| !files.contains(f)).collect();
    Ok(Inputs { files, skipped: skipped.into_iter().collect(), pruned })
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
