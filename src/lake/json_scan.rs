//! The table over JSON sign-in files of one shape: each record decoded once, straight into the
//! raw columns its shape declares, with the file and line of every record that cannot be.
//!
//! Files are split into one group per engine partition; each group is read in order on a
//! blocking thread that hands batches to the engine through a small channel, so memory stays
//! bounded by a few batches per partition whatever the input size.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use serde_json::{Map, Value};

use super::bad_records::{BadRecords, ReadCounters};
use super::json_text::{Item, JsonRecords};
use super::shapes::{self, FieldKind, Shape};
use super::store;
use super::timestamps::parse_sign_in_time;
use super::{FileKind, SourceFile};
use crate::error::Error;

/// What every scan of a run shares.
#[derive(Debug)]
pub struct ScanShared {
    pub bad_records: BadRecords,
    pub counters: ReadCounters,
    /// Auto shape: records are checked against the file's shape.
    pub check_shapes: bool,
}

/// The Arrow schema of a shape's raw fields.
pub fn raw_schema(shape: &Shape) -> SchemaRef {
    let fields: Vec<Field> = shape
        .fields
        .iter()
        .map(|f| match f.kind {
            FieldKind::Time => Field::new(&f.column, DataType::Timestamp(TimeUnit::Nanosecond, None), true),
            FieldKind::Text => Field::new(&f.column, DataType::Utf8, true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The raw records of one shape over its files.
#[derive(Debug)]
pub struct JsonTable {
    shape: &'static Shape,
    schema: SchemaRef,
    files: Vec<SourceFile>,
    shared: Arc<ScanShared>,
}

impl JsonTable {
    pub fn new(shape: &'static Shape, files: Vec<SourceFile>, shared: Arc<ScanShared>) -> JsonTable {
        JsonTable { shape, schema: raw_schema(shape), files, shared }
    }
}

#[async_trait]
impl TableProvider for JsonTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let columns: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let schema = Arc::new(self.schema.project(&columns)?);
        let groups = split_by_size(&self.files, state.config().target_partitions());
        let partitions = groups
            .into_iter()
            .map(|files| {
                Arc::new(JsonPartition {
                    shape: self.shape,
                    columns: columns.clone(),
                    schema: Arc::clone(&schema),
                    files,
                    shared: Arc::clone(&self.shared),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        Ok(Arc::new(StreamingTableExec::try_new(schema, partitions, None, vec![], false, limit)?))
    }
}

/// Up to `parts` groups of about equal bytes, largest files placed first.
fn split_by_size(files: &[SourceFile], parts: usize) -> Vec<Vec<SourceFile>> {
    let parts = parts.clamp(1, files.len().max(1));
    let mut groups: Vec<(u64, Vec<SourceFile>)> = vec![(0, Vec::new()); parts];
    let mut sorted: Vec<&SourceFile> = files.iter().collect();
    sorted.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.url.cmp(&b.url)));
    for file in sorted {
        if let Some(lightest) = groups.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += file.size;
            lightest.1.push(file.clone());
        }
    }
    groups
        .into_iter()
        .filter(|(_, g)| !g.is_empty())
        .map(|(_, mut g)| {
            g.sort();
            g
        })
        .collect()
}

/// One partition: a group of files read in order.
struct JsonPartition {
    shape: &'static Shape,
    /// The shape's fields this scan returns, by index.
    columns: Vec<usize>,
    schema: SchemaRef,
    files: Vec<SourceFile>,
    shared: Arc<ScanShared>,
}

impl fmt::Debug for JsonPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonPartition({} files of shape {})", self.files.len(), self.shape.name)
    }
}

impl PartitionStream for JsonPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (tx, rx) = tokio::sync::mpsc::channel::<DfResult<RecordBatch>>(2);
        let job = DecodeJob {
            shape: self.shape,
            columns: self.columns.clone(),
            schema: Arc::clone(&self.schema),
            files: self.files.clone(),
            shared: Arc::clone(&self.shared),
            batch_size: ctx.session_config().batch_size(),
        };
        let runtime = ctx.runtime_env();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let sender = tx.clone();
            let result = job.run(&handle, &runtime, &mut |batch| sender.blocking_send(Ok(batch)).is_ok());
            if let Err(error) = result {
                let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(error))));
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), stream))
    }
}

struct DecodeJob {
    shape: &'static Shape,
    columns: Vec<usize>,
    schema: SchemaRef,
    files: Vec<SourceFile>,
    shared: Arc<ScanShared>,
    batch_size: usize,
}

