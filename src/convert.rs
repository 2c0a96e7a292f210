//! Converting any input (every shape, format and store) to a canonical Sentinel-shape Parquet
//! lake: zstd, sorted by TimeGenerated, page statistics, row groups sized for time pruning,
//! optionally one `date=YYYY-MM-DD/` folder per day, so that repeated hunts over months read
//! only the days and row groups they need.
//!
//! The rows stream through a sort that spills to disk beyond the memory limit, and each output
//! file is written and closed in turn: memory does not grow with the input.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, TimestampNanosecondArray};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::physical_plan::execute_stream;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::lake::{LakeOptions, TEXT_COLUMNS, TIME_COLUMN, store};
use crate::session::EngineOptions;
use crate::workspace::Workspace;

/// Rows per row group: a few minutes of a large tenant, so that a window skips most of a day.
pub const ROW_GROUP_ROWS: usize = 131_072;
/// Rows per batch through the sort.
const SORT_BATCH_ROWS: usize = 1024;
/// Rows per file before a new one is started.
pub const FILE_ROWS: u64 = 8_000_000;

/// What to convert and where.
#[derive(Debug, Clone)]
pub struct ConvertConfig {
    pub inputs: Vec<String>,
    pub lake: LakeOptions,
    pub engine: EngineOptions,
    /// A local folder or an object-store URL.
    pub output: String,
    pub partition_by_day: bool,
    /// Replace a non-empty local output folder.
    pub overwrite: bool,
}

/// What a conversion did.
#[derive(Debug, Clone, Default)]
pub struct ConvertReport {
    pub rows: u64,
    /// Output files, as paths below the output folder.
    pub files: Vec<String>,
    pub bytes_written: u64,
    pub bad_records_skipped: u64,
    pub input_files: usize,
    pub input_bytes: u64,
}

/// Converts the inputs of `config`, with a progress bar on a terminal unless `quiet`.
pub async fn convert(config: &ConvertConfig, quiet: bool) -> Result<ConvertReport> {
    let remote = store::is_remote(&config.output);
    let staging = Staging::create(&config.output, remote, config.overwrite)?;
    let workspace = Workspace::open(&config.inputs, &config.lake, &FociSource::Embedded, &config.engine).await?;
    let mut columns = vec![format!("arrow_cast(\"{TIME_COLUMN}\", 'Timestamp(Nanosecond, Some(\"UTC\"))') AS \"{TIME_COLUMN}\"")];
    columns.extend(TEXT_COLUMNS.iter().map(|c| format!("\"{c}\"")));
    let sql = format!(
        "SELECT {} FROM signin_logs ORDER BY \"{TIME_COLUMN}\" NULLS LAST",
        columns.join(", ")
    );
    let context = "converting the inputs";
    // Canonical rows are kilobytes wide: smaller batches keep what the sort must hold at once
    // (one batch per spill file while merging) a small share of the memory limit.
    let batch_rows = format!("SET datafusion.execution.batch_size = {SORT_BATCH_ROWS}");
    workspace.ctx.sql(&batch_rows).await.map_err(Error::engine(context))?;
    let frame = workspace.ctx.sql(&sql).await.map_err(Error::engine(context))?;
    let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
    let mut stream = execute_stream(Arc::clone(&plan), workspace.ctx.task_ctx()).map_err(Error::engine(context))?;

    let probe = crate::progress::probe(&workspace, &plan);
    let progress = crate::progress::Progress::start(quiet, "convert", workspace.inputs.total_bytes(), probe);
    let mut writer = FileSeries::new(staging.dir.clone(), config.partition_by_day);
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| workspace.explain(Error::engine(context)(e)))?;
        rows += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    drop(progress);
    let files = writer.finish()?;
    let bytes_written = files.iter().filter_map(|f| std::fs::metadata(staging.dir.join(f)).ok()).map(|m| m.len()).sum();
    staging.commit(&workspace, &files).await?;
    Ok(ConvertReport {
        rows,
        files,
        bytes_written,
        bad_records_skipped: workspace.scans.bad_records.skipped(),
        input_files: workspace.inputs.files.len(),
        input_bytes: workspace.inputs.total_bytes(),
    })
}

/// Where files are written first: a staging folder beside a local output (renamed into place
/// at the end), or a temporary folder whose files are uploaded to a remote output.
struct Staging {
    dir: PathBuf,
    output: String,
    remote: bool,
    _temp: Option<tempfile::TempDir>,
}

