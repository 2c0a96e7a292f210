//! One hunt: the selected detections planned over a workspace, executed, and their failures
//! explained by the input record behind them.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, execute_stream};
use futures::TryStreamExt;

use crate::detection::{self, Detection};
use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::lake::{LakeOptions, Window};
use crate::session::EngineOptions;
use crate::stats::ScanStats;
use crate::workspace::Workspace;

/// What to hunt and how; parameters are text, parsed against the queries' headers.
#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub inputs: Vec<String>,
    /// How to read them; the window is set from `params`.
    pub lake: LakeOptions,
    /// Detection names, or `all`.
    pub detections: Vec<String>,
    pub foci: FociSource,
    pub params: BTreeMap<String, String>,
    pub engine: EngineOptions,
    /// One triage row per (user, session, second app) instead of one row per pair.
    pub summary: bool,
    /// Narrow the inputs to the candidate sessions first (src/prefilter.rs); off only to
    /// measure what it saves.
    pub prefilter: bool,
}

impl HuntConfig {
    /// A v1 hunt over `inputs` with the embedded FOCI list and default parameters.
    pub fn new(inputs: Vec<String>) -> HuntConfig {
        HuntConfig {
            inputs,
            lake: LakeOptions::default(),
            detections: vec!["v1".to_string()],
            foci: FociSource::Embedded,
            params: BTreeMap::new(),
            engine: EngineOptions::default(),
            summary: false,
            prefilter: true,
        }
    }
}

/// One planned detection of a hunt.
pub struct DetectionRun {
    pub detection: Detection,
    /// As written (the prefilter plans part of it anew).
    logical: LogicalPlan,
    plan: Arc<dyn ExecutionPlan>,
}

impl DetectionRun {
    /// The physical plan (its metrics fill in as it runs).
    pub fn plan(&self) -> Arc<dyn ExecutionPlan> {
        Arc::clone(&self.plan)
    }
}

/// A planned hunt, ready to execute.
pub struct Hunt {
    pub workspace: Workspace,
    pub runs: Vec<DetectionRun>,
    /// Set when several detections share a base set computed once: what computing it read.
    pub base_stats: Option<ScanStats>,
    /// Set when the session prefilter narrowed the inputs: what it read, and its plans.
    pub prefilter: Option<crate::prefilter::Narrowed>,
}

impl Hunt {
    /// Resolves and checks the inputs, loads the FOCI list, binds the parameters and plans
    /// every selected detection.
    pub async fn prepare(config: &HuntConfig) -> Result<Hunt> {
        let detections = detection::select(&config.detections)?;
        let base = detection::base_set()?;
        let summary = if config.summary { Some(detection::triage_summary()?) } else { None };
        let mut declaring: Vec<&Detection> = detections.iter().collect();
        declaring.push(&base);
        detection::check_declared(&config.params, &declaring)?;

        // Files whose folders lie outside the window are never opened.
        let lake = LakeOptions { window: Window::from_params(&config.params)?, ..config.lake.clone() };
        let workspace = Workspace::open(&config.inputs, &lake, &config.foci, &config.engine).await?;
        let base_stats = workspace.register_rule_views(&config.params, detections.len() > 1).await?;

        let mut runs = plan_runs(&workspace, detections, summary.as_ref(), &config.params).await?;
        // The lake is read twice cheaply instead of twice fully (src/prefilter.rs).
        let mut prefilter = None;
        if config.prefilter && runs.len() == 1 && !workspace.inputs.files.is_empty() {
            prefilter = crate::prefilter::narrow_to_candidate_sessions(&workspace, &runs[0].logical).await?;
            if prefilter.is_some() {
                workspace.register_rule_views(&config.params, false).await?;
                let detections = runs.into_iter().map(|run| run.detection).collect();
                runs = plan_runs(&workspace, detections, summary.as_ref(), &config.params).await?;
            }
        }
        Ok(Hunt { workspace, runs, base_stats, prefilter })
    }

    /// Starts run `index`; rows arrive sorted as its query orders them.
    pub fn execute(&self, index: usize) -> Result<SendableRecordBatchStream> {
        let run = self.run(index)?;
        execute_stream(Arc::clone(&run.plan), self.workspace.ctx.task_ctx()).map_err(Error::engine("running the detection"))
    }

    /// Runs detection `index` to completion and returns every row.
    pub async fn collect(&self, index: usize) -> Result<Vec<RecordBatch>> {
        let stream = self.execute(index)?;
        stream.try_collect().await.map_err(|e| self.explain(Error::engine("running the detection")(e)))
    }

    /// Replaces an engine failure by the input record that caused it, when one can be found.
    pub fn explain(&self, error: Error) -> Error {
        self.workspace.explain(error)
    }

    /// Statistics of run `index` so far (complete once its stream is drained). When the base
    /// set was computed once for several detections, see `base_stats` instead.
    pub fn stats(&self, index: usize) -> ScanStats {
        let Ok(run) = self.run(index) else { return ScanStats::default() };
        let mut stats = self.workspace.read_stats(&run.plan);
        if let Some(narrowed) = &self.prefilter {
            stats.rows_read += narrowed.stats.rows_read;
        }
        stats
    }

    /// Every plan that read the inputs for run `index`: the prefilter's, then the run's own.
    pub fn scan_plans(&self, index: usize) -> Vec<Arc<dyn ExecutionPlan>> {
        let mut plans: Vec<Arc<dyn ExecutionPlan>> = self.prefilter.iter().flat_map(|n| n.plans.iter().cloned()).collect();
        if let Ok(run) = self.run(index) {
            plans.push(run.plan());
        }
        plans
    }

    fn run(&self, index: usize) -> Result<&DetectionRun> {
        self.runs.get(index).ok_or_else(|| Error::Usage(format!("this hunt has no detection number {index}")))
    }
}

/// Plans each detection (or its triage summary) over the workspace's current views.
async fn plan_runs(workspace: &Workspace, detections: Vec<Detection>, summary: Option<&Detection>, params: &BTreeMap<String, String>) -> Result<Vec<DetectionRun>> {
    let mut runs = Vec::new();
    for detection in detections {
        let frame = match summary {
            Some(summary) => {
                let rows = workspace.detection_rows(&detection, params).await?;
                summarise(workspace, summary, &detection.name, rows).await?
            }
            None => workspace.detection_alerts(&detection, params).await?,
        };
        let context = format!("planning detection {}", detection.name);
        let logical = frame.logical_plan().clone();
        let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
        runs.push(DetectionRun { detection, logical, plan });
    }
    Ok(runs)
}

/// The triage summary over `rows`, the full rows of detection `name`.
async fn summarise(workspace: &Workspace, summary: &Detection, name: &str, rows: DataFrame) -> Result<DataFrame> {
    let context = format!("summarising detection {name}");
    // The view only lives while this plan is built; the logical plan keeps what it needs.
    workspace.ctx.register_table("alerts", rows.into_view()).map_err(Error::engine(context.clone()))?;
    let params = BTreeMap::from([("detection".to_string(), name.to_string())]);
    let frame = workspace.bound_query(summary, &params).await;
    workspace.ctx.deregister_table("alerts").map_err(Error::engine(context))?;
    frame
}
