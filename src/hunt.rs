//! One hunt: registering inputs, the FOCI list and the FOCI base set, binding parameters,
//! planning each selected detection, executing, and explaining failures by the input record
//! behind them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::common::ParamValues;
use datafusion::dataframe::DataFrame;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, execute_stream};
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};

use crate::detection::{self, Detection};
use crate::error::{Error, Result};
use crate::foci::{self, FociSource};
use crate::sources::{self, InputFormat, Inputs};
use crate::stats::{self, ScanStats};

/// The FOCI base set, bound to the run's window.
pub const BASE_SET_VIEW: &str = "foci_token_requests";
/// The session pairs over the base set, which every detection filters.
pub const PAIRS_VIEW: &str = "foci_token_pairs";

/// What to hunt and how; parameters are text, parsed against the queries' headers.
#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub inputs: Vec<String>,
    pub input_format: InputFormat,
    /// Detection names, or `all`.
    pub detections: Vec<String>,
    pub foci: FociSource,
    pub params: BTreeMap<String, String>,
    pub threads: Option<usize>,
    /// One triage row per (user, session, second app) instead of one row per pair.
    pub summary: bool,
}

impl HuntConfig {
    /// A v1 hunt over `inputs` with the embedded FOCI list and default parameters.
    pub fn new(inputs: Vec<String>) -> HuntConfig {
        HuntConfig {
            inputs,
            input_format: InputFormat::Auto,
            detections: vec!["v1".to_string()],
            foci: FociSource::Embedded,
            params: BTreeMap::new(),
            threads: None,
            summary: false,
        }
    }
}

/// One planned detection of a hunt.
pub struct DetectionRun {
    pub detection: Detection,
    plan: Arc<dyn ExecutionPlan>,
}

/// A planned hunt, ready to execute. Per-run state lives here, not in globals, so that several
/// hunts can run in one process and a plan can be shipped elsewhere as it is.
pub struct Hunt {
    pub ctx: SessionContext,
    pub inputs: Inputs,
    pub runs: Vec<DetectionRun>,
    /// Set when several detections share a base set computed once: what computing it read.
    pub base_stats: Option<ScanStats>,
    /// The run's files: the FOCI list CSV and, when computed once, the base set.
    work_dir: tempfile::TempDir,
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

        let ctx = crate::session::new_context(config.threads).map_err(Error::engine("starting the engine"))?;
        let inputs = sources::resolve(&ctx, &config.inputs, config.input_format).await?;
        sources::register(&ctx, &inputs).await?;

        let clients = foci::load(&config.foci).await?;
        let work_dir = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
        foci::register(&ctx, &clients, work_dir.path()).await?;

        let base_frame = bound_query(&ctx, &base, &config.params).await?;
        let base_stats = if detections.len() > 1 {
            let file = work_dir.path().join("foci_token_requests.arrow");
            let stats = materialize(&ctx, base_frame, &file, &inputs).await?;
            ctx.register_arrow(BASE_SET_VIEW, &file.to_string_lossy(), ArrowReadOptions::default())
                .await
                .map_err(Error::engine("registering the FOCI base set"))?;
            Some(stats)
        } else {
            // One reader: a view lets the engine push the detection's filters into the scan.
            ctx.register_table(BASE_SET_VIEW, base_frame.into_view()).map_err(Error::engine("registering the FOCI base set"))?;
            None
        };

        let pairs = bound_query(&ctx, &detection::pairs()?, &config.params).await?;
        ctx.register_table(PAIRS_VIEW, pairs.into_view()).map_err(Error::engine("registering the FOCI token pairs"))?;