impl Staging {
    fn create(output: &str, remote: bool, overwrite: bool) -> Result<Staging> {
        if remote {
            let temp = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
            return Ok(Staging { dir: temp.path().to_path_buf(), output: output.to_string(), remote, _temp: Some(temp) });
        }
        let out = Path::new(output);
        let non_empty = std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(false);
        if non_empty && !overwrite {
            return Err(Error::Usage(format!("{output} is not empty; use --overwrite to replace it")));
        }
        let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "lake".into());
        let dir = out.with_file_name(format!(".{name}.converting"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        Ok(Staging { dir, output: output.to_string(), remote, _temp: None })
    }

    async fn commit(self, workspace: &Workspace, files: &[String]) -> Result<()> {
        if self.remote {
            let base = self.output.trim_end_matches('/');
            for file in files {
                store::upload(&workspace.ctx, &self.dir.join(file), &format!("{base}/{file}")).await?;
            }
            return Ok(());
        }
        let out = Path::new(&self.output);
        if out.exists() {
            std::fs::remove_dir_all(out).map_err(|e| Error::Io { path: out.to_path_buf(), source: e })?;
        }
        std::fs::rename(&self.dir, out).map_err(|e| Error::Io { path: out.to_path_buf(), source: e })
    }
}

impl Drop for Staging {
    /// A failed conversion leaves no half-written lake behind.
    fn drop(&mut self) {
        if !self.remote && self.dir.exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Sorted batches written as a series of Parquet files, one open at a time.
struct FileSeries {
    root: PathBuf,
    by_day: bool,
    current: Option<OpenFile>,
    files: Vec<String>,
}

/// The day a row falls in: days since the epoch, or none for a row without a time (kept, in
/// a `date=unknown/` folder, which no window prunes).
type Day = Option<Option<i64>>;

struct OpenFile {
    day: Day,
    relative: String,
    rows: u64,
    writer: ArrowWriter<std::io::BufWriter<std::fs::File>>,
}

impl FileSeries {
    fn new(root: PathBuf, by_day: bool) -> FileSeries {
        FileSeries { root, by_day, current: None, files: Vec::new() }
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut start = 0;
        while start < batch.num_rows() {
            let times = times_of(batch)?;
            let day: Day = self.by_day.then(|| day_of(times, start));
            // Sorted input: the rows of one day are contiguous.
            let end = match day {
                Some(day) => (start..batch.num_rows()).find(|&i| day_of(times, i) != day).unwrap_or(batch.num_rows()),
                None => batch.num_rows(),
            };
            let slice = batch.slice(start, end - start);
            let needs_new = match &self.current {
                None => true,
                Some(open) => open.day != day || open.rows >= FILE_ROWS,
            };
            if needs_new {
                self.close()?;
                self.open(day, &slice)?;
            }
            if let Some(open) = &mut self.current {
                open.writer.write(&slice).map_err(|e| output_error(&self.root.join(&open.relative), e))?;
                open.rows += slice.num_rows() as u64;
            }
            start = end;
        }
        Ok(())
    }

    fn open(&mut self, day: Day, sample: &RecordBatch) -> Result<()> {
        let folder = match day {
            None => String::new(),
            Some(None) => "date=unknown/".to_string(),
            Some(Some(days)) => {
                let date = chrono::DateTime::from_timestamp(days * 86_400, 0).unwrap_or_default();
                format!("date={}/", date.format("%Y-%m-%d"))
            }
        };
        let relative = format!("{folder}part-{:05}.parquet", self.files.len());
        let path = self.root.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Io { path: parent.to_path_buf(), source: e })?;
        }
        let file = std::fs::File::create(&path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        let zstd = ZstdLevel::try_new(3).map_err(|e| output_error(&path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(zstd))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_sorting_columns(Some(vec![SortingColumn { column_idx: 0, descending: false, nulls_first: false }]))
            .build();
        let writer = ArrowWriter::try_new(std::io::BufWriter::with_capacity(1 << 20, file), sample.schema(), Some(props))
            .map_err(|e| output_error(&path, e))?;
        self.current = Some(OpenFile { day, relative, rows: 0, writer });
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(open) = self.current.take() {
            let path = self.root.join(&open.relative);
            open.writer.close().map_err(|e| output_error(&path, e))?;
            self.files.push(open.relative);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<String>> {
        self.close()?;
        Ok(self.files)
    }
}

fn times_of(batch: &RecordBatch) -> Result<&TimestampNanosecondArray> {
    batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| Error::Usage("converting: TimeGenerated is not a nanosecond timestamp".into()))
}

fn day_of(times: &TimestampNanosecondArray, row: usize) -> Option<i64> {
    times.is_valid(row).then(|| times.value(row).div_euclid(86_400_000_000_000))
}

fn output_error(path: &Path, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Output { target: path.display().to_string(), source: Box::new(e) }
}
