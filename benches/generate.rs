//! `cargo bench --bench generate`: generator throughput in rows per minute, Parquet and NDJSON
//! side by side in one run (the target is at least 1M rows per minute to Parquet on 2 cores).

use std::time::Instant;

use foci_hunt::generate::lake::LakeFormat;
use foci_hunt::generate::{GenerateConfig, generate};

const ROWS: u64 = 300_000;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rates = Vec::new();
    for format in [LakeFormat::Parquet, LakeFormat::Ndjson] {
        let config = GenerateConfig {
            rows: ROWS,
            days: 30,
            seed: 7,
            start: "2026-11-01T00:00:00Z".into(),
            out: dir.path().join(format.extension()),
            format,
            files: None,
            target_file_bytes: None,
            partition_by: Some(foci_hunt::generate::PartitionBy::Day),
            shape: foci_hunt::generate::ExportShape::Sentinel,
            overwrite: true,
            attacks: None,
            lookalikes: None,
        };
        let started = Instant::now();
        let report = generate(&config)?;
        let seconds = started.elapsed().as_secs_f64();
        let bytes: u64 = report.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
        let per_minute = report.rows as f64 / seconds * 60.0;
        println!(
            "{:<8} {} rows in {seconds:.2}s: {:.2}M rows/min, {:.0} bytes/row, {} files",
            format.extension(),
            report.rows,
            per_minute / 1e6,
            bytes as f64 / report.rows as f64,
            report.files.len()
        );
        rates.push(per_minute);
    }
    println!("parquet / ndjson rows per minute: {:.2}", rates[0] / rates[1]);
    Ok(())
}
