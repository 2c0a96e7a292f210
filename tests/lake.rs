//! Lake sources: the same sign-ins in every export shape give the same alerts, wrapped pages
//! read like lines, files outside the window are never opened, Parquet row groups outside it
//! are skipped, and bad records are skipped with a trace when asked.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::run;
use foci_hunt::generate::lake::LakeFormat;
use foci_hunt::generate::{ExportShape, GenerateConfig, PartitionBy, generate};
use foci_hunt::hunt::{Hunt, HuntConfig};
use foci_hunt::lake::{BadRecordPolicy, ShapeChoice};
use serde_json::{Map, Value};

const SINCE: &str = "2026-11-02T00:00:00Z";
const UNTIL: &str = "2026-11-03T00:00:00Z";

fn lake(dir: &Path, name: &str, shape: ExportShape, partition_by: Option<PartitionBy>, format: LakeFormat) -> PathBuf {
    let out = dir.join(name);
    generate(&GenerateConfig {
        rows: 4_000,
        days: 3,
        seed: 5,
        start: "2026-11-01T00:00:00Z".into(),
        out: out.clone(),
        format,
        files: None,
        target_file_bytes: None,
        partition_by,
        shape,
        overwrite: false,
        attacks: Some(30),
        lookalikes: Some(10),
    })
    .unwrap();
    out
}

fn config(input: &Path) -> HuntConfig {
    HuntConfig::new(vec![input.display().to_string()])
}

fn windowed(input: &Path) -> HuntConfig {
    let mut config = config(input);
    config.params = [("since", SINCE), ("until", UNTIL)].map(|(k, v)| (k.to_string(), v.to_string())).into();
    config
}

async fn alerts(config: &HuntConfig) -> Vec<Map<String, Value>> {
    run(config).await.unwrap()
}

#[tokio::test]
async fn every_export_shape_gives_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let sentinel = lake(dir.path(), "sentinel", ExportShape::Sentinel, None, LakeFormat::Ndjson);
    let expected = alerts(&config(&sentinel)).await;
    assert!(expected.len() >= 20, "{}", expected.len());
    for shape in [ExportShape::Diagnostic, ExportShape::Graph] {
        let path = lake(dir.path(), &format!("{shape:?}"), shape, None, LakeFormat::Ndjson);
        assert_eq!(alerts(&config(&path)).await, expected, "{shape:?} (auto)");
        let mut forced = config(&path);
        forced.lake.shape = if shape == ExportShape::Graph { ShapeChoice::Graph } else { ShapeChoice::Diagnostic };
        assert_eq!(alerts(&forced).await, expected, "{shape:?} (forced)");
    }
    // Shapes mix across inputs and pair with each other: with every sign-in present once per
    // shape, each pair is found four times (first and second each from either shape).
    let diagnostic = dir.path().join("Diagnostic");
    let mut mixed = config(&diagnostic);
    mixed.inputs.push(dir.path().join("Graph").display().to_string());
    let found = alerts(&mixed).await;
    assert_eq!(found.len(), expected.len() * 4);
    let distinct: BTreeSet<String> = found.iter().map(|a| serde_json::to_string(a).unwrap()).collect();
    assert_eq!(distinct.len(), expected.len());
}

