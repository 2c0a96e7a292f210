//! `foci-hunt hunt`: run a detection over sign-in exports and write its alerts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::Outcome;
use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::hunt::{Hunt, HuntConfig};
use crate::output::{OutputFormat, OutputTarget};
use crate::window::WindowFlags;

/// The rule's fine-tuning options for Azure CLI seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CliTuning {
    /// No restriction (the rule as published).
    Off,
    /// OPTION 1: Azure CLI only with the Global Administrator role id in the token's scope.
    GlobalAdmin,
    /// OPTION 2: as OPTION 1, and only from a device that is not compliant.
    GlobalAdminNoncompliant,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub lake: super::LakeArgs,
    /// The detection to run; may repeat, or `all` (see `foci-hunt detections`).
    #[arg(long, default_value = "v1")]
    pub detection: Vec<String>,
    /// The FOCI client list: `embedded`, a CSV file, or an https:// URL to download.
    #[arg(long, default_value = "embedded", value_name = "embedded|PATH|URL")]
    pub foci: String,
    /// The time `--lookback` counts back from (default: the current time).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Keep sign-ins after now minus this duration (6h, 90m, 30d, 2w).
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<String>,
    /// Keep sign-ins at or after this time.
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,
    /// Keep sign-ins before this time.
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<String>,
    /// Keep pairs at most this many minutes apart (the rule's maxTimeDiff).
    #[arg(long, value_name = "MINUTES")]
    pub max_time_diff: Option<String>,
    #[arg(long, value_enum)]
    pub cli_tuning: Option<CliTuning>,
    /// Set any parameter the detection declares (see its SQL header).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Write alerts to this file instead of stdout (a folder of `<detection>.<ext>` files when
    /// several detections run); an object-store URL is written locally, then uploaded.
    #[arg(long, value_name = "PATH|URL")]
    pub output: Option<String>,
    /// Default: from the --output name; else a table on a terminal, NDJSON otherwise.
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// One triage row per (detection, user, session, second app) instead of one per pair.
    #[arg(long)]
    pub summary: bool,
    /// Exit with status 1 when there are alerts.
    #[arg(long)]
    pub fail_on_findings: bool,
    /// No summary on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Hunt without first narrowing the inputs to the candidate sessions (same alerts; to
    /// measure what the prefilter saves).
    #[arg(long)]
    pub no_prefilter: bool,
    #[command(flatten)]
    pub engine: super::EngineArgs,
}

impl HuntArgs {
    /// The detection parameters the flags and `--set` give, as text.
    fn params(&self, now_nanos: i64) -> Result<BTreeMap<String, String>> {
        let window = WindowFlags {
            now: self.now.clone(),
            lookback: self.lookback.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
        };
        let mut params = window.params(now_nanos)?;
        if let Some(minutes) = &self.max_time_diff {
            params.insert("max_time_diff".into(), minutes.clone());
        }
        if let Some(tuning) = self.cli_tuning {
            let name = tuning.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
            params.insert("cli_tuning".into(), name);
        }
        for assignment in &self.set {
            let (name, value) = super::parse_assignment(assignment)?;
            if params.contains_key(name) {
                return Err(Error::Usage(format!("parameter {name} is set twice (by a flag and by --set)")));
            }
            params.insert(name.to_string(), value.to_string());
        }
        Ok(params)
    }
}

pub async fn run(args: HuntArgs) -> Result<Outcome> {
    let started = Instant::now();
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
    let config = HuntConfig {
        inputs: args.lake.input.clone(),
        lake: args.lake.options(crate::lake::Window::default()),
        detections: args.detection.clone(),
        foci: FociSource::parse(&args.foci)?,
        params: args.params(now)?,
        engine: args.engine.options()?,
        summary: args.summary,
        prefilter: !args.no_prefilter,
    };
    // The output is checked before any input is read.
    let several = crate::detection::select(&config.detections)?.len() > 1;
    let remote = RemoteOutput::plan(args.output.as_deref())?;
    let local_output = match &remote {
        Some(remote) => Some(remote.local.clone()),
        None => args.output.as_ref().map(PathBuf::from),
    };
    let target = OutputTarget::choose(local_output, args.output_format, several)?;
    if config.engine.memory_limit.is_some() {
        return run_within_limit(&args, &config, &target, remote, started).await;
    }
    let hunt = Hunt::prepare(&config).await?;

    if let (Some(stats), false) = (hunt.base_stats, args.quiet) {
        eprintln!(
            "foci-hunt: FOCI base set, computed once for {} detections: {} files ({} bytes){}, {} rows read, {} FOCI sign-ins",
            hunt.runs.len(),
            hunt.workspace.inputs.files.len(),
            hunt.workspace.inputs.total_bytes(),
            skipped_note(&hunt),
            stats.rows_read,
            stats.foci_rows
        );
    }
    let mut total = 0;
    for (index, run) in hunt.runs.iter().enumerate() {
        let name = &run.detection.name;
        if several && target.path.is_none() && target.format == OutputFormat::Table {
            println!("== {name}: {} ==", run.detection.title);
        }
        let probe = crate::progress::probe(&hunt.workspace, &run.plan());
        let progress = crate::progress::Progress::start(args.quiet, name, hunt.workspace.inputs.total_bytes(), probe);
        let rows = target.for_detection(name).write(hunt.execute(index)?).await.map_err(|e| hunt.explain(e));
        if let Some(progress) = progress {
            progress.finish();
        }
        let rows = rows?;
        total += rows;
        if !args.quiet {
            summary_line(&hunt, index, rows, args.summary, started, hunt.stats(index), 1);
        }
    }
    if let Some(remote) = remote {
        remote.upload(&hunt.workspace.ctx, several).await?;
    }
    Ok(if total > 0 && args.fail_on_findings { Outcome::Findings } else { Outcome::Clean })
}

