//! Writing result rows: a readable table, CSV, NDJSON, a JSON array or Parquet, to stdout or a
//! file. Text formats print times as RFC 3339 UTC with 7 fractional digits (Sentinel's own
//! precision), or 9 when a value carries finer nanoseconds.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use crate::error::{Error, Result};

/// `--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for reading; wide JSON values are shortened.
    Table,
    Csv,
    /// One JSON object per line, keyed by column name.
    Ndjson,
    /// One JSON array of objects.
    Json,
    Parquet,
}

/// Cells longer than this are cut in the table format (JSON columns run to kilobytes).
const TABLE_CELL_CHARS: usize = 40;

/// Where results go.
#[derive(Debug, Clone)]
pub struct OutputTarget {
    /// A file, or a folder (`true`) holding one file per detection; `None` is stdout.
    pub path: Option<(PathBuf, bool)>,
    pub format: OutputFormat,
}

impl OutputFormat {
    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Table => "txt",
            OutputFormat::Csv => "csv",
            OutputFormat::Ndjson => "ndjson",
            OutputFormat::Json => "json",
            OutputFormat::Parquet => "parquet",
        }
    }
}

impl OutputTarget {
    /// The format asked for, else the one the file name says, else a table on a terminal and
    /// NDJSON when stdout is a pipe or file. With `several` detections, `path` is a folder
    /// (created if needed) and the format defaults to NDJSON.
    pub fn choose(path: Option<PathBuf>, format: Option<OutputFormat>, several: bool) -> Result<OutputTarget> {
        let format = match (format, &path) {
            (Some(format), _) => format,
            (None, Some(_)) if several => OutputFormat::Ndjson,
            (None, Some(path)) => format_from_name(path).ok_or_else(|| Error::Usage(format!(
                "cannot tell the output format from {}; use --output-format",
                path.display()
            )))?,
            (None, None) if std::io::stdout().is_terminal() => OutputFormat::Table,
            (None, None) => OutputFormat::Ndjson,
        };
        if format == OutputFormat::Parquet && path.is_none() && (several || std::io::stdout().is_terminal()) {
            return Err(Error::Usage("Parquet output needs --output FILE (or a folder for several detections)".into()));
        }
        if several && path.is_none() && format == OutputFormat::Json {
            return Err(Error::Usage("several detections make several JSON arrays: use --output DIR or another format".into()));
        }
        if let (true, Some(dir)) = (several, &path) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        }
        Ok(OutputTarget { path: path.map(|p| (p, several)), format })
    }

    /// Where detection `name`'s rows go: the folder's `<name>.<ext>` when the target is a
    /// folder, else the target itself.
    pub fn for_detection(&self, name: &str) -> OutputTarget {
        let path = self.path.as_ref().map(|(path, is_dir)| match is_dir {
            true => (path.join(format!("{name}.{}", self.format.extension())), false),
            false => (path.clone(), false),
        });
        OutputTarget { path, format: self.format }
    }

    fn name(&self) -> String {
        self.path.as_ref().map_or_else(|| "stdout".to_string(), |(p, _)| p.display().to_string())
    }

    /// Streams `results` to the target; returns the number of rows written.
    pub async fn write(&self, results: SendableRecordBatchStream) -> Result<u64> {
        let sink: Box<dyn Write + Send> = match &self.path {
            Some((path, _)) => Box::new(File::create(path).map_err(|e| Error::Io { path: path.clone(), source: e })?),
            None => Box::new(std::io::stdout()),
        };
        write_stream(self.format, sink, &self.name(), results).await
    }
}

/// Streams `results` in `format` to `sink` (named `target` in errors); returns the rows written.
pub async fn write_stream(
    format: OutputFormat,
    sink: Box<dyn Write + Send>,
    target: &str,
    mut results: SendableRecordBatchStream,
) -> Result<u64> {
    let fail = |e: ArrowError| Error::Output { target: target.to_string(), source: Box::new(e) };
    let mut writer = BatchWriter::new(format, BufWriter::new(sink), results.schema()).map_err(fail)?;
    let mut rows = 0;
    while let Some(batch) = results.next().await {
        let batch = batch.map_err(Error::engine("running the query"))?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    Ok(rows)
}

fn format_from_name(path: &Path) -> Option<OutputFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(OutputFormat::Csv),
        "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
        "json" => Some(OutputFormat::Json),
        "parquet" => Some(OutputFormat::Parquet),
        "txt" => Some(OutputFormat::Table),
        _ => None,
    }
}

type Sink = BufWriter<Box<dyn Write + Send>>;

/// One writer per format over the same sink.
enum BatchWriter {
    Table(Sink, Vec<RecordBatch>),
    Csv(datafusion::arrow::csv::Writer<Sink>),
    Ndjson(datafusion::arrow::json::LineDelimitedWriter<Sink>),
    Json(datafusion::arrow::json::ArrayWriter<Sink>),
    Parquet(ArrowWriter<Sink>),
}