/// Rewrites every NDJSON file under `lake` as pages of `per_page` records under `key`.
fn paginate(lake: &Path, out: &Path, key: &str, per_page: usize) {
    std::fs::create_dir_all(out).unwrap();
    for (index, file) in files_under(lake).iter().filter(|f| f.extension().is_some_and(|e| e == "ndjson")).enumerate() {
        if file.ends_with(foci_hunt::generate::GROUND_TRUTH_FILE) {
            continue;
        }
        let records: Vec<Value> =
            std::fs::read_to_string(file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let pages: String = records
            .chunks(per_page)
            .map(|page| format!("{}\n", serde_json::json!({ key: page, "@odata.nextLink": "https://example.invalid/next" })))
            .collect();
        std::fs::write(out.join(format!("page-{index}.json")), pages).unwrap();
    }
}

#[tokio::test]
async fn wrapped_pages_read_like_lines() {
    let dir = tempfile::tempdir().unwrap();
    let diagnostic = lake(dir.path(), "diagnostic", ExportShape::Diagnostic, None, LakeFormat::Ndjson);
    let graph = lake(dir.path(), "graph", ExportShape::Graph, None, LakeFormat::Ndjson);
    let expected = alerts(&config(&diagnostic)).await;
    paginate(&diagnostic, &dir.path().join("records"), "records", 250);
    paginate(&graph, &dir.path().join("value"), "value", 100);
    assert_eq!(alerts(&config(&dir.path().join("records"))).await, expected);
    assert_eq!(alerts(&config(&dir.path().join("value"))).await, expected);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn files_outside_the_window_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let hourly = lake(dir.path(), "hourly", ExportShape::Diagnostic, Some(PartitionBy::Hour), LakeFormat::Ndjson);
    let flat = lake(dir.path(), "flat", ExportShape::Diagnostic, None, LakeFormat::Ndjson);
    let blobs: Vec<PathBuf> = files_under(&hourly).into_iter().filter(|f| f.ends_with("PT1H.json")).collect();
    assert!(blobs.len() > 60, "{} hourly blobs", blobs.len());
    assert!(blobs[0].display().to_string().contains("insights-logs-noninteractiveusersigninlogs/tenantId="), "{:?}", blobs[0]);
    let in_window: Vec<&PathBuf> = blobs.iter().filter(|f| f.display().to_string().contains("/d=02/")).collect();

    let hunt = Hunt::prepare(&windowed(&hourly)).await.unwrap();
    let batches = hunt.collect(0).await.unwrap();
    let opened: BTreeSet<String> = hunt.workspace.scans.counters.files().into_iter().collect();
    let expected: BTreeSet<String> = in_window.iter().map(|f| url::Url::from_file_path(f).unwrap().to_string()).collect();
    assert_eq!(opened, expected, "only the blobs of 2026-11-02 are opened");
    let bytes: u64 = in_window.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert_eq!(hunt.workspace.scans.counters.snapshot().bytes_read, bytes);
    assert_eq!(hunt.workspace.inputs.pruned.len(), blobs.len() - in_window.len());

    // Pruning changes what is read, never what is found.
    let found = foci_hunt::output::rows_as_json(&batches).unwrap();
    assert!(!found.is_empty());
    assert_eq!(found, alerts(&windowed(&flat)).await);
}

#[tokio::test]
async fn parquet_row_groups_outside_the_window_are_skipped() {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::file::properties::WriterProperties;
    use datafusion::physical_plan::metrics::MetricValue;

    let dir = tempfile::tempdir().unwrap();
    let source = lake(dir.path(), "parquet", ExportShape::Sentinel, None, LakeFormat::Parquet);
    let source_file = files_under(&source).into_iter().find(|f| f.extension().is_some_and(|e| e == "parquet")).unwrap();
    // Rewritten with small row groups, so that a day is a few of them.
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&source_file).unwrap()).unwrap().build().unwrap();
    let path = dir.path().join("grouped.parquet");
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(250)).build();
    let mut writer = None;
    for batch in reader {
        let batch = batch.unwrap();
        let w = writer.get_or_insert_with(|| ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props.clone())).unwrap());
        w.write(&batch).unwrap();
    }
    writer.unwrap().close().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();

    let hunt = Hunt::prepare(&windowed(&path)).await.unwrap();
    let found = foci_hunt::output::rows_as_json(&hunt.collect(0).await.unwrap()).unwrap();
    let mut pruned = 0;
    let mut scanned = 0;
    for plan in hunt.scan_plans(0) {
        foci_hunt::stats::visit(&plan, &mut |node| {
            for metric in node.metrics().iter().flat_map(|m| m.iter()) {
                if let MetricValue::PruningMetrics { name, pruning_metrics } = metric.value()
                    && name == "row_groups_pruned_statistics"
                {
                    pruned += pruning_metrics.pruned();
                }
            }
        });
        scanned += foci_hunt::stats::bytes_scanned(&plan);
    }
    assert!(pruned > 0, "row groups pruned by statistics");
    assert!(scanned * 2 < size, "{scanned} bytes scanned of {size}");
    assert_eq!(found, alerts(&windowed(&source)).await);
}

