//! The session prefilter: read the lake twice cheaply instead of twice fully.
//!
//! Planned as written, the rule scans the base set once per side of its session join, and the
//! first sign-ins' scan decodes every predicate column of every row (parses every JSON record)
//! before the join's filter on `SessionId` gets a say. Yet a pair needs a token redemption the
//! detection watches, and those are few. So: (1) run the join's token-redemption side alone (the
//! redemptions that pass the detection's own filters), asking only their session ids; (2) read the
//! rows of just those sessions, with `SessionId` the only predicate, so that every other Parquet
//! column is decoded only for them and JSON records of other sessions are not read again (their
//! session fingerprints from stage 1, `lake::fingerprints`, or failing that their text,
//! `lake::value_filter`, rule them out); (3) hunt over those rows. Every alert's two sign-ins
//! share a candidate session, so the alerts are exactly those of the unfiltered hunt.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::ident;
use datafusion::common::Column;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_plan::{ExecutionPlan, collect, execute_stream};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::stats::ScanStats;
use crate::workspace::Workspace;

/// Beyond this many candidate sessions the prefilter is not worth its IN list.
pub const MAX_CANDIDATE_SESSIONS: usize = 20_000;

/// What narrowing read: the plan of the candidate scan (its metrics) and its counts.
pub struct Narrowed {
    pub plans: Vec<Arc<dyn ExecutionPlan>>,
    pub stats: ScanStats,
    /// The candidate rows' share of the engine's memory pool, held while they are.
    _held: MemoryReservation,
}

/// Replaces `signin_logs` in `workspace` by the rows of the sessions `detection` (a logical
/// plan) could pair, when that is a small set; `None` leaves the workspace as it was.
pub async fn narrow_to_candidate_sessions(workspace: &Workspace, detection: &LogicalPlan) -> Result<Option<Narrowed>> {
    let context = "finding the candidate sessions";
    let state = workspace.ctx.state();
    let optimized = state.optimize(detection).map_err(Error::engine(context))?;
    let Some(sessions) = candidate_sessions_plan(&optimized).map_err(Error::engine(context))? else { return Ok(None) };
    let build = state.create_physical_plan(&sessions).await.map_err(Error::engine(context))?;
    let seconds = collect(Arc::clone(&build), workspace.ctx.task_ctx()).await.map_err(|e| workspace.explain(Error::engine(context)(e)))?;
    let mut sessions = BTreeSet::new();
    for batch in &seconds {
        let column = batch.column(0);
        match column.data_type() {
            DataType::Utf8 => sessions.extend(column.as_string::<i32>().iter().flatten().map(str::to_string)),
            DataType::Utf8View => sessions.extend(column.as_string_view().iter().flatten().map(str::to_string)),
            _ => return Ok(None),
        }
        if sessions.len() > MAX_CANDIDATE_SESSIONS {
            return Ok(None);
        }
    }
    // The build side parsed every JSON record: the candidate scan may skip records by text.
    workspace.scans.mark_validated_if_read_whole(&workspace.inputs.files);

    let context = "reading the candidate sessions";
    let candidates: Vec<Expr> = sessions.into_iter().map(lit).collect();
    let logs = workspace.ctx.table("signin_logs").await.map_err(Error::engine(context))?;
    let frame = logs.filter(ident("SessionId").in_list(candidates, false)).map_err(Error::engine(context))?;
    let scan = frame.create_physical_plan().await.map_err(Error::engine(context))?;
    // The candidate rows live in memory for the rest of the hunt: they are counted against
    // --memory-limit, and when they would not fit the hunt runs as written (it can run in
    // passes; a table in memory cannot).
    let runtime = workspace.ctx.runtime_env();
    let held = MemoryConsumer::new("session prefilter").register(&runtime.memory_pool);
    let mut stream = execute_stream(Arc::clone(&scan), workspace.ctx.task_ctx()).map_err(Error::engine(context))?;
    let mut rows = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| workspace.explain(Error::engine(context)(e)))?;
        let batch = own_rows(&batch).map_err(|e| Error::engine(context)(e.into()))?;
        if held.try_grow(batch.get_array_memory_size()).is_err() {
            return Ok(None);
        }
        rows.push(batch);
    }
    // JSON records are counted by the run's shared counters, which the hunt's stats add.
    let stats = crate::stats::collect(&scan, &workspace.is_input_file());

    let table = MemTable::try_new(scan.schema(), vec![rows]).map_err(Error::engine(context))?;
    workspace.ctx.deregister_table("signin_logs").map_err(Error::engine(context))?;
    workspace.ctx.register_table("signin_logs", Arc::new(table)).map_err(Error::engine(context))?;
    Ok(Some(Narrowed { plans: vec![build, scan], stats, _held: held }))
}

/// A copy of `batch` holding only its rows' bytes. A scan's batch of a few matching rows can
/// keep whole decoded pages alive (800 MiB over a 100M-row lake), through its buffers or, for
/// text views, through the pages its views point into.
fn own_rows(batch: &RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
    let every_row = UInt32Array::from_iter_values(0..batch.num_rows() as u32);
    let copied = take_record_batch(batch, &every_row)?;
    let columns = copied
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => Arc::clone(column),
        })
        .collect();
    RecordBatch::try_new(copied.schema(), columns)
}

/// The distinct session ids of the session pairing's token-redemption side: the left input of
/// the top-most inner join (joins below it are FOCI lookups), with the detection's filters on
/// the second sign-in already pushed into it. Only `SessionId` is asked of it, so the scan
/// reads the filters' columns and that one, not the wide columns the alerts show.
fn candidate_sessions_plan(detection: &LogicalPlan) -> datafusion::error::Result<Option<LogicalPlan>> {
    let mut redemptions = None;
    detection.apply(|node| {
        if let LogicalPlan::Join(join) = node
            && join.join_type == JoinType::Inner
        {
            redemptions = Some(Arc::clone(&join.left));
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let Some(redemptions) = redemptions else { return Ok(None) };
    let Ok((qualifier, field)) = redemptions.schema().qualified_field_with_unqualified_name("SessionId") else { return Ok(None) };
    let session = Expr::Column(Column::new(qualifier.cloned(), field.name()));
    LogicalPlanBuilder::from(Arc::unwrap_or_clone(redemptions)).project(vec![session])?.distinct()?.build().map(Some)
}