/// With `--memory-limit`: each detection's alerts are computed first (in passes over sessions
/// if a join does not fit), then written, so that a retried pass never writes twice.
async fn run_within_limit(args: &HuntArgs, config: &HuntConfig, target: &OutputTarget, remote: Option<RemoteOutput>, started: Instant) -> Result<Outcome> {
    let done = crate::passes::hunt_within_limit(config).await?;
    let several = done.hunt.runs.len() > 1;
    let mut total = 0;
    for (index, run) in done.hunt.runs.iter().enumerate() {
        let name = &run.detection.name;
        if several && target.path.is_none() && target.format == OutputFormat::Table {
            println!("== {name}: {} ==", run.detection.title);
        }
        let batches = done.results[index].clone();
        let stream = futures::stream::iter(batches.into_iter().map(Ok));
        let stream = Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(run.plan().schema(), stream));
        let rows = target.for_detection(name).write(stream).await?;
        total += rows;
        if !args.quiet {
            summary_line(&done.hunt, index, rows, args.summary, started, done.stats[index], done.passes);
        }
    }
    if let Some(remote) = remote {
        remote.upload(&done.hunt.workspace.ctx, several).await?;
    }
    Ok(if total > 0 && args.fail_on_findings { Outcome::Findings } else { Outcome::Clean })
}

/// An `--output` on an object store: written to a local staging path, uploaded at the end.
struct RemoteOutput {
    url: String,
    local: PathBuf,
    _staging: tempfile::TempDir,
}

impl RemoteOutput {
    fn plan(output: Option<&str>) -> Result<Option<RemoteOutput>> {
        let Some(url) = output.filter(|o| crate::lake::store::is_remote(o)) else { return Ok(None) };
        let staging = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
        // Same file name, so that the format is told from it as for a local file.
        let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or("alerts");
        let local = staging.path().join(name);
        Ok(Some(RemoteOutput { url: url.trim_end_matches('/').to_string(), local, _staging: staging }))
    }

    async fn upload(&self, ctx: &datafusion::prelude::SessionContext, several: bool) -> Result<()> {
        if !several {
            return crate::lake::store::upload(ctx, &self.local, &self.url).await;
        }
        let entries = std::fs::read_dir(&self.local).map_err(|e| Error::Io { path: self.local.clone(), source: e })?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::Io { path: self.local.clone(), source: e })?;
            let name = entry.file_name().to_string_lossy().to_string();
            crate::lake::store::upload(ctx, &entry.path(), &format!("{}/{name}", self.url)).await?;
        }
        Ok(())
    }
}

/// What was left out of the inputs and why: nothing is dropped without a count.
fn skipped_note(hunt: &Hunt) -> String {
    let inputs = &hunt.workspace.inputs;
    let mut notes = Vec::new();
    if !inputs.skipped.is_empty() {
        notes.push(format!("{} other files skipped", inputs.skipped.len()));
    }
    if !inputs.pruned.is_empty() {
        notes.push(format!("{} files ({} bytes) outside the window not opened", inputs.pruned.len(), inputs.pruned_bytes()));
    }
    let bad = &hunt.workspace.scans.bad_records;
    if bad.skipped() > 0 {
        let sink = bad.sink_path().map(|p| format!(", written to {}", p.display())).unwrap_or_default();
        notes.push(format!("{} bad records skipped{sink}", bad.skipped()));
    }
    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) }
}

fn summary_line(hunt: &Hunt, index: usize, rows: u64, triage: bool, started: Instant, stats: crate::stats::ScanStats, passes: u64) {
    let name = &hunt.runs[index].detection.name;
    let unit = if triage { "sessions" } else { "alerts" };
    let elapsed = started.elapsed().as_secs_f64();
    let in_passes = if passes > 1 { format!(" in {passes} passes over sessions (--memory-limit)") } else { String::new() };
    if hunt.base_stats.is_some() {
        eprintln!("foci-hunt: {name}: {rows} {unit}{in_passes}, {elapsed:.2}s");
        return;
    }
    eprintln!(
        "foci-hunt: {name}: {} files ({} bytes){}, {} rows read, {} FOCI sign-ins paired, {rows} {unit}{in_passes}, {elapsed:.2}s",
        hunt.workspace.inputs.files.len(),
        hunt.workspace.inputs.total_bytes(),
        skipped_note(hunt),
        stats.rows_read,
        stats.foci_rows,
    );
}
