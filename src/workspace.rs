//! A workspace: one session with the inputs, the FOCI list and the rule's views registered,
//! shared by `hunt` and the SQL workbench.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::common::ParamValues;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::physical_plan::execute_stream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::detection::{self, Detection};
use crate::error::{Error, Result};
use crate::foci::{self, FociSource};
use crate::lake::json_scan::ScanShared;
use crate::lake::{self, Inputs, LakeOptions};
use crate::session::EngineOptions;
use crate::stats::{self, ScanStats};

/// The FOCI base set, bound to the run's window.
pub const BASE_SET_VIEW: &str = "foci_token_requests";
/// The session pairs over the base set, which every detection filters.
pub const PAIRS_VIEW: &str = "foci_token_pairs";

/// A session over the inputs. Per-run state lives here, not in globals, so that several
/// workspaces can live in one process and a plan can be shipped elsewhere as it is.
pub struct Workspace {
    pub ctx: SessionContext,
    pub inputs: Inputs,
    /// The JSON scans' bad-record policy and read counts.
    pub scans: Arc<ScanShared>,
    /// The run's files: the FOCI list CSV and, when computed once, the base set.
    work_dir: tempfile::TempDir,
}

impl Workspace {
    /// Resolves and checks the inputs and registers `signin_logs` and `foci_clients`.
    pub async fn open(inputs: &[String], options: &LakeOptions, foci: &FociSource, engine: &EngineOptions) -> Result<Workspace> {
        let ctx = crate::session::new_context(engine)?;
        let resolved = lake::resolve(&ctx, inputs, options).await?;
        let scans = lake::register::register(&ctx, &resolved, options).await?;
        let clients = foci::load(foci).await?;
        let work_dir = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
        foci::register(&ctx, &clients, work_dir.path()).await?;
        Ok(Workspace { ctx, inputs: resolved, scans, work_dir })
    }

    /// (Re)registers the rule's shared views with `params`: the base set and the pairs. With
    /// `compute_once`, the base set is computed now into a file that every reader shares, and
    /// what computing it read is returned.
    pub async fn register_rule_views(&self, params: &BTreeMap<String, String>, compute_once: bool) -> Result<Option<ScanStats>> {
        for view in [BASE_SET_VIEW, PAIRS_VIEW] {
            self.ctx.deregister_table(view).map_err(Error::engine("replacing the rule's views"))?;
        }
        let base_frame = self.bound_query(&detection::base_set()?, params).await?;
        let base_stats = if compute_once {
            let file = self.work_dir.path().join("foci_token_requests.arrow");
            let stats = self.materialize(base_frame, &file).await?;
            self.ctx
                .register_arrow(BASE_SET_VIEW, &file.to_string_lossy(), ArrowReadOptions::default())
                .await
                .map_err(Error::engine("registering the FOCI base set"))?;
            Some(stats)
        } else {
            // One reader: a view lets the engine push the detection's filters into the scan.
            self.ctx.register_table(BASE_SET_VIEW, base_frame.into_view()).map_err(Error::engine("registering the FOCI base set"))?;
            None
        };
        let pairs = self.bound_query(&detection::pairs()?, params).await?;
        self.ctx.register_table(PAIRS_VIEW, pairs.into_view()).map_err(Error::engine("registering the FOCI token pairs"))?;
        Ok(base_stats)
    }

    /// `detection`'s rows, all its columns (its `@output` ones and those summaries need).
    pub async fn detection_rows(&self, detection: &Detection, params: &BTreeMap<String, String>) -> Result<DataFrame> {
        self.bound_query(detection, params).await
    }

    /// `detection`'s alerts: its `@output` columns in its order.
    pub async fn detection_alerts(&self, detection: &Detection, params: &BTreeMap<String, String>) -> Result<DataFrame> {
        let columns: Vec<&str> = detection.output_columns.iter().map(String::as_str).collect();
        self.detection_rows(detection, params)
            .await?
            .select_columns(&columns)
            .map_err(Error::engine(format!("planning detection {}", detection.name)))
    }

    /// Plans `query` with the values of `params` it declares bound as named placeholders.
    pub async fn bound_query(&self, query: &Detection, params: &BTreeMap<String, String>) -> Result<DataFrame> {
        let values = query.bind_declared(params)?;
        let values = ParamValues::Map(values.into_iter().map(|(k, v)| (k, v.into())).collect());
        self.ctx
            .sql(&query.sql)
            .await
            .and_then(|frame| frame.with_param_values(values))
            .map_err(Error::engine(format!("planning {}", query.name)))
    }

    /// Replaces an engine failure caused by an input (a bad record, an unreadable file) by
    /// that input's own error, which names the file and line.
    pub fn explain(&self, error: Error) -> Error {
        error.into_input_cause()
    }

    /// What `plan` has read so far: Parquet rows from its scans' metrics plus the JSON records
    /// decoded in this workspace (each file counted once however many scans read it).
    pub fn read_stats(&self, plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>) -> ScanStats {
        let mut stats = stats::collect(plan, &self.is_input_file());
        stats.rows_read += self.scans.counters.snapshot().records;
        stats
    }

    /// Tells sign-in input files from the workspace's own files (the FOCI list, the base set).
    pub fn is_input_file(&self) -> impl Fn(&str) -> bool + use<> {
        let work_dir = self.work_dir.path().to_string_lossy().trim_start_matches('/').to_string();
        move |location: &str| !location.starts_with(&work_dir)
    }

    /// Computes the FOCI base set once into an Arrow IPC file that every detection then reads:
    /// the inputs are scanned and parsed once however many detections run.
    async fn materialize(&self, frame: DataFrame, file: &Path) -> Result<ScanStats> {
        let context = "computing the FOCI base set";
        let plan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
        let mut stream = execute_stream(Arc::clone(&plan), self.ctx.task_ctx()).map_err(Error::engine(context))?;
        let fail = |e: datafusion::arrow::error::ArrowError| Error::Output { target: file.display().to_string(), source: Box::new(e) };
        let sink = std::fs::File::create(file).map_err(|e| Error::Io { path: file.to_path_buf(), source: e })?;
        let mut writer = FileWriter::try_new(std::io::BufWriter::new(sink), &stream.schema()).map_err(fail)?;
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| self.explain(Error::engine(context)(e)))?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(fail)?;
        }
        writer.finish().map_err(fail)?;
        let read = self.read_stats(&plan);
        Ok(ScanStats { rows_read: read.rows_read, foci_rows: rows })
    }
}
