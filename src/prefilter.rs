//! The session prefilter: read the lake twice cheaply instead of twice fully.
//!
//! Planned as written, the rule scans the base set once per side of its session join, and the
//! first sign-ins' scan decodes every predicate column of every row (parses every JSON record)
//! before the join's filter on `SessionId` gets a say. Yet a pair needs a token redemption the
//! detection watches, and those are few. So: (1) run the join's build side alone (the token
//! redemptions that pass the detection's own filters) and keep their session ids; (2) read the
//! rows of just those sessions, with `SessionId` the only predicate, so that every other Parquet
//! column is decoded only for them and JSON records without a candidate's id in their text are
//! not parsed again (`lake::value_filter`); (3) hunt over those rows. Every alert's two sign-ins
//! share a candidate session, so the alerts are exactly those of the unfiltered hunt.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::ident;
use datafusion::physical_plan::joins::HashJoinExec;
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

/// Replaces `signin_logs` in `workspace` by the rows of the sessions `plan` could pair, when
/// that is a small set; `None` leaves the workspace as it was.
pub async fn narrow_to_candidate_sessions(workspace: &Workspace, plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Narrowed>> {
    let context = "finding the candidate sessions";
    let Some(build) = pairing_build_side(plan) else { return Ok(None) };
    let Ok(index) = build.schema().index_of("SessionId") else { return Ok(None) };
    let seconds = collect(Arc::clone(&build), workspace.ctx.task_ctx()).await.map_err(|e| workspace.explain(Error::engine(context)(e)))?;
    let mut sessions = BTreeSet::new();
    for batch in &seconds {
        let column = batch.column(index);
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
        // A scan's batch of a few matching rows can keep whole decoded pages alive (800 MiB
        // over a 100M-row lake): copied out, it holds only its rows.
        let every_row = UInt32Array::from_iter_values(0..batch.num_rows() as u32);
        let batch = take_record_batch(&batch, &every_row).map_err(|e| Error::engine(context)(e.into()))?;
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

/// The build side of the top-most hash join: the session pairing (joins below it are FOCI
/// lookups), built from the token redemptions.
fn pairing_build_side(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let mut found = None;
    crate::stats::visit(plan, &mut |node| {
        if found.is_none()
            && let Some(join) = node.downcast_ref::<HashJoinExec>()
        {
            found = Some(Arc::clone(join.left()));
        }
    });
    found
}
