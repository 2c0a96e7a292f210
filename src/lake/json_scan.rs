//! The table over JSON sign-in files of one shape: each record decoded once, straight into the
//! raw columns its shape declares, with the file and line of every record that cannot be.
//!
//! Files are split into one group per engine partition; each group is read in order on a
//! blocking thread that hands batches to the engine through a small channel, so memory stays
//! bounded by a few batches per partition whatever the input size.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

use super::bad_records::{BadRecords, ReadCounters};
use super::fingerprints::{self, FingerprintStore, Wanted};
use super::json_text::{Item, JsonRecords};
use super::raw_json::{RawObject, array_elements, as_text, kind_of};
use super::shapes::{self, FieldKind, Shape};
use super::store;
use super::timestamps::parse_sign_in_time;
use super::value_filter::ValueFilter;
use super::{FileKind, SourceFile};
use crate::error::Error;

/// What every scan of a run shares.
#[derive(Debug)]
pub struct ScanShared {
    pub bad_records: BadRecords,
    pub counters: ReadCounters,
    /// Auto shape: records are checked against the file's shape.
    pub check_shapes: bool,
    /// Set once a scan has parsed every record of every JSON input and reported the bad ones:
    /// later scans may then rule records out by their text alone (see [`ValueFilter`]).
    pub validated: AtomicBool,
    /// Each record's session id, from the scan that checked it (see [`fingerprints`]).
    pub fingerprints: FingerprintStore,
}

impl ScanShared {
    /// Marks the run's records validated if a scan has read every JSON file among `files` to
    /// its end (a scan cut short, e.g. by a join with nothing to match, proves nothing).
    pub fn mark_validated_if_read_whole(&self, files: &[SourceFile]) {
        let whole = files
            .iter()
            .filter(|f| f.kind != FileKind::Parquet)
            .all(|f| self.counters.bytes_read(&f.url).is_some_and(|bytes| bytes >= f.size));
        if whole {
            self.validated.store(true, Ordering::Relaxed);
        }
    }
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