        let mut runs = Vec::new();
        for detection in detections {
            let context = format!("planning detection {}", detection.name);
            let pairs = bound_query(&ctx, &detection, &config.params).await?;
            let frame = match &summary {
                Some(summary) => summarise(&ctx, summary, &detection.name, pairs).await?,
                None => {
                    let columns: Vec<&str> = detection.output_columns.iter().map(String::as_str).collect();
                    pairs.select_columns(&columns).map_err(Error::engine(context.clone()))?
                }
            };
            let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
            runs.push(DetectionRun { detection, plan });
        }
        Ok(Hunt { ctx, inputs, runs, base_stats, work_dir })
    }

    /// Starts run `index`; rows arrive sorted as its query orders them.
    pub fn execute(&self, index: usize) -> Result<SendableRecordBatchStream> {
        let run = self.run(index)?;
        execute_stream(Arc::clone(&run.plan), self.ctx.task_ctx()).map_err(Error::engine("running the detection"))
    }

    /// Runs detection `index` to completion and returns every row.
    pub async fn collect(&self, index: usize) -> Result<Vec<RecordBatch>> {
        let stream = self.execute(index)?;
        stream.try_collect().await.map_err(|e| self.explain(Error::engine("running the detection")(e)))
    }

    /// Replaces an engine failure by the input record that caused it, when one can be found.
    pub fn explain(&self, error: Error) -> Error {
        match error {
            Error::Engine { .. } => crate::diagnose::first_bad_record(&self.inputs).unwrap_or(error),
            other => other,
        }
    }

    /// Statistics of run `index` so far (complete once its stream is drained). When the base
    /// set was computed once for several detections, see `base_stats` instead.
    pub fn stats(&self, index: usize) -> ScanStats {
        let Ok(run) = self.run(index) else { return ScanStats::default() };
        stats::collect(&run.plan, &is_input_file(self.work_dir.path()))
    }

    fn run(&self, index: usize) -> Result<&DetectionRun> {
        self.runs.get(index).ok_or_else(|| Error::Usage(format!("this hunt has no detection number {index}")))
    }
}

/// Tells sign-in input files from the run's own files (the FOCI list, the base set).
fn is_input_file(work_dir: &Path) -> impl Fn(&str) -> bool + use<> {
    let work_dir = work_dir.to_string_lossy().trim_start_matches('/').to_string();
    move |location: &str| !location.starts_with(&work_dir)
}

/// Computes the FOCI base set once into an Arrow IPC file that every detection then reads:
/// the inputs are scanned and parsed once however many detections run.
async fn materialize(ctx: &SessionContext, frame: DataFrame, file: &Path, inputs: &Inputs) -> Result<ScanStats> {
    let context = "computing the FOCI base set";
    let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
    let mut stream = execute_stream(Arc::clone(&plan), ctx.task_ctx()).map_err(Error::engine(context))?;
    let fail = |e: datafusion::arrow::error::ArrowError| Error::Output { target: file.display().to_string(), source: Box::new(e) };
    let sink = std::fs::File::create(file).map_err(|e| Error::Io { path: file.to_path_buf(), source: e })?;
    let mut writer = FileWriter::try_new(std::io::BufWriter::new(sink), &stream.schema()).map_err(fail)?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| {
            let error = Error::engine(context)(e);
            crate::diagnose::first_bad_record(inputs).unwrap_or(error)
        })?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    let read = stats::collect(&plan, &is_input_file(file.parent().unwrap_or(file)));
    Ok(ScanStats { rows_read: read.rows_read, foci_rows: rows })
}

/// Plans `query` with the values of `params` it declares bound as named placeholders.
async fn bound_query(ctx: &SessionContext, query: &Detection, params: &BTreeMap<String, String>) -> Result<DataFrame> {
    let values = query.bind_declared(params)?;
    let values = ParamValues::Map(values.into_iter().map(|(k, v)| (k, v.into())).collect());
    ctx.sql(&query.sql)
        .await
        .and_then(|frame| frame.with_param_values(values))
        .map_err(Error::engine(format!("planning {}", query.name)))
}

/// The triage summary over `pairs`, the full rows of detection `name`.
async fn summarise(ctx: &SessionContext, summary: &Detection, name: &str, pairs: DataFrame) -> Result<DataFrame> {
    let context = format!("summarising detection {name}");
    // The view only lives while this plan is built; the logical plan keeps what it needs.
    ctx.register_table("alerts", pairs.into_view()).map_err(Error::engine(context.clone()))?;
    let params = BTreeMap::from([("detection".to_string(), name.to_string())]);
    let frame = bound_query(ctx, summary, &params).await;
    ctx.deregister_table("alerts").map_err(Error::engine(context))?;
    frame
}