impl BatchWriter {
    fn new(format: OutputFormat, sink: Sink, schema: SchemaRef) -> Result<BatchWriter, ArrowError> {
        Ok(match format {
            OutputFormat::Table => BatchWriter::Table(sink, Vec::new()),
            OutputFormat::Csv => BatchWriter::Csv(datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(sink)),
            OutputFormat::Ndjson => BatchWriter::Ndjson(datafusion::arrow::json::LineDelimitedWriter::new(sink)),
            OutputFormat::Json => BatchWriter::Json(datafusion::arrow::json::ArrayWriter::new(sink)),
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                BatchWriter::Parquet(ArrowWriter::try_new(sink, utc_schema(&schema), Some(props))?)
            }
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        match self {
            BatchWriter::Table(_, batches) => batches.push(shorten_cells(&times_as_text(batch)?)?),
            BatchWriter::Csv(w) => w.write(&times_as_text(batch)?)?,
            BatchWriter::Ndjson(w) => w.write(&times_as_text(batch)?)?,
            BatchWriter::Json(w) => w.write(&times_as_text(batch)?)?,
            BatchWriter::Parquet(w) => w.write(&times_as_utc(batch)?)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), ArrowError> {
        let mut sink = match self {
            BatchWriter::Table(mut sink, batches) => {
                if batches.iter().all(|b| b.num_rows() == 0) {
                    writeln!(sink, "(no alerts)")?;
                } else {
                    writeln!(sink, "{}", pretty_format_batches(&batches)?)?;
                }
                sink
            }
            BatchWriter::Csv(w) => w.into_inner(),
            BatchWriter::Ndjson(mut w) => {
                w.finish()?;
                w.into_inner()
            }
            BatchWriter::Json(mut w) => {
                w.finish()?;
                let mut sink = w.into_inner();
                writeln!(sink)?;
                sink
            }
            BatchWriter::Parquet(w) => w.into_inner()?,
        };
        sink.flush()?;
        Ok(())
    }
}

/// Rows as JSON objects, exactly as the NDJSON output writes them.
pub fn rows_as_json(batches: &[RecordBatch]) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ArrowError> {
    let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(Vec::new());
    for batch in batches {
        writer.write(&times_as_text(batch)?)?;
    }
    writer.finish()?;
    let text = writer.into_inner();
    text.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).map_err(|e| ArrowError::JsonError(e.to_string())))
        .collect()
}

/// RFC 3339 UTC text for nanoseconds since the epoch: 7 fractional digits, 9 when needed.
pub fn format_time(nanos: i64) -> String {
    let time = DateTime::from_timestamp_nanos(nanos);
    let sub = time.timestamp_subsec_nanos();
    let fraction = if sub.is_multiple_of(100) { format!("{:07}", sub / 100) } else { format!("{sub:09}") };
    format!("{}.{fraction}Z", time.format("%Y-%m-%dT%H:%M:%S"))
}

fn map_columns(
    batch: &RecordBatch,
    mut convert: impl FnMut(&Field, &ArrayRef) -> Result<Option<(Field, ArrayRef)>, ArrowError>,
) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let (field, column) = convert(field, column)?.unwrap_or_else(|| (field.as_ref().clone(), column.clone()));
        fields.push(field);
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn times_as_text(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    map_columns(batch, |field, column| {
        let DataType::Timestamp(TimeUnit::Nanosecond, _) = field.data_type() else { return Ok(None) };
        let times = column
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| ArrowError::CastError(format!("{} is not a nanosecond timestamp", field.name())))?;
        let text: StringArray = times.iter().map(|t| t.map(format_time)).collect();
        Ok(Some((Field::new(field.name(), DataType::Utf8, true), Arc::new(text) as ArrayRef)))
    })
}

fn utc_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Timestamp(unit, None) => Some(DataType::Timestamp(*unit, Some("UTC".into()))),
        _ => None,
    }
}

/// Parquet keeps real timestamps, marked as UTC instants.
fn utc_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match utc_type(f.data_type()) {
            Some(t) => f.as_ref().clone().with_data_type(t),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn times_as_utc(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    map_columns(batch, |field, column| {
        let Some(target) = utc_type(field.data_type()) else { return Ok(None) };
        Ok(Some((field.clone().with_data_type(target.clone()), cast(column, &target)?)))
    })
}

fn shorten_cells(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    map_columns(batch, |field, column| {
        let DataType::Utf8 = field.data_type() else { return Ok(None) };
        let Some(text) = column.as_any().downcast_ref::<StringArray>() else { return Ok(None) };
        let short: StringArray = text
            .iter()
            .map(|v| {
                v.map(|v| match v.char_indices().nth(TABLE_CELL_CHARS) {
                    Some((cut, _)) => format!("{}…", &v[..cut]),
                    None => v.to_string(),
                })
            })
            .collect();
        Ok(Some((field.clone(), Arc::new(short) as ArrayRef)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_100ns_precision() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(format_time(1_234_567_800), "1970-01-01T00:00:01.2345678Z");
        assert_eq!(format_time(1_234_567_891), "1970-01-01T00:00:01.234567891Z");
        assert_eq!(format_time(-100), "1969-12-31T23:59:59.9999999Z");
    }
}