#[tokio::test]
async fn bad_records_are_skipped_counted_and_written_out() {
    let dir = tempfile::tempdir().unwrap();
    let source = lake(dir.path(), "lake", ExportShape::Diagnostic, None, LakeFormat::Ndjson);
    let expected = alerts(&config(&source)).await;
    let file = files_under(&source).into_iter().find(|f| f.extension().is_some_and(|e| e == "ndjson") && !f.ends_with("ground_truth.ndjson")).unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string(&file).unwrap().lines().map(String::from).collect();
    lines.insert(3, "{\"time\": \"2026-11-02T10:00:00Z\", \"properties\": {".into());
    lines.insert(10, "{\"time\": \"yesterday\", \"properties\": {}}".into());
    let broken = dir.path().join("broken.ndjson");
    std::fs::write(&broken, lines.join("\n")).unwrap();

    let err = run(&config(&broken)).await.unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:4: not valid JSON", broken.display())), "{err}");

    let sink = dir.path().join("bad.ndjson");
    let mut skipping = config(&broken);
    skipping.lake.on_bad_record = BadRecordPolicy::Skip;
    skipping.lake.bad_records = Some(sink.clone());
    let hunt = Hunt::prepare(&skipping).await.unwrap();
    let found = foci_hunt::output::rows_as_json(&hunt.collect(0).await.unwrap()).unwrap();
    assert_eq!(found, expected);
    assert_eq!(hunt.workspace.scans.bad_records.skipped(), 2);
    let written: Vec<Value> = std::fs::read_to_string(&sink).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let lines: Vec<u64> = written.iter().map(|w| w["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [4, 11]);
    assert!(written[1]["error"].as_str().unwrap().contains("\"yesterday\" is not a timestamp"), "{}", written[1]);
    assert_eq!(written[0]["file"], broken.display().to_string());
    assert!(written[1]["record"].as_str().unwrap().contains("yesterday"));
}

#[tokio::test]
async fn converting_keeps_every_alert_in_sorted_day_partitioned_parquet() {
    use datafusion::parquet::basic::Compression;
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    use foci_hunt::convert::{ConvertConfig, convert};

    let dir = tempfile::tempdir().unwrap();
    let source = lake(dir.path(), "hourly", ExportShape::Graph, Some(PartitionBy::Hour), LakeFormat::Ndjson);
    let out = dir.path().join("converted");
    let conversion = ConvertConfig {
        inputs: vec![source.display().to_string()],
        lake: Default::default(),
        engine: foci_hunt::session::EngineOptions { threads: Some(2), memory_limit: Some(64 << 20) },
        output: out.display().to_string(),
        partition_by_day: true,
        overwrite: false,
    };
    let report = convert(&conversion, true).await.unwrap();
    assert_eq!(report.rows, 4_000);
    let days: Vec<&str> = report.files.iter().map(|f| f.split('/').next().unwrap()).collect();
    assert_eq!(days, ["date=2026-11-01", "date=2026-11-02", "date=2026-11-03", "date=2026-11-04"][..days.len()]);

    let mut previous = i64::MIN;
    for file in &report.files {
        let reader = SerializedFileReader::new(std::fs::File::open(out.join(file)).unwrap()).unwrap();
        let meta = reader.metadata();
        for group in meta.row_groups() {
            assert!(matches!(group.column(0).compression(), Compression::ZSTD(_)));
            assert!(group.column(0).statistics().is_some_and(|s| s.min_bytes_opt().is_some()), "statistics kept");
            assert_eq!(group.sorting_columns().map(|c| c[0].column_idx), Some(0));
        }
        // Sorted across files, in day order.
        let batches = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(out.join(file)).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in batches {
            let batch = batch.unwrap();
            let times = batch.column(0).as_any().downcast_ref::<datafusion::arrow::array::TimestampNanosecondArray>().unwrap();
            for t in times.values().iter() {
                assert!(*t >= previous);
                previous = *t;
            }
        }
    }
    assert_eq!(alerts(&config(&out)).await, alerts(&config(&source)).await);
    assert_eq!(alerts(&windowed(&out)).await, alerts(&windowed(&source)).await);

    // A second conversion into the same folder needs --overwrite.
    let err = convert(&conversion, true).await.unwrap_err().to_string();
    assert!(err.contains("--overwrite"), "{err}");
}

#[tokio::test]
async fn the_session_prefilter_changes_nothing_found_in_any_format_or_shape() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = lake(dir.path(), "parquet", ExportShape::Sentinel, Some(PartitionBy::Day), LakeFormat::Parquet);
    let ndjson = lake(dir.path(), "ndjson", ExportShape::Sentinel, None, LakeFormat::Ndjson);
    let diagnostic = lake(dir.path(), "diagnostic", ExportShape::Diagnostic, None, LakeFormat::Ndjson);
    for detection in ["v1", "v2"] {
        for input in [&parquet, &ndjson, &diagnostic] {
            let mut config = config(input);
            config.detections = vec![detection.into()];
            let hunt = Hunt::prepare(&config).await.unwrap();
            let narrowed = hunt.prefilter.as_ref().expect("the hunt is narrowed to candidate sessions");
            if input == &parquet {
                // Every row group is read for its SessionId, unless its statistics rule out every candidate.
                assert!((3_000..=4_000).contains(&narrowed.stats.rows_read), "{}", narrowed.stats.rows_read);
            } else {
                // The build side parsed every record, so the candidate scan skipped the others unparsed.
                assert!(hunt.workspace.scans.validated.load(std::sync::atomic::Ordering::Relaxed), "{input:?}");
            }
            let found = foci_hunt::output::rows_as_json(&hunt.collect(0).await.unwrap()).unwrap();
            assert!(!found.is_empty(), "{detection} {input:?}");
            config.prefilter = false;
            let unfiltered = Hunt::prepare(&config).await.unwrap();
            assert!(unfiltered.prefilter.is_none());
            let expected = foci_hunt::output::rows_as_json(&unfiltered.collect(0).await.unwrap()).unwrap();
            assert_eq!(found, expected, "{detection} {input:?}");
        }
    }
}
