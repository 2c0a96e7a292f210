//! One detection run: registering inputs and the FOCI list, binding parameters, planning,
//! executing, and explaining failures by the input record behind them.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ParamValues;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream, execute_stream};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

use crate::detection::{self, Detection};
use crate::error::{Error, Result};
use crate::foci::{self, FociSource};
use crate::sources::{self, InputFormat, Inputs};
use crate::stats::{self, ScanStats};

/// What to hunt and how; parameters are text, parsed against the detection's header.
#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub inputs: Vec<String>,
    pub input_format: InputFormat,
    pub detection: String,
    pub foci: FociSource,
    pub params: BTreeMap<String, String>,
    pub threads: Option<usize>,
}

impl HuntConfig {
    /// A v1 hunt over `inputs` with the embedded FOCI list and default parameters.
    pub fn new(inputs: Vec<String>) -> HuntConfig {
        HuntConfig {
            inputs,
            input_format: InputFormat::Auto,
            detection: "v1".to_string(),
            foci: FociSource::Embedded,
            params: BTreeMap::new(),
            threads: None,
        }
    }
}

/// A planned hunt, ready to execute. Per-run state lives here, not in globals, so that several
/// hunts can run in one process and a plan can be shipped elsewhere as it is.
pub struct Hunt {
    pub ctx: SessionContext,
    pub detection: Detection,
    pub inputs: Inputs,
    plan: Arc<dyn ExecutionPlan>,
    foci_dir: tempfile::TempDir,
}

impl Hunt {
    /// Resolves and checks the inputs, loads the FOCI list, binds the parameters and plans.
    pub async fn prepare(config: &HuntConfig) -> Result<Hunt> {
        let detection = detection::find(&config.detection)?;
        let values = detection.bind(&config.params)?;
        let ctx = crate::session::new_context(config.threads).map_err(Error::engine("starting the engine"))?;

        let inputs = sources::resolve(&ctx, &config.inputs, config.input_format).await?;
        sources::register(&ctx, &inputs).await?;

        let clients = foci::load(&config.foci).await?;
        let foci_dir = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
        foci::register(&ctx, &clients, foci_dir.path()).await?;

        let context = format!("planning detection {}", detection.name);
        let frame = ctx
            .sql(&detection.sql)
            .await
            .and_then(|frame| frame.with_param_values(ParamValues::Map(values.into_iter().map(|(k, v)| (k, v.into())).collect())))
            .map_err(Error::engine(context.clone()))?;
        let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
        Ok(Hunt { ctx, detection, inputs, plan, foci_dir })
    }

    /// Starts the detection; rows arrive sorted as the detection orders them.
    pub fn execute(&self) -> Result<SendableRecordBatchStream> {
        execute_stream(Arc::clone(&self.plan), self.ctx.task_ctx()).map_err(Error::engine("running the detection"))
    }

    /// Runs the detection to completion and returns every row.
    pub async fn collect(&self) -> Result<Vec<RecordBatch>> {
        let stream = self.execute()?;
        stream.try_collect().await.map_err(|e| self.explain(Error::engine("running the detection")(e)))
    }

    /// Replaces an engine failure by the input record that caused it, when one can be found.
    pub fn explain(&self, error: Error) -> Error {
        match error {
            Error::Engine { .. } => crate::diagnose::first_bad_record(&self.inputs).unwrap_or(error),
            other => other,
        }
    }

    /// Statistics of the execution so far (complete once the stream is drained).
    pub fn stats(&self) -> ScanStats {
        let foci_dir = self.foci_dir.path().to_string_lossy().trim_start_matches('/').to_string();
        stats::collect(&self.plan, &|location| !location.starts_with(&foci_dir))
    }
}
