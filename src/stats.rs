//! Run statistics read from an executed plan's metrics, so that counting costs no extra scan.

use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::HashJoinExec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What one detection run read and paired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Sign-in rows decoded from the input files (after Parquet pruning).
    pub rows_read: u64,
    /// FOCI sign-ins in the window that entered the session join: first sign-ins plus
    /// token sign-ins to the watched apps.
    pub foci_rows: u64,
}

/// Reads the statistics of an executed detection plan. Each join side scans the inputs, so
/// rows read is the largest count any one scan of each source saw, not their sum; scans of
/// files outside `is_input` (the FOCI list) are left out.
pub fn collect(plan: &Arc<dyn ExecutionPlan>, is_input: &dyn Fn(&str) -> bool) -> ScanStats {
    let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
    let mut pairing_join_inputs = None;
    visit(plan, &mut |node| {
        if let Some(scan) = node.downcast_ref::<DataSourceExec>()
            && let Some(config) = scan.data_source().downcast_ref::<FileScanConfig>()
        {
            let locations: Vec<String> = config
                .file_groups
                .iter()
                .flat_map(|g| g.iter().map(|f| f.object_meta.location.to_string()))
                .collect();
            if locations.iter().any(|l| is_input(l)) {
                let rows = output_rows(node);
                let key = config.file_source().file_type().to_string();
                let best = per_source.entry(key).or_default();
                *best = (*best).max(rows);
            }
        }
        // The top-most hash join is the session pairing; joins below it are FOCI lookups.
        if pairing_join_inputs.is_none()
            && node.is::<HashJoinExec>()
            && let Some(metrics) = node.metrics()
        {
            let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize() as u64);
            pairing_join_inputs = Some(count("build_input_rows") + count("input_rows"));
        }
    });
    ScanStats { rows_read: per_source.values().sum(), foci_rows: pairing_join_inputs.unwrap_or(0) }
}

/// Bytes the plan's scans have read so far (Parquet reports them; other formats count 0).
pub fn bytes_scanned(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let mut bytes = 0;
    visit(plan, &mut |node| {
        if node.is::<DataSourceExec>()
            && let Some(metrics) = node.metrics()
        {
            bytes += metrics.sum_by_name("bytes_scanned").map_or(0, |v| v.as_usize() as u64);
        }
    });
    bytes
}

/// Rows a scan decoded: those it passed on plus those its pushed-down filters dropped.
fn output_rows(node: &Arc<dyn ExecutionPlan>) -> u64 {
    let Some(metrics) = node.metrics() else { return 0 };
    let pruned = metrics.sum_by_name("pushdown_rows_pruned").map_or(0, |v| v.as_usize());
    (metrics.output_rows().unwrap_or(0) + pruned) as u64
}

/// Calls `f` on `node` and every operator below it.
pub fn visit(node: &Arc<dyn ExecutionPlan>, f: &mut dyn FnMut(&Arc<dyn ExecutionPlan>)) {
    f(node);
    for child in node.children() {
        visit(child, f);
    }
}
