//! `foci-hunt bench`: run a hunt several times after a warm-up and report wall time, per-stage
//! compute time, throughput and peak memory, beside a scan floor measured in the same run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;

use super::Outcome;
use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::hunt::{Hunt, HuntConfig};
use crate::lake::{LakeOptions, TEXT_COLUMNS, TIME_COLUMN, Window};
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub lake: super::LakeArgs,
    #[arg(long, default_value = "v1")]
    pub detection: String,
    /// Measured runs, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Set a detection parameter.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Hunt without first narrowing the inputs to the candidate sessions (same alerts; to
    /// measure what the prefilter saves).
    #[arg(long)]
    pub no_prefilter: bool,
    #[command(flatten)]
    pub engine: super::EngineArgs,
}

/// One measured run.
struct Sample {
    wall: Duration,
    /// Bytes of the input files.
    bytes: u64,
    rows: u64,
    alerts: u64,
    /// Compute time per stage, summed over operators and partitions.
    stages: BTreeMap<&'static str, Duration>,
}

pub async fn run(args: BenchArgs) -> Result<Outcome> {
    if args.runs == 0 {
        return Err(Error::Usage("--runs must be at least 1".into()));
    }
    let params = super::parse_assignments(&args.set)?;
    let config = HuntConfig {
        inputs: args.lake.input.clone(),
        lake: args.lake.options(crate::lake::Window::default()),
        detections: vec![args.detection.clone()],
        foci: FociSource::Embedded,
        params,
        engine: args.engine.options()?,
        summary: false,
        prefilter: !args.no_prefilter,
    };
    let mut hunts = Vec::new();
    let mut floors = Vec::new();
    let bar = crate::progress::steps("bench", 2 * (args.runs as u64 + 1));
    for run in 0..=args.runs {
        let label = if run == 0 { "warm-up".to_string() } else { format!("run {run}") };
        if let Some(bar) = &bar {
            bar.set_message(format!("{label}: hunt"));
        }
        let hunt = measure_hunt(&config).await?;
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!("{label}: scan floor"));
        }
        let floor = measure_scan_floor(&config).await?;
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        if run > 0 {
            hunts.push(hunt);
            floors.push(floor);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_report(&args, &hunts, &floors);
    Ok(Outcome::Clean)
}

async fn measure_hunt(config: &HuntConfig) -> Result<Sample> {
    let started = Instant::now();
    let hunt = Hunt::prepare(config).await?;
    let mut stream = hunt.execute(0)?;
    let mut alerts = 0;
    while let Some(batch) = stream.next().await {
        alerts += batch.map_err(|e| hunt.explain(Error::engine("running the detection")(e)))?.num_rows() as u64;
    }
    let wall = started.elapsed();
    let stats = hunt.stats(0);
    let mut stages = BTreeMap::new();
    for plan in hunt.scan_plans(0) {
        for (stage, time) in stage_times(&plan) {
            *stages.entry(stage).or_insert(Duration::ZERO) += time;
        }
    }
    Ok(Sample { wall, bytes: hunt.workspace.inputs.total_bytes(), rows: stats.rows_read, alerts, stages })
}

/// Reading the columns the detections use from the same files, with no filter and no join.
async fn measure_scan_floor(config: &HuntConfig) -> Result<Sample> {
    let started = Instant::now();
    // The inputs as a hunt would open them (same files after pruning), without the rule.
    let lake = LakeOptions { window: Window::from_params(&config.params)?, ..config.lake.clone() };
    let workspace = Workspace::open(&config.inputs, &lake, &config.foci, &config.engine).await?;
    let ctx = &workspace.ctx;
    let columns: Vec<String> = std::iter::once(TIME_COLUMN).chain(TEXT_COLUMNS.iter().copied()).map(|c| format!("\"{c}\"")).collect();
    let frame = ctx
        .sql(&format!("SELECT {} FROM signin_logs", columns.join(", ")))
        .await
        .map_err(Error::engine("planning the scan floor"))?;
    let plan = frame.create_physical_plan().await.map_err(Error::engine("planning the scan floor"))?;
    let mut stream = execute_stream(plan.clone(), ctx.task_ctx()).map_err(Error::engine("running the scan floor"))?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch.map_err(|e| workspace.explain(Error::engine("running the scan floor")(e)))?.num_rows() as u64;
    }
    Ok(Sample { wall: started.elapsed(), bytes: workspace.inputs.total_bytes(), rows, alerts: 0, stages: stage_times(&plan) })
}

/// Compute time by stage: scans (and what filters and projects their rows), joins, sorting.
fn stage_times(plan: &std::sync::Arc<dyn ExecutionPlan>) -> BTreeMap<&'static str, Duration> {
    let mut stages = BTreeMap::new();
    crate::stats::visit(plan, &mut |node| {
        let stage = match node.name() {
            n if n.contains("Join") => "join",
            n if n.contains("Sort") => "sort + output",
            "DataSourceExec" | "FilterExec" | "ProjectionExec" | "RepartitionExec" | "CoalesceBatchesExec" => "scan + filter",
            _ => "other",
        };
        let metrics = node.metrics();
        // File scans time their decoding apart from elapsed_compute.
        let scanning = metrics.as_ref().and_then(|m| m.sum_by_name("time_elapsed_processing")).map_or(0, |v| v.as_usize());
        let nanos = metrics.and_then(|m| m.elapsed_compute()).unwrap_or(0) + scanning;
        *stages.entry(stage).or_insert(Duration::ZERO) += Duration::from_nanos(nanos as u64);
    });
    stages
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The process's peak resident memory, from `/proc/self/status` (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn print_report(args: &BenchArgs, hunts: &[Sample], floors: &[Sample]) {
    let bytes = hunts.first().map_or(0, |s| s.bytes);
    let walls: Vec<Duration> = hunts.iter().map(|s| s.wall).collect();
    let (min, max) = (walls.iter().min().copied().unwrap_or_default(), walls.iter().max().copied().unwrap_or_default());
    let hunt_median = median(walls);
    let floor_median = median(floors.iter().map(|s| s.wall).collect());
    let rows = hunts.first().map_or(0, |s| s.rows);
    let seconds = hunt_median.as_secs_f64().max(1e-9);
    println!("detection {} over {} bytes, {} runs after a warm-up", args.detection, bytes, hunts.len());
    println!("hunt        wall min {:>9.3}s  median {:>9.3}s  max {:>9.3}s", min.as_secs_f64(), seconds, max.as_secs_f64());
    println!("scan floor  wall median {:>9.3}s  ({} rows)", floor_median.as_secs_f64(), floors.first().map_or(0, |s| s.rows));
    println!("hunt / scan floor: {:.2}", seconds / floor_median.as_secs_f64().max(1e-9));
    println!("throughput  {:.0} rows/s, {:.1} MB/s read", rows as f64 / seconds, bytes as f64 / seconds / 1e6);
    println!("rows read {rows}, alerts {}", hunts.first().map_or(0, |s| s.alerts));
    for stage in ["scan + filter", "join", "sort + output", "other"] {
        let times: Vec<Duration> = hunts.iter().map(|s| s.stages.get(stage).copied().unwrap_or_default()).collect();
        println!("compute {stage:<14} median {:>9.3}s (summed over threads)", median(times).as_secs_f64());
    }
    match peak_rss_bytes() {
        Some(peak) => println!("peak RSS {:.1} MiB", peak as f64 / (1 << 20) as f64),
        None => println!("peak RSS unknown"),
    }
}