impl DecodeJob {
    /// Decodes every file; `send` returns false once nobody listens (the query was dropped).
    fn run(
        &self,
        handle: &tokio::runtime::Handle,
        runtime: &datafusion::execution::runtime_env::RuntimeEnv,
        send: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), Error> {
        let mut builder = BatchBuilder::new(self.shape, &self.columns, Arc::clone(&self.schema), self.batch_size);
        for file in &self.files {
            let (reader, bytes) = store::open_blocking(file, runtime, handle)?;
            let mut records = JsonRecords::new(BufReader::with_capacity(1 << 20, reader));
            let path = file.display();
            let mut decoded = 0u64;
            loop {
                let item = records.next_item().map_err(|e| read_error(file, &e))?;
                let Some(item) = item else { break };
                let outcome = match item {
                    Item::Record { line, value } => match builder.append(&value, self.shared.check_shapes) {
                        Ok(()) => {
                            decoded += 1;
                            None
                        }
                        Err(message) => Some((line, message, value.to_string().into_bytes())),
                    },
                    Item::Bad { line, message, raw } => Some((line, message, raw)),
                };
                if let Some((line, message, raw)) = outcome {
                    self.shared.bad_records.handle(&path, line, &message, &raw)?;
                }
                if builder.len() >= self.batch_size {
                    let batch = builder.finish().map_err(|e| batch_error(file, e))?;
                    if !send(batch) {
                        self.shared.counters.record(&file.url, bytes.get(), decoded);
                        return Ok(());
                    }
                }
            }
            self.shared.counters.record(&file.url, bytes.get(), decoded);
        }
        if builder.len() > 0 {
            let batch = builder.finish().map_err(|e| Error::Format { path: "JSON inputs".into(), message: e.to_string() })?;
            send(batch);
        }
        Ok(())
    }
}

fn read_error(file: &SourceFile, e: &io::Error) -> Error {
    let message = match file.kind {
        FileKind::NdjsonGzip => format!("cannot read (is it gzip?): {e}"),
        _ => format!("cannot read: {e}"),
    };
    Error::Format { path: file.display(), message }
}

fn batch_error(file: &SourceFile, e: datafusion::arrow::error::ArrowError) -> Error {
    Error::Format { path: file.display(), message: e.to_string() }
}

/// Builds batches of one shape's projected raw columns.
struct BatchBuilder {
    shape: &'static Shape,
    columns: Vec<usize>,
    schema: SchemaRef,
    time_field: usize,
    texts: Vec<Option<StringBuilder>>,
    times: Option<TimestampNanosecondBuilder>,
    rows: usize,
    capacity: usize,
}

impl BatchBuilder {
    fn new(shape: &'static Shape, columns: &[usize], schema: SchemaRef, capacity: usize) -> BatchBuilder {
        let mut builder = BatchBuilder {
            shape,
            columns: columns.to_vec(),
            schema,
            time_field: shape.time_field(),
            texts: Vec::new(),
            times: None,
            rows: 0,
            capacity,
        };
        builder.reset();
        builder
    }

    fn reset(&mut self) {
        self.texts = self
            .columns
            .iter()
            .map(|&c| (self.shape.fields[c].kind == FieldKind::Text).then(|| StringBuilder::with_capacity(self.capacity, self.capacity * 32)))
            .collect();
        self.times = self.columns.contains(&self.time_field).then(|| TimestampNanosecondBuilder::with_capacity(self.capacity));
        self.rows = 0;
    }

    fn len(&self) -> usize {
        self.rows
    }

