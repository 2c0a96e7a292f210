//! Criterion benches for the pieces of a hunt, on data small enough for `cargo bench --bench
//! pieces` to finish in minutes: planning the rule's SQL, decoding JSON records of each export
//! shape, the session join over generated sessions (Parquet), and writing alerts.

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use foci_hunt::generate::lake::LakeFormat;
use foci_hunt::generate::{ExportShape, GenerateConfig, generate};
use foci_hunt::hunt::{Hunt, HuntConfig};
use foci_hunt::output::{OutputFormat, write_stream};
use futures::StreamExt;

fn lake(dir: &Path, name: &str, rows: u64, format: LakeFormat, shape: ExportShape) -> PathBuf {
    let out = dir.join(name);
    generate(&GenerateConfig {
        rows,
        days: 7,
        seed: 3,
        start: "2026-11-01T00:00:00Z".into(),
        out: out.clone(),
        format,
        files: Some(2),
        target_file_bytes: None,
        partition_by: None,
        shape,
        overwrite: false,
        attacks: None,
        lookalikes: None,
    })
    .expect("generate");
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

fn input_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("lake").flatten() {
        let path = entry.path();
        total += if path.is_dir() { input_bytes(&path) } else { entry.metadata().map_or(0, |m| m.len()) };
    }
    total
}

/// Opening the inputs, binding parameters and planning v1 and v2 (no rows are read).
fn planning(c: &mut Criterion) {
    let rt = runtime();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/samples/signins.parquet").to_string();
    let mut config = HuntConfig::new(vec![sample]);
    config.detections = vec!["all".into()];
    c.bench_function("plan v1+v2 over the sample", |b| {
        b.iter(|| rt.block_on(async { Hunt::prepare(&config).await.expect("plan").runs.len() }))
    });
}

/// Every record of 20,000 generated sign-ins decoded (a scan of all canonical columns).
fn decoding(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp");
    let mut group = c.benchmark_group("decode JSON records");
    group.sample_size(10);
    for shape in [ExportShape::Sentinel, ExportShape::Diagnostic, ExportShape::Graph] {
        let path = lake(dir.path(), &format!("{shape:?}"), 20_000, LakeFormat::Ndjson, shape);
        group.throughput(Throughput::Bytes(input_bytes(&path)));
        let config = HuntConfig::new(vec![path.display().to_string()]);
        group.bench_with_input(BenchmarkId::from_parameter(format!("{shape:?}")), &config, |b, config| {
            b.iter(|| {
                rt.block_on(async {
                    let hunt = Hunt::prepare(config).await.expect("prepare");
                    let frame = hunt.workspace.ctx.sql("SELECT * FROM signin_logs").await.expect("plan");
                    let mut stream = frame.execute_stream().await.expect("run");
                    let mut rows = 0;
                    while let Some(batch) = stream.next().await {
                        rows += batch.expect("batch").num_rows();
                    }
                    rows
                })
            })
        });
    }
    group.finish();
}

/// The whole v1 hunt (base set, session join, filters, sort) over generated Parquet sessions.
fn session_join(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp");
    let mut group = c.benchmark_group("hunt v1 over generated Parquet");
    group.sample_size(10);
    for rows in [50_000u64, 200_000] {
        let path = lake(dir.path(), &format!("p{rows}"), rows, LakeFormat::Parquet, ExportShape::Sentinel);
        group.throughput(Throughput::Elements(rows));
        let config = HuntConfig::new(vec![path.display().to_string()]);
        group.bench_with_input(BenchmarkId::from_parameter(rows), &config, |b, config| {
            b.iter(|| rt.block_on(async { Hunt::prepare(config).await.expect("prepare").collect(0).await.expect("hunt").len() }))
        });
    }
    group.finish();
}

/// Writing the alerts of a generated lake in each output format (to memory).
fn writing(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp");
    let path = lake(dir.path(), "alerts", 200_000, LakeFormat::Parquet, ExportShape::Sentinel);
    let config = HuntConfig::new(vec![path.display().to_string()]);
    let batches = rt.block_on(async { Hunt::prepare(&config).await.expect("prepare").collect(0).await.expect("hunt") });
    let schema = batches[0].schema();
    let mut group = c.benchmark_group("write alerts");
    for format in [OutputFormat::Ndjson, OutputFormat::Csv, OutputFormat::Json, OutputFormat::Parquet, OutputFormat::Table] {
        group.bench_with_input(BenchmarkId::from_parameter(format!("{format:?}")), &format, |b, format| {
            b.iter(|| {
                rt.block_on(async {
                    let stream = futures::stream::iter(batches.clone().into_iter().map(Ok));
                    let stream = Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema.clone(), stream));
                    write_stream(*format, Box::new(std::io::sink()), "sink", stream).await.expect("write")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(pieces, planning, decoding, session_join, writing);
criterion_main!(pieces);