    fn value_filter(&self, expr: &Expr) -> Option<ValueFilter> {
        let names: Vec<&str> = self.shape.fields.iter().map(|f| f.column.as_str()).collect();
        ValueFilter::from_expr(expr, &names).filter(|f| self.shape.fields[f.field].kind == FieldKind::Text)
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

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Inexact: the engine applies them again; the scan only uses them to leave records out.
        Ok(filters
            .iter()
            .map(|f| match self.value_filter(f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let value_filters: Arc<[ValueFilter]> = filters.iter().filter_map(|f| self.value_filter(f)).collect();
        let columns: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let schema = Arc::new(self.schema.project(&columns)?);
        let groups = split_by_size(&self.files, state.config().target_partitions());
        let partitions = groups
            .into_iter()
            .map(|files| {
                Arc::new(JsonPartition {
                    shape: self.shape,
                    columns: columns.clone(),
                    filters: Arc::clone(&value_filters),
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
    /// Records that fail one of these are left out.
    filters: Arc<[ValueFilter]>,
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
            filters: Arc::clone(&self.filters),
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
    filters: Arc<[ValueFilter]>,
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
        builder.filters = Arc::clone(&self.filters);
        // Every record was parsed and checked before: one a filter rules out by its text alone
        // (or, for the session id, by the fingerprint kept then) needs no second look.
        let by_text = self.shared.validated.load(Ordering::Relaxed) && !self.filters.is_empty();
        let session_field = self.shape.session_field();
        let wanted_sessions = match self.filters.iter().find(|f| Some(f.field) == session_field) {
            Some(filter) if by_text => Some(Wanted::new(filter.values())),
            _ => None,
        };
        // Only a scan that parses every record can vouch for their fingerprints.
        builder.session_field = session_field.filter(|_| !by_text);
        for file in &self.files {
            let (reader, bytes) = store::open_blocking(file, runtime, handle)?;
            let mut records = JsonRecords::new(reader);
            let path = file.display();
            let kept = wanted_sessions.as_ref().and_then(|_| self.shared.fingerprints.of_file(&file.url));
            let mut prints = builder.session_field.map(|_| Vec::new());
            let mut decoded = 0u64;
            let wanted = |ordinal: u64| match (&kept, &wanted_sessions) {
                (Some(kept), Some(wanted)) => kept.get(ordinal as usize).is_none_or(|&print| wanted.may_hold(print)),
                _ => true,
            };
            loop {
                let item = records.next_item_where(wanted).map_err(|e| read_error(file, &e))?;
                let Some(item) = item else { break };
                let mut bad = Vec::new();
                let mut print = fingerprints::UNKNOWN;
                let line = match item {
                    Item::Skipped { line } => line,
                    Item::Text { line, text } if by_text && !self.filters.iter().all(|f| f.may_hold(text)) => line,
                    Item::Text { line, text } => {
                        let read = builder.append_text(text, self.shared.check_shapes, &mut |message, raw| bad.push((message, raw.as_bytes().to_vec())));
                        if read == 1 && bad.is_empty() {
                            print = builder.last_print;
                        }
                        decoded += read;
                        line
                    }
                    Item::Bad { line, message, raw } => {
                        bad.push((message, raw.to_vec()));
                        line
                    }
                };
                if let Some(prints) = &mut prints {
                    prints.push(print);
                }
                for (message, raw) in bad {
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
            if let Some(prints) = prints {
                self.shared.fingerprints.keep(&file.url, prints);
            }
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
    /// A record is appended only if it passes all of them.
    filters: Arc<[ValueFilter]>,
    /// The field whose fingerprint each record read leaves in `last_print`, if any.
    session_field: Option<usize>,
    last_print: u32,
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
            filters: Arc::new([]),
            session_field: None,
            last_print: fingerprints::UNKNOWN,
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

    /// Appends the records of one JSON text (a record, a page `{"records"|"value":[...]}`, or an
    /// array of them) that pass the filters and returns how many were read (appended or
    /// filtered out); each that cannot be read goes to `bad` with why.
    fn append_text<'t>(&mut self, text: &'t str, check_shape: bool, bad: &mut dyn FnMut(String, &'t str)) -> u64 {
        if text.trim_start().starts_with('[') {
            return match array_elements(text) {
                Ok(elements) => elements.iter().map(|e| self.append_text(e, check_shape, bad)).sum(),
                Err(message) => {
                    bad(message, text);
                    0
                }
            };
        }
        let object = match RawObject::parse(text) {
            Ok(object) => object,
            Err(message) => {
                bad(message, text);
                return 0;
            }
        };
        if let Some(records) = page_records(&object) {
            return match array_elements(records) {
                Ok(elements) => elements.iter().map(|e| self.append_text(e, check_shape, bad)).sum(),
                Err(message) => {
                    bad(message, text);
                    0
                }
            };
        }
        match self.append_object(&object, check_shape) {
            Ok(()) => 1,
            Err(message) => {
                bad(message, text);
                0
            }
        }
    }

    /// Appends one record if it passes the filters, or says why it cannot be read. The time is
    /// always parsed, projected or not, so that every record read is checked the same way.
    fn append_object<'a>(&mut self, record: &RawObject<'a>, check_shape: bool) -> Result<(), String> {
        let shape: &'static Shape = self.shape;
        if check_shape {
            shapes::check_fits(shape, shapes::all().map_err(|e| e.to_string())?, &|k| record.has(k))?;
        }
        let mut nested = NestedObjects::default();
        let time_spec = &shape.fields[self.time_field];
        let time = match nested.lookup(record, &time_spec.path)? {
            None => None,
            Some(raw) => match raw.as_bytes().first() {
                Some(b'n') => None,
                Some(b'"') => {
                    let text = as_text(raw)?.unwrap_or_default();
                    Some(parse_sign_in_time(&text).map_err(|message| format!("{} {message}", time_spec.column))?)
                }
                _ => return Err(format!("{} is a JSON {}, not time text", time_spec.column, kind_of(raw))),
            },
        };
        // Decoded before anything is appended, so that a bad field leaves no partial row.
        let mut texts = Vec::with_capacity(self.columns.len());
        for &column in &self.columns {
            let spec = &shape.fields[column];
            texts.push(match spec.kind {
                FieldKind::Time => None,
                FieldKind::Text => nested.lookup(record, &spec.path)?.map(as_text).transpose()?.flatten(),
            });
        }
        if let Some(field) = self.session_field {
            let session = nested.lookup(record, &shape.fields[field].path)?.map(as_text).transpose()?.flatten();
            self.last_print = fingerprints::of_value(session.as_deref().map(str::as_bytes));
        }
        for filter in self.filters.iter() {
            let value = nested.lookup(record, &shape.fields[filter.field].path)?.map(as_text).transpose()?.flatten();
            if !filter.holds(value.as_deref()) {
                return Ok(());
            }
        }
        for (slot, text) in texts.into_iter().enumerate() {
            match &mut self.texts[slot] {
                Some(builder) => builder.append_option(text),
                None => {
                    if let Some(times) = &mut self.times {
                        times.append_option(time);
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

/// The records of a page (`{"records":[...]}` from an Event Hub, `{"value":[...]}` from Graph):
/// the array's text, unless the object is itself a sign-in that happens to have such a field.
fn page_records<'a>(object: &RawObject<'a>) -> Option<&'a str> {
    if ["TimeGenerated", "time", "createdDateTime"].iter().any(|k| object.has(k)) {
        return None;
    }
    ["records", "value"]
        .iter()
        .filter_map(|key| object.0.iter().find(|(k, _)| k == key))
        .map(|(_, raw)| *raw)
        .find(|text| text.starts_with('['))
}

/// The nested objects of one record opened so far (`properties`, `status`...), each parsed
/// once however many fields below it are read.
#[derive(Default)]
struct NestedObjects<'a> {
    opened: Vec<(&'a str, Option<RawObject<'a>>)>,
}

impl<'a> NestedObjects<'a> {
    /// The raw value at `path` below `record`, if there is one.
    fn lookup(&mut self, record: &RawObject<'a>, path: &'a [String]) -> Result<Option<&'a str>, String> {
        let Some((last, parents)) = path.split_last() else { return Ok(None) };
        let mut object = record;
        let mut opened_here;
        for (depth, key) in parents.iter().enumerate() {
            // One level below the record is cached; deeper levels are rare and parsed as met.
            if depth == 0 {
                let index = match self.opened.iter().position(|(k, _)| *k == key.as_str()) {
                    Some(index) => index,
                    None => {
                        let child = record.get(key).filter(|raw| raw.starts_with('{')).map(RawObject::parse).transpose()?;
                        self.opened.push((key.as_str(), child));
                        self.opened.len() - 1
                    }
                };
                match &self.opened[index].1 {
                    Some(child) => object = child,
                    None => return Ok(None),
                }
            } else {
                let Some(raw) = object.get(key).filter(|raw| raw.starts_with('{')) else { return Ok(None) };
                opened_here = RawObject::parse(raw)?;
                object = &opened_here;
            }
        }
        Ok(object.get(last))
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
    let mut records = JsonRecords::new(reader);
    while let Some(item) = records.next_item().map_err(|e| read_error(file, &e))? {
        if let Item::Text { text, .. } = item
            && let Some(shape) = shape_of_first(all, text)
        {
            return Ok(Some(shape));
        }
    }
    Ok(None)
}

/// The shape of the first record in a JSON text (itself, or the first of its page or array).
fn shape_of_first(all: &'static [Shape], text: &str) -> Option<&'static Shape> {
    if text.trim_start().starts_with('[') {
        return array_elements(text).ok()?.iter().find_map(|e| shape_of_first(all, e));
    }
    let object = RawObject::parse(text).ok()?;
    match page_records(&object) {
        Some(records) => shape_of_first(all, records),
        None => shapes::detect(all, &|k| object.has(k)),
    }
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

    /// Appends each text and returns the rows appended and the bad-record messages.
    fn feed(builder: &mut BatchBuilder, texts: &[&str]) -> (u64, Vec<String>) {
        let mut bad = Vec::new();
        let rows = texts.iter().map(|t| builder.append_text(t, true, &mut |m, _| bad.push(m))).sum();
        (rows, bad)
    }

    fn all_columns(shape: &'static Shape) -> BatchBuilder {
        let columns: Vec<usize> = (0..shape.fields.len()).collect();
        let schema = Arc::new(raw_schema(shape).project(&columns).unwrap());
        BatchBuilder::new(shape, &columns, schema, 16)
    }

    fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let array = batch.column_by_name(name).unwrap();
        let strings = array.as_any().downcast_ref::<datafusion::arrow::array::StringArray>().unwrap();
        (0..strings.len()).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect()
    }

    #[test]
    fn values_become_text_of_the_canonical_type() {
        let mut builder = all_columns(shapes::named("diagnostic").unwrap());
        let (rows, bad) = feed(&mut builder, &[
            r#"{"time": "2026-11-02T10:00:00Z", "resultType": 50126, "Level": 4, "properties": {"deviceDetail": {"b": 1, "a": "x"}, "appId": "a\u0041"}}"#,
            r#"{"time": "2026-11-02T10:00:00Z", "resultType": "50126", "level": "4", "category": "NonInteractiveUserSignInLogs"}"#,
            r#"{"time": 5, "properties": {}}"#,
            r#"{"createdDateTime": "2026-11-02T10:00:00Z"}"#,
            r#"{"time": "2026-11-02T10:00:00Z", "properties": {"appId": "b"}, "Level": "#,
        ]);
        assert_eq!(rows, 2);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad[0].contains("time is a JSON number"), "{bad:?}");
        assert!(bad[1].contains("graph-shaped"), "{bad:?}");
        assert!(bad[2].starts_with("not valid JSON"), "{bad:?}");
        let batch = builder.finish().unwrap();
        assert_eq!(strings(&batch, "resultType"), [Some("50126".into()), Some("50126".into())]);
        assert_eq!(strings(&batch, "Level"), [Some("4".into()), Some("4".into())]);
        assert_eq!(strings(&batch, "properties/appId"), [Some("aA".into()), None]);
        assert_eq!(strings(&batch, "properties/deviceDetail"), [Some(r#"{"b": 1, "a": "x"}"#.into()), None]);
    }

    #[test]
    fn pages_and_arrays_hold_records() {
        let mut builder = all_columns(shapes::named("graph").unwrap());
        let page = r#"{"@odata.context": "x", "value": [{"createdDateTime": "2026-11-02T10:00:00Z", "appId": "a"}, {"createdDateTime": "2026-11-02T10:01:00Z", "appId": "b"}]}"#;
        let array = r#"[{"createdDateTime": "2026-11-02T10:02:00Z", "appId": "c"}, 7]"#;
        let (rows, bad) = feed(&mut builder, &[page, array]);
        assert_eq!(rows, 3);
        assert_eq!(bad, ["a JSON number, not an object"]);
        let batch = builder.finish().unwrap();
        assert_eq!(strings(&batch, "appId"), [Some("a".into()), Some("b".into()), Some("c".into())]);
        // A sign-in with an array field named like a page is a sign-in.
        let mut builder = all_columns(shapes::named("diagnostic").unwrap());
        let (rows, _) = feed(&mut builder, &[r#"{"time": "2026-11-02T10:00:00Z", "category": "x", "records": [1]}"#]);
        assert_eq!(rows, 1);
    }

    #[test]
    fn the_first_record_tells_the_shape() {
        let all = shapes::all().unwrap();
        let name = |text: &str| shape_of_first(all, text).map(|s| s.name.as_str());
        assert_eq!(name(r#"{"records": [{"time": "t", "properties": {}}]}"#), Some("diagnostic"));
        assert_eq!(name(r#"[{"createdDateTime": "t"}]"#), Some("graph"));
        assert_eq!(name(r#"{"TimeGenerated": "t"}"#), Some("sentinel"));
        assert_eq!(name(r#"{"nothing": 1}"#), None);
    }

    /// What the scans of one run share, fail-on-bad-records, `validated` as given.
    fn new_shared(validated: bool) -> Arc<ScanShared> {
        Arc::new(ScanShared {
            bad_records: BadRecords::new(Default::default(), None).unwrap(),
            counters: Default::default(),
            check_shapes: true,
            validated: AtomicBool::new(validated),
            fingerprints: Default::default(),
        })
    }

    /// Writes `lines` as an NDJSON file at `path`.
    fn ndjson_file(path: &std::path::Path, lines: &[impl AsRef<str>]) -> SourceFile {
        let text: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        std::fs::write(path, text.join("\n")).unwrap();
        let url = url::Url::from_file_path(path).unwrap().to_string();
        SourceFile { url, kind: FileKind::Ndjson, size: std::fs::metadata(path).unwrap().len() }
    }

    /// A Sentinel-shaped file whose second line is broken and holds no session id.
    fn table_over_a_broken_file(dir: &std::path::Path) -> (JsonTable, Arc<ScanShared>, SourceFile) {
        let path = dir.join("part.json");
        let lines = [
            r#"{"TimeGenerated":"2026-11-02T10:00:00Z","SessionId":"s-1","AppId":"a"}"#,
            r#"{"TimeGenerated":"2026-11-02T10:01:00Z","AppId":"#,
            r#"{"TimeGenerated":"2026-11-02T10:02:00Z","SessionId":"s-2","AppId":"b"}"#,
        ];
        let file = ndjson_file(&path, &lines);
        let shared = new_shared(false);
        (JsonTable::new(shapes::named("sentinel").unwrap(), vec![file.clone()], Arc::clone(&shared)), shared, file)
    }

    async fn apps_of_session(table: JsonTable, session: &str) -> datafusion::error::Result<Vec<Option<String>>> {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.register_table("records", Arc::new(table))?;
        let sql = format!("SELECT \"AppId\" FROM records WHERE coalesce(\"SessionId\", '') IN ('{session}', 'other')");
        let batches = ctx.sql(&sql).await?.collect().await?;
        Ok(batches.iter().flat_map(|b| strings(b, "AppId")).collect())
    }

    #[tokio::test]
    async fn pushed_down_session_filters_skip_records_by_text_only_once_all_were_checked() {
        let dir = tempfile::tempdir().unwrap();
        // Before any scan has checked every record, the broken line is found and stops the run.
        let (table, _, _) = table_over_a_broken_file(dir.path());
        let error = apps_of_session(table, "s-2").await.unwrap_err().to_string();
        assert!(error.contains("part.json:2:"), "{error}");

        // Once a scan has read the file whole, a record without the id in its text is skipped
        // unparsed: the broken line is no longer looked at.
        let (table, shared, file) = table_over_a_broken_file(dir.path());
        shared.counters.record(&file.url, file.size - 1, 0);
        shared.mark_validated_if_read_whole(std::slice::from_ref(&file));
        assert!(!shared.validated.load(Ordering::Relaxed), "a file read in part proves nothing");
        shared.counters.record(&file.url, file.size, 2);
        shared.mark_validated_if_read_whole(std::slice::from_ref(&file));
        assert!(shared.validated.load(Ordering::Relaxed));
        assert_eq!(apps_of_session(table, "s-2").await.unwrap(), [Some("b".to_string())]);
    }

    #[tokio::test]
    async fn records_of_other_sessions_are_skipped_by_the_fingerprint_the_checking_scan_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.json");
        let line = |minute: u32, session: &str, app: &str| format!(r#"{{"TimeGenerated":"2026-11-02T10:0{minute}:00Z","SessionId":"{session}","AppId":"{app}"}}"#);
        // Line 2 names the candidate s-2 in its text, but in another field.
        let lines = [line(0, "s-1", "a"), line(1, "s-9", "s-2"), line(2, "s-2", "b")];
        let file = ndjson_file(&path, &lines);
        let shape = shapes::named("sentinel").unwrap();
        let shared = new_shared(false);
        let table = JsonTable::new(shape, vec![file.clone()], Arc::clone(&shared));
        assert_eq!(apps_of_session(table, "s-2").await.unwrap(), [Some("b".to_string())]);
        shared.mark_validated_if_read_whole(std::slice::from_ref(&file));
        assert_eq!(shared.fingerprints.of_file(&file.url).map(|prints| prints.len()), Some(3));

        // Broken after it was checked: only a scan that reads line 2 again can notice, and the
        // text search alone would (its text still holds "s-2").
        let mut broken = lines.clone();
        broken[1].pop();
        std::fs::write(&path, broken.join("\n")).unwrap();
        let table = JsonTable::new(shape, vec![file.clone()], Arc::clone(&shared));
        assert_eq!(apps_of_session(table, "s-2").await.unwrap(), [Some("b".to_string())]);
        let without_prints = new_shared(true);
        let table = JsonTable::new(shape, vec![file], without_prints);
        let error = apps_of_session(table, "s-2").await.unwrap_err().to_string();
        assert!(error.contains("part.json:2:"), "{error}");
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
