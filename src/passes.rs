//! Hunting within a memory limit. DataFusion's hash join cannot spill: when a join's build side
//! does not fit in `--memory-limit`, the hunt is run again in hash passes over `SessionId`
//! (2, 4, 8... up to [`MAX_PASSES`]), each pass's join built from its share of the sessions. Pairs
//! never cross sessions, so the passes' alerts together are exactly the unsplit hunt's; they are
//! merged back into the detection's own order.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::datasource::memory::MemorySourceConfig;

use crate::error::{Error, Result};
use crate::hunt::{Hunt, HuntConfig};
use crate::stats::ScanStats;

/// Beyond this many passes the limit is reported as too small.
pub const MAX_PASSES: u64 = 64;

/// The alerts of each detection of a hunt, computed within the memory limit.
pub struct PassedHunt {
    /// The last pass's hunt (its workspace, detections and inputs).
    pub hunt: Hunt,
    /// Each detection's rows, in its order.
    pub results: Vec<Vec<RecordBatch>>,
    pub passes: u64,
    /// What every pass read, summed.
    pub stats: Vec<ScanStats>,
}

/// Runs `config`, splitting it into passes while a join runs out of memory.
pub async fn hunt_within_limit(config: &HuntConfig) -> Result<PassedHunt> {
    let mut passes = 1;
    loop {
        match run_passes(config, passes).await {
            Ok(done) => return Ok(done),
            Err(error) if is_out_of_memory(&error) && passes < MAX_PASSES => passes *= 2,
            Err(error) if is_out_of_memory(&error) => {
                return Err(Error::Usage(format!(
                    "the hunt does not fit in --memory-limit even in {MAX_PASSES} passes over sessions; raise the limit ({})",
                    crate::error::one_line(&error.to_string())
                )));
            }
            Err(error) => return Err(error),
        }
    }
}

async fn run_passes(config: &HuntConfig, passes: u64) -> Result<PassedHunt> {
    let mut results: Vec<Vec<RecordBatch>> = Vec::new();
    let mut stats: Vec<ScanStats> = Vec::new();
    let mut last = None;
    for pass in 0..passes {
        let mut config = config.clone();
        if passes > 1 {
            config.params.insert("passes".into(), passes.to_string());
            config.params.insert("pass".into(), pass.to_string());
        }
        let hunt = Hunt::prepare(&config).await?;
        for index in 0..hunt.runs.len() {
            let batches = hunt.collect(index).await?;
            let read = hunt.stats(index);
            if results.len() <= index {
                results.push(Vec::new());
                stats.push(ScanStats::default());
            }
            results[index].extend(batches);
            stats[index].rows_read += read.rows_read;
            stats[index].foci_rows += read.foci_rows;
        }
        last = Some(hunt);
    }
    let hunt = last.ok_or_else(|| Error::Usage("no passes were run".into()))?;
    if passes > 1 {
        for (index, batches) in results.iter_mut().enumerate() {
            *batches = merge_in_order(&hunt, index, std::mem::take(batches)).await?;
        }
    }
    Ok(PassedHunt { hunt, results, passes, stats })
}

/// `batches` (each pass sorted) sorted as detection `index` orders its rows.
async fn merge_in_order(hunt: &Hunt, index: usize, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let plan = hunt.runs[index].plan();
    let Some(ordering) = plan.properties().output_ordering().cloned() else { return Ok(batches) };
    let context = "merging the passes";
    let source = MemorySourceConfig::try_new_exec(&[batches], plan.schema(), None).map_err(Error::engine(context))?;
    let sorted: Arc<dyn ExecutionPlan> = Arc::new(SortExec::new(ordering, source));
    // The alerts are in memory already: merging them is not charged to the engine's pool.
    collect(sorted, Arc::new(TaskContext::default())).await.map_err(Error::engine(context))
}

/// True when the engine ran out of its memory pool (a join that cannot spill).
fn is_out_of_memory(error: &Error) -> bool {
    match error {
        Error::Engine { cause, .. } => matches!(cause.find_root(), DataFusionError::ResourcesExhausted(_)),
        _ => false,
    }
}