    /// Appends one record, or says why it cannot be. The time is always parsed, projected or
    /// not, so that every record read is checked the same way.
    fn append(&mut self, value: &Value, check_shape: bool) -> Result<(), String> {
        let Value::Object(record) = value else {
            return Err(format!("a JSON {}, not an object", kind_name(value)));
        };
        if check_shape {
            shapes::check_fits(self.shape, shapes::all().map_err(|e| e.to_string())?, record)?;
        }
        let time_spec = &self.shape.fields[self.time_field];
        let time = match lookup(record, &time_spec.path) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => {
                Some(parse_sign_in_time(text).map_err(|message| format!("{} {message}", time_spec.column))?)
            }
            Some(other) => return Err(format!("{} is a JSON {}, not time text", time_spec.column, kind_name(other))),
        };
        for (slot, &column) in self.columns.iter().enumerate() {
            let spec = &self.shape.fields[column];
            match spec.kind {
                FieldKind::Time => {
                    if let Some(times) = &mut self.times {
                        times.append_option(time);
                    }
                }
                FieldKind::Text => {
                    if let Some(texts) = &mut self.texts[slot] {
                        match lookup(record, &spec.path) {
                            None | Some(Value::Null) => texts.append_null(),
                            Some(Value::String(text)) => texts.append_value(text),
                            Some(other) => texts.append_value(other.to_string()),
                        }
                    }
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for slot in 0..self.columns.len() {
            match &mut self.texts[slot] {
                Some(texts) => arrays.push(Arc::new(texts.finish())),
                None => match &mut self.times {
                    Some(times) => arrays.push(Arc::new(times.finish())),
                    None => {
                        let message = format!("column {slot} of shape {} has no builder", self.shape.name);
                        return Err(datafusion::arrow::error::ArrowError::InvalidArgumentError(message));
                    }
                },
            }
        }
        let rows = self.rows;
        self.reset();
        RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            arrays,
            &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }
}

/// The value at `path`: exact keys first, then ignoring case (exports differ in `Level`/`level`).
fn lookup<'a>(record: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let mut current = record;
    let mut found = None;
    for (depth, key) in path.iter().enumerate() {
        let value = current
            .get(key)
            .or_else(|| current.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))?;
        if depth + 1 == path.len() {
            found = Some(value);
        } else {
            current = value.as_object()?;
        }
    }
    found
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The shape of `file`'s first record, or `None` when it holds no record (empty, or only bad
/// lines, which the scan will report).
pub fn first_record_shape(
    file: &SourceFile,
    runtime: &datafusion::execution::runtime_env::RuntimeEnv,
    handle: &tokio::runtime::Handle,
) -> Result<Option<&'static Shape>, Error> {
    let all = shapes::all()?;
    let (reader, _) = store::open_blocking(file, runtime, handle)?;
    let mut records = JsonRecords::new(BufReader::with_capacity(256 * 1024, reader));
    while let Some(item) = records.next_item().map_err(|e| read_error(file, &e))? {
        if let Item::Record { value: Value::Object(record), .. } = item
            && let Some(shape) = shapes::detect(all, &record)
        {
            return Ok(Some(shape));
        }
    }
    Ok(None)
}

/// Counts the bytes read through it.
pub struct CountingReader<R> {
    inner: R,
    count: Arc<std::sync::atomic::AtomicU64>,
}

/// A handle on the count of a [`CountingReader`].
#[derive(Clone)]
pub struct ByteCount(Arc<std::sync::atomic::AtomicU64>);

impl ByteCount {
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R) -> (CountingReader<R>, ByteCount) {
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        (CountingReader { inner, count: Arc::clone(&count) }, ByteCount(count))
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Array;
    use serde_json::json;

    #[test]
    fn lookup_follows_paths_and_forgives_case() {
        let record = json!({"Level": 4, "properties": {"appId": "a", "deviceDetail": {"isCompliant": true}}});
        let record = record.as_object().unwrap();
        let path = |p: &str| p.split('/').map(String::from).collect::<Vec<_>>();
        assert_eq!(lookup(record, &path("properties/appId")), Some(&json!("a")));
        assert_eq!(lookup(record, &path("level")), Some(&json!(4)));
        assert_eq!(lookup(record, &path("properties/missing")), None);
        assert_eq!(lookup(record, &path("Level/x")), None);
    }

    #[test]
    fn values_become_text_of_the_canonical_type() {
        let shape = shapes::named("diagnostic").unwrap();
        let columns: Vec<usize> = (0..shape.fields.len()).collect();
        let schema = Arc::new(raw_schema(shape).project(&columns).unwrap());
        let mut builder = BatchBuilder::new(shape, &columns, schema, 4);
        let number = json!({"time": "2026-11-02T10:00:00Z", "resultType": 50126, "Level": 4, "properties": {"deviceDetail": {"b": 1, "a": "x"}}});
        let text = json!({"time": "2026-11-02T10:00:00Z", "resultType": "50126", "Level": "4"});
        builder.append(&number, true).unwrap();
        builder.append(&text, true).unwrap();
        assert!(builder.append(&json!({"time": 5, "properties": {}}), true).unwrap_err().contains("time is a JSON number"));
        assert!(builder.append(&json!({"createdDateTime": "x"}), true).unwrap_err().contains("graph-shaped"));
        let batch = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let column = |name: &str| {
            let array = batch.column_by_name(name).unwrap();
            let strings = array.as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap();
            (0..2).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect::<Vec<_>>()
        };
        assert_eq!(column("resultType"), [Some("50126".into()), Some("50126".into())]);
        assert_eq!(column("Level"), [Some("4".into()), Some("4".into())]);
        assert_eq!(column("properties/deviceDetail"), [Some(r#"{"a":"x","b":1}"#.into()), None]);
    }

    #[test]
    fn files_split_evenly_by_size() {
        let file = |name: &str, size| SourceFile { url: format!("file:///{name}"), kind: FileKind::Ndjson, size };
        let files = vec![file("a", 100), file("b", 60), file("c", 50), file("d", 10)];
        let groups = split_by_size(&files, 2);
        let sizes: Vec<u64> = groups.iter().map(|g| g.iter().map(|f| f.size).sum()).collect();
        assert_eq!(sizes, [110, 110]);
        assert_eq!(split_by_size(&files, 16).len(), 4);
    }
}
