//! Registering the inputs: one listing table over the Parquet files, one JSON table per export
//! shape found with its mapping view, and `signin_logs`, their union in canonical columns.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

use super::json_scan::{JsonTable, ScanShared, first_record_shape};
use super::shapes::{self, Shape};
use super::{BadRecords, FileKind, Inputs, LakeOptions, ShapeChoice, SourceFile, TEXT_COLUMNS, TIME_COLUMN};
use crate::error::{Error, Result};

/// The canonical schema: `TimeGenerated` as UTC nanoseconds, every other column `text`.
pub fn canonical_schema(text: DataType) -> SchemaRef {
    let mut fields = vec![Field::new(TIME_COLUMN, DataType::Timestamp(TimeUnit::Nanosecond, None), true)];
    fields.extend(TEXT_COLUMNS.iter().map(|c| Field::new(*c, text.clone(), true)));
    Arc::new(Schema::new(fields))
}

/// Registers every input and the view `signin_logs`; returns what the JSON scans share (the
/// bad-record policy and the read counts).
pub async fn register(ctx: &SessionContext, inputs: &Inputs, options: &LakeOptions) -> Result<Arc<ScanShared>> {
    let shared = Arc::new(ScanShared {
        bad_records: BadRecords::new(options.on_bad_record, options.bad_records.as_deref())?,
        counters: Default::default(),
        check_shapes: options.shape == ShapeChoice::Auto,
        validated: Default::default(),
        fingerprints: Default::default(),
    });
    let mut sources = Vec::new();

    let parquet: Vec<&SourceFile> = inputs.files.iter().filter(|f| f.kind == FileKind::Parquet).collect();
    if !parquet.is_empty() {
        if let Some(shape) = options.shape.forced().filter(|s| *s != "sentinel") {
            return Err(Error::Format {
                path: parquet[0].display(),
                message: format!("Parquet inputs hold Sentinel columns, not the {shape} shape (use --input-format ndjson for JSON)"),
            });
        }
        for file in &parquet {
            check_parquet_footer(ctx, file).await?;
        }
        register_parquet(ctx, &parquet).await?;
        sources.push("signin_source_parquet".to_string());
    }

    let json: Vec<SourceFile> = inputs.files.iter().filter(|f| f.kind != FileKind::Parquet).cloned().collect();
    for (shape, files) in group_by_shape(ctx, json, options.shape).await? {
        ctx.register_table(shape.records_table(), Arc::new(JsonTable::new(shape, files, Arc::clone(&shared))))
            .map_err(Error::engine("registering JSON inputs"))?;
        let view = shape.view_name();
        let frame = ctx.sql(&shape.sql).await.map_err(Error::engine(format!("planning the {} shape's mapping", shape.name)))?;
        check_mapping(shape, frame.schema().as_arrow())?;
        ctx.register_table(view.as_str(), frame.into_view()).map_err(Error::engine("registering JSON inputs"))?;
        sources.push(view);
    }

    if sources.is_empty() {
        // Every file lay outside the window: the hunt runs over no rows rather than failing.
        let empty = MemTable::try_new(canonical_schema(DataType::Utf8), vec![vec![]]).map_err(Error::engine("registering inputs"))?;
        ctx.register_table("signin_source_empty", Arc::new(empty)).map_err(Error::engine("registering inputs"))?;
        sources.push("signin_source_empty".to_string());
    }
    let selects: Vec<String> = sources.iter().map(|s| canonical_select(s)).collect();
    let view = format!("CREATE VIEW signin_logs AS {}", selects.join("\nUNION ALL\n"));
    ctx.sql(&view).await.map_err(Error::engine("creating signin_logs"))?;
    Ok(shared)
}

async fn register_parquet(ctx: &SessionContext, files: &[&SourceFile]) -> Result<()> {
    let format: Arc<dyn FileFormat> = Arc::new(ParquetFormat::default());
    let urls = files
        .iter()
        .map(|f| ListingTableUrl::parse(&f.url))
        .collect::<datafusion::error::Result<Vec<_>>>()
        .map_err(Error::engine("listing inputs"))?;
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(ListingOptions::new(format).with_file_extension(""))
        // Views into the decoded pages, not copies: Parquet text is dictionary-encoded, and
        // copying every value out of its dictionary was a fifth of a 10M-row hunt's time.
        .with_schema(canonical_schema(DataType::Utf8View));
    let table = ListingTable::try_new(config).map_err(Error::engine("listing inputs"))?;
    ctx.register_table("signin_source_parquet", Arc::new(table)).map_err(Error::engine("listing inputs"))?;
    Ok(())
}

