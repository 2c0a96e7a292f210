//! foci-hunt: hunting FOCI refresh-token abuse in Entra ID sign-in exports with DataFusion.
//!
//! The detection itself is SQL (`sql/*.sql`); this crate feeds it and runs it:
//!
//! - [`lake`]: inputs (paths, globs, object stores, partitioned folders, export shapes) and the
//!   canonical `signin_logs` view over them.
//! - [`foci`]: the FOCI client list (embedded, file or URL) as the table `foci_clients`.
//! - [`detection`]: detection files, their headers and parameter binding.
//! - [`window`]: `--now/--lookback/--since/--until` as detection parameters.
//! - [`session`]: the DataFusion session configuration.
//! - [`functions`]: SQL functions with KQL semantics (`minute_index`, `device_is_compliant`).
//! - [`convert`]: any inputs rewritten as a sorted, day-partitioned canonical Parquet lake.
//! - [`generate`]: the synthetic sign-in lake with planted attacks and ground truth.
//! - [`workspace`]: a session with the inputs, the FOCI list and the rule's views.
//! - [`hunt`]: one run: plan the selected detections, execute, explain failures.
//! - [`passes`]: hunting within `--memory-limit`, in hash passes over sessions when a join does not fit.
//! - [`prefilter`]: Parquet lakes read twice cheaply: candidate sessions first, then their rows.
//! - [`workbench`]: the SQL workbench's statements and meta-commands.
//! - [`stats`]: rows read and paired, from the executed plan's metrics.
//! - [`progress`]: progress bars on stderr for long hunts, conversions and queries.
//! - [`output`]: table, CSV, NDJSON, JSON and Parquet writers.
//! - [`sample`]: the bundled demo sample under `data/samples/`.
//! - [`cmd`]: the command-line interface, one file per subcommand.
//! - [`error`]: the library's error type.

pub mod cmd;
pub mod convert;
pub mod detection;
pub mod error;
pub mod foci;
pub mod functions;
pub mod generate;
pub mod hunt;
pub mod lake;
pub mod output;
pub mod passes;
pub mod prefilter;
pub mod progress;
pub mod sample;
pub mod session;
pub mod stats;
pub mod window;
pub mod workbench;
pub mod workspace;

pub use error::{Error, Result};
