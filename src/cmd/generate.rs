//! `foci-hunt generate`: write a synthetic sign-in lake with planted attacks and ground truth.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::Outcome;
use crate::error::{Error, Result};
use crate::generate::lake::LakeFormat;
use crate::generate::{ExportShape, GROUND_TRUTH_FILE, GenerateConfig, PartitionBy, generate};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Sign-in rows to write (planted rows included).
    #[arg(long, allow_negative_numbers = true)]
    pub rows: i64,
    /// Days the rows spread over.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// The same seed gives the same bytes.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Start of the first day.
    #[arg(long, default_value = "2026-11-01T00:00:00Z", value_name = "RFC3339")]
    pub start: String,
    /// The lake folder (replaced only with --overwrite when it is not empty).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "parquet")]
    pub output_format: LakeFormat,
    /// Split into this many files of consecutive times.
    #[arg(long, value_name = "K")]
    pub files: Option<usize>,
    /// Start a new file once one reaches this size (e.g. 128MB, 1GB).
    #[arg(long, value_name = "SIZE")]
    pub target_file_size: Option<String>,
    #[arg(long, value_enum)]
    pub partition_by: Option<PartitionBy>,
    /// The export shape of NDJSON rows (diagnostic and graph are JSON-only).
    #[arg(long, value_enum, default_value = "sentinel")]
    pub shape: ExportShape,
    /// Replace a non-empty output folder.
    #[arg(long)]
    pub overwrite: bool,
    /// Planted FOCI pivots (default: scales with --rows).
    #[arg(long)]
    pub attacks: Option<usize>,
    /// Planted look-alikes that must not fire (default: scales with --rows).
    #[arg(long)]
    pub lookalikes: Option<usize>,
    /// No summary on stderr.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: GenerateArgs) -> Result<Outcome> {
    let started = Instant::now();
    if args.rows <= 0 {
        return Err(Error::Usage(format!("--rows must be at least 1, not {}", args.rows)));
    }
    let config = GenerateConfig {
        rows: args.rows as u64,
        days: args.days,
        seed: args.seed,
        start: args.start,
        out: args.out,
        format: args.output_format,
        files: args.files,
        target_file_bytes: args.target_file_size.as_deref().map(parse_size).transpose()?,
        partition_by: args.partition_by,
        shape: args.shape,
        overwrite: args.overwrite,
        attacks: args.attacks,
        lookalikes: args.lookalikes,
    };
    let report = generate(&config)?;
    if !args.quiet {
        let bytes: u64 = report.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "foci-hunt: generated {} rows in {} files ({bytes} bytes) with {} attacks and {} look-alikes; {} expected alerts in {}; {seconds:.2}s ({:.0} rows/s)",
            report.rows,
            report.files.len(),
            report.attacks,
            report.lookalikes,
            report.expected_alerts,
            config.out.join(GROUND_TRUTH_FILE).display(),
            report.rows as f64 / seconds.max(1e-9),
        );
    }
    Ok(Outcome::Clean)
}

/// Sizes like `512KB`, `128MB`, `1GB` or a number of bytes (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64> {
    let upper = text.trim().to_ascii_uppercase();
    let digits = upper.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &upper[digits.len()..];
    let multiplier: u64 = match unit {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => 0,
    };
    let value: u64 = digits.trim().parse().unwrap_or(0);
    match value.checked_mul(multiplier) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(Error::Parameter { name: "--target-file-size".into(), message: format!("{text:?} is not a size like 128MB") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128MB").unwrap(), 128 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("big").is_err());
        assert!(parse_size("0MB").is_err());
    }
}
