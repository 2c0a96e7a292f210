//! Progress on stderr for work that runs longer than a second: a bar over the input bytes with
//! rows, files, rate and ETA, drawn only when stderr is a terminal (callers pass `--quiet`).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use datafusion::physical_plan::ExecutionPlan;
use indicatif::{ProgressBar, ProgressStyle};

use crate::workspace::Workspace;

/// What has been read so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadSoFar {
    pub rows: u64,
    pub bytes: u64,
    pub files: u64,
}

/// A bar that appears after a second and is cleared when finished or dropped.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// Starts a bar over `total_bytes` fed by `probe`, unless `quiet` or stderr is not a terminal.
    pub fn start(quiet: bool, label: &str, total_bytes: u64, probe: impl Fn() -> ReadSoFar + Send + 'static) -> Option<Progress> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let label = label.to_string();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let bar = ProgressBar::new(total_bytes.max(1));
            let template = "{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}";
            bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar.set_prefix(label);
            let _clear = ClearOnDrop(bar.clone());
            loop {
                let read = probe();
                bar.set_position(read.bytes.min(total_bytes));
                bar.set_message(format!("{} rows, {} files", read.rows, read.files));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Some(Progress { task })
    }

    pub fn finish(self) {
        self.task.abort();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Clears the bar when the drawing task is aborted.
struct ClearOnDrop(ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A bar over `total` steps (the runs of a benchmark), on a terminal only.
pub fn steps(label: &str, total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {elapsed} ETA {eta} {msg}");
    bar.set_style(style.unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar.set_prefix(label.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// A probe of what `plan` has read in `workspace`: JSON records and bytes from the readers'
/// counts, Parquet rows and bytes from the plan's metrics.
pub fn probe(workspace: &Workspace, plan: &Arc<dyn ExecutionPlan>) -> impl Fn() -> ReadSoFar + Send + 'static + use<> {
    let plan = Arc::clone(plan);
    let scans = Arc::clone(&workspace.scans);
    let is_input = workspace.is_input_file();
    move || {
        let parquet = crate::stats::collect(&plan, &is_input);
        let json = scans.counters.snapshot();
        ReadSoFar {
            rows: parquet.rows_read + json.records,
            bytes: crate::stats::bytes_scanned(&plan) + json.bytes_read,
            files: json.files_opened,
        }
    }
}
