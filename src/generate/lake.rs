//! Writing a generated lake: Parquet or NDJSON files, split by count, size or day, into a
//! staging folder that replaces the output folder only when everything is written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::shapes::{ExportShape, reshape};
use crate::error::{Error, Result};

/// The file format of a generated lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LakeFormat {
    Parquet,
    Ndjson,
}

impl LakeFormat {
    pub fn extension(self) -> &'static str {
        match self {
            LakeFormat::Parquet => "parquet",
            LakeFormat::Ndjson => "ndjson",
        }
    }
}

/// Rows per Parquet row group: small enough for time pruning, large enough to compress well.
const ROW_GROUP_ROWS: usize = 65_536;

/// Counts the bytes written through it, for size-based splitting.
struct Counting {
    inner: BufWriter<File>,
    bytes: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum OpenFile {
    Parquet(ArrowWriter<Counting>),
    Ndjson(LineDelimitedWriter<Counting>),
    /// NDJSON in another export shape: rows are rewritten one by one.
    Reshaped(Counting),
}

impl OpenFile {
    fn bytes(&self) -> u64 {
        match self {
            OpenFile::Parquet(w) => w.inner().bytes + w.in_progress_size() as u64,
            OpenFile::Ndjson(w) => w.get_ref().bytes,
            OpenFile::Reshaped(w) => w.bytes,
        }
    }
}

/// Writes `batch` (Sentinel rows) as NDJSON records of `shape`.
fn write_reshaped(sink: &mut Counting, batch: &RecordBatch, shape: ExportShape) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut rows = LineDelimitedWriter::new(Vec::new());
    rows.write(batch)?;
    rows.finish()?;
    for line in rows.into_inner().split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let row: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)?;
        serde_json::to_writer(&mut *sink, &reshape(&row, shape))?;
        sink.write_all(b"\n")?;
    }
    Ok(())
}

/// An open lake: files are created under a staging folder beside the output folder.
pub struct LakeWriter {
    format: LakeFormat,
    shape: ExportShape,
    schema: SchemaRef,
    staging: PathBuf,
    out: PathBuf,
    current: Option<(PathBuf, OpenFile)>,
    files: Vec<PathBuf>,
}

impl LakeWriter {
    /// Checks `out` (absent, empty, or replaceable with `overwrite`) and opens a staging folder.
    pub fn create(out: &Path, format: LakeFormat, shape: ExportShape, schema: SchemaRef, overwrite: bool) -> Result<LakeWriter> {
        if format == LakeFormat::Parquet && shape != ExportShape::Sentinel {
            return Err(Error::Usage("the diagnostic and graph shapes are JSON exports: use --output-format ndjson".into()));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if out.exists() {
            let non_empty = std::fs::read_dir(out).map_err(io(out))?.next().is_some();
            if non_empty && !overwrite {
                return Err(Error::Usage(format!("{} exists and is not empty; use --overwrite to replace it", out.display())));
            }
        }
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "lake".into());
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(LakeWriter { format, shape, schema, staging, out: out.to_path_buf(), current: None, files: Vec::new() })
    }

    /// Bytes in the open file so far.
    pub fn current_bytes(&self) -> u64 {
        self.current.as_ref().map_or(0, |(_, f)| f.bytes())
    }

    pub fn has_open_file(&self) -> bool {
        self.current.is_some()
    }

    /// Closes the open file, if any, and opens `folder/NAME` (folder relative to the lake), where
    /// NAME is `name` or `part-NNNNN.ext`.
    pub fn start_file(&mut self, folder: &str, name: Option<&str>) -> Result<()> {
        self.finish_file()?;
        let dir = self.staging.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        let path = match name {
            Some(name) => dir.join(name),
            None => dir.join(format!("part-{:05}.{}", self.files.len(), self.format.extension())),
        };
        let file = File::create(&path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        let sink = Counting { inner: BufWriter::with_capacity(1 << 20, file), bytes: 0 };
        let writer = match self.format {
            LakeFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| self.output_error(&path, e))?))
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .set_statistics_enabled(EnabledStatistics::Page)
                    .build();
                OpenFile::Parquet(ArrowWriter::try_new(sink, self.schema.clone(), Some(props)).map_err(|e| self.output_error(&path, e))?)
            }
            LakeFormat::Ndjson if self.shape != ExportShape::Sentinel => OpenFile::Reshaped(sink),
            LakeFormat::Ndjson => OpenFile::Ndjson(LineDelimitedWriter::new(sink)),
        };
        self.current = Some((path, writer));
        Ok(())
    }

    fn output_error(&self, path: &Path, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Output { target: path.display().to_string(), source: Box::new(e) }
    }

    /// Appends `batch` to the open file.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let Some((path, file)) = &mut self.current else {
            return Err(Error::Usage("no open file to write to".into()));
        };
        let result = match file {
            OpenFile::Parquet(w) => w.write(batch).map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            OpenFile::Ndjson(w) => w.write(batch).map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            OpenFile::Reshaped(w) => write_reshaped(w, batch, self.shape),
        };
        result.map_err(|source| Error::Output { target: path.display().to_string(), source })
    }

    fn finish_file(&mut self) -> Result<()> {
        let Some((path, file)) = self.current.take() else { return Ok(()) };
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| Error::Output { target: path.display().to_string(), source };
        match file {
            OpenFile::Parquet(w) => {
                let mut sink = w.into_inner().map_err(|e| fail(Box::new(e)))?;
                sink.flush().map_err(|e| fail(Box::new(e)))?;
            }
            OpenFile::Ndjson(mut w) => {
                w.finish().map_err(|e| fail(Box::new(e)))?;
                w.into_inner().flush().map_err(|e| fail(Box::new(e)))?;
            }
            OpenFile::Reshaped(mut w) => w.flush().map_err(|e| fail(Box::new(e)))?,
        }
        self.files.push(path);
        Ok(())
    }

    /// Writes `name` at the lake's root (the ground truth).
    pub fn write_root_file(&self, name: &str, contents: &[u8]) -> Result<()> {
        let path = self.staging.join(name);
        std::fs::write(&path, contents).map_err(|e| Error::Io { path, source: e })
    }

    /// Closes the last file and puts the lake in place of the output folder.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        self.finish_file()?;
        if self.out.exists() {
            std::fs::remove_dir_all(&self.out).map_err(|e| Error::Io { path: self.out.clone(), source: e })?;
        }
        std::fs::rename(&self.staging, &self.out).map_err(|e| Error::Io { path: self.out.clone(), source: e })?;
        let files = self.files.iter().filter_map(|f| f.strip_prefix(&self.staging).ok().map(|rel| self.out.join(rel))).collect();
        self.staging = PathBuf::new();
        Ok(files)
    }
}

impl Drop for LakeWriter {
    /// A failed or interrupted run leaves nothing half-written behind.
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            self.current.take();
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}