/// JSON files by shape: the forced one, or each file's first record's (a file with no record
/// goes with the Sentinel shape; its bad lines, if any, are reported by the scan).
async fn group_by_shape(ctx: &SessionContext, files: Vec<SourceFile>, choice: ShapeChoice) -> Result<Vec<(&'static Shape, Vec<SourceFile>)>> {
    let mut groups: BTreeMap<&'static str, (&'static Shape, Vec<SourceFile>)> = BTreeMap::new();
    let detected: Vec<(SourceFile, &'static Shape)> = match choice.forced() {
        Some(name) => {
            let shape = shapes::named(name)?;
            files.into_iter().map(|f| (f, shape)).collect()
        }
        None => {
            let sentinel = shapes::named("sentinel")?;
            let runtime = ctx.runtime_env();
            futures::stream::iter(files)
                .map(|file| {
                    let runtime = Arc::clone(&runtime);
                    let handle = tokio::runtime::Handle::current();
                    async move {
                        let task = tokio::task::spawn_blocking(move || {
                            let shape = first_record_shape(&file, &runtime, &handle)?;
                            Ok::<_, Error>((file, shape.unwrap_or(sentinel)))
                        });
                        task.await.map_err(|e| Error::Usage(format!("reading inputs: {e}")))?
                    }
                })
                .buffered(8)
                .try_collect()
                .await?
        }
    };
    for (file, shape) in detected {
        groups.entry(shape.name.as_str()).or_insert_with(|| (shape, Vec::new())).1.push(file);
    }
    Ok(groups.into_values().collect())
}

/// A shape's view must yield exactly the canonical columns, so the union lines up.
fn check_mapping(shape: &Shape, schema: &Schema) -> Result<()> {
    let got: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut expected = vec![TIME_COLUMN];
    expected.extend(TEXT_COLUMNS);
    let (mut got_sorted, mut expected_sorted) = (got.clone(), expected.clone());
    got_sorted.sort_unstable();
    expected_sorted.sort_unstable();
    if got_sorted != expected_sorted {
        return Err(Error::Detection {
            name: format!("shape {}", shape.name),
            message: format!("its view yields {got:?}, not the canonical columns {expected:?}"),
        });
    }
    Ok(())
}

/// The SELECT that turns one source into canonical rows: strings are never null.
fn canonical_select(table: &str) -> String {
    let mut columns = vec![format!("\"{TIME_COLUMN}\"")];
    columns.extend(TEXT_COLUMNS.iter().map(|c| format!("COALESCE(\"{c}\", '') AS \"{c}\"")));
    format!("SELECT {} FROM {table}", columns.join(", "))
}

/// Reads a Parquet footer and refuses a file that is not Parquet, that holds none of the
/// canonical columns, or whose canonical columns cannot be read as the canonical types.
async fn check_parquet_footer(ctx: &SessionContext, file: &SourceFile) -> Result<()> {
    let fail = |message: String| Error::Parquet { path: file.display(), message };
    let (store, location) = super::store::locate(file, &ctx.runtime_env())?;
    let meta = store.head(&location).await.map_err(|e| fail(crate::error::one_line(&e.to_string())))?;
    let schema = ParquetFormat::default()
        .infer_schema(&ctx.state(), &store, &[meta])
        .await
        .map_err(|e| fail(format!("not a readable Parquet file: {e}")))?;
    let mut canonical = 0;
    for field in schema.fields() {
        let name = field.name().as_str();
        let usable = if name == TIME_COLUMN {
            canonical += 1;
            matches!(field.data_type(), DataType::Timestamp(_, _))
        } else if TEXT_COLUMNS.contains(&name) {
            canonical += 1;
            is_textual(field.data_type())
        } else {
            true
        };
        if !usable {
            let expected = if name == TIME_COLUMN { "a timestamp" } else { "text (JSON as text, as Sentinel stores it)" };
            return Err(fail(format!("column {name} has type {}; expected {expected}", field.data_type())));
        }
    }
    if canonical == 0 {
        return Err(fail(
            "none of the Sentinel columns (TimeGenerated, AppId, SessionId, ...): Parquet inputs must be in the Sentinel shape, \
             as `foci-hunt convert` writes them"
                .into(),
        ));
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
