//! What happens to a record that cannot be read (`--on-bad-record`, `--bad-records`), and the
//! counts of what the JSON readers read, shared by every scan of a run.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::error::{Error, Result};

/// `--on-bad-record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BadRecordPolicy {
    /// The first bad record stops the run, naming its file and line.
    #[default]
    Fail,
    /// Skip it, count it, and write it to `--bad-records` when given.
    Skip,
}

/// The policy, the optional file skipped records go to, and how many were skipped.
#[derive(Debug)]
pub struct BadRecords {
    policy: BadRecordPolicy,
    sink: Option<(PathBuf, Mutex<BufWriter<File>>)>,
    skipped: AtomicU64,
    /// (file, line) of every record skipped: a file read by two scans reports each once.
    seen: Mutex<BTreeSet<(String, u64)>>,
}

impl BadRecords {
    /// `sink` is created now (and emptied), so that a bad path fails before any input is read.
    pub fn new(policy: BadRecordPolicy, sink: Option<&Path>) -> Result<BadRecords> {
        if sink.is_some() && policy == BadRecordPolicy::Fail {
            return Err(Error::Usage("--bad-records needs --on-bad-record skip".into()));
        }
        let sink = sink
            .map(|path| {
                File::create(path)
                    .map(|f| (path.to_path_buf(), Mutex::new(BufWriter::new(f))))
                    .map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
            })
            .transpose()?;
        Ok(BadRecords { policy, sink, skipped: AtomicU64::new(0), seen: Mutex::default() })
    }

    /// Handles one bad record: an error under `fail`; under `skip`, counted and written out.
    pub fn handle(&self, path: &str, line: u64, message: &str, raw: &[u8]) -> Result<()> {
        if self.policy == BadRecordPolicy::Fail {
            return Err(Error::NdjsonRecord { path: path.to_string(), line, message: message.to_string() });
        }
        let first_time = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert((path.to_string(), line));
        if !first_time {
            return Ok(());
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        if let Some((sink_path, sink)) = &self.sink {
            let entry = json!({"file": path, "line": line, "error": message, "record": String::from_utf8_lossy(raw)});
            let mut writer = sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Flushed per record: bad records are rare, and a run that fails later keeps them.
            writeln!(writer, "{entry}")
                .and_then(|()| writer.flush())
                .map_err(|e| Error::Io { path: sink_path.clone(), source: e })?;
        }
        Ok(())
    }

    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Where skipped records were written, if anywhere.
    pub fn sink_path(&self) -> Option<&Path> {
        self.sink.as_ref().map(|(p, _)| p.as_path())
    }
}

/// What the JSON readers have read, per file, across every scan of the run. A file scanned
/// twice (by two sides of a join) counts once, with its largest read.
#[derive(Debug, Default)]
pub struct ReadCounters {
    files: Mutex<BTreeMap<String, ReadCounts>>,
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    pub files_opened: u64,
    /// Bytes read from storage (compressed bytes for gzip files).
    pub bytes_read: u64,
    /// Records decoded into rows (bad records not included).
    pub records: u64,
}

impl ReadCounters {
    /// Records one read of `file` (finished or stopped early).
    pub fn record(&self, file: &str, bytes: u64, records: u64) {
        let mut files = self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = files.entry(file.to_string()).or_default();
        entry.files_opened = 1;
        entry.bytes_read = entry.bytes_read.max(bytes);
        entry.records = entry.records.max(records);
    }

    pub fn snapshot(&self) -> ReadCounts {
        let files = self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        files.values().fold(ReadCounts::default(), |sum, f| ReadCounts {
            files_opened: sum.files_opened + f.files_opened,
            bytes_read: sum.bytes_read + f.bytes_read,
            records: sum.records + f.records,
        })
    }

    /// The bytes read so far from `file`, if it was opened.
    pub fn bytes_read(&self, file: &str) -> Option<u64> {
        self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(file).map(|f| f.bytes_read)
    }

    /// The files read so far.
    pub fn files(&self) -> Vec<String> {
        self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).keys().cloned().collect()
    }
}
