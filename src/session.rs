//! The DataFusion session every command runs in: configuration and the functions detections use.

use datafusion::error::Result;
use datafusion::prelude::{SessionConfig, SessionContext};

/// A session for hunting. `threads` limits the engine's parallelism (default: all cores).
pub fn new_context(threads: Option<usize>) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        // Sentinel columns are PascalCase; hunters type them unquoted.
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        // A folder input means every file below it, not just its first level.
        .set_bool("datafusion.execution.listing_table_ignore_subdirectory", false)
        // Prune Parquet rows by the time window and the detections' filters while decoding.
        .set_bool("datafusion.execution.parquet.pushdown_filters", true);
    if let Some(threads) = threads {
        config = config.with_target_partitions(threads.max(1));
    }
    let mut ctx = SessionContext::new_with_config(config);
    crate::functions::register(&ctx);
    datafusion_functions_json::register_all(&mut ctx)?;
    Ok(ctx)
}
