//! The command line: one file per subcommand, dispatched by one `match`.

pub mod bench;
pub mod convert;
pub mod detections;
pub mod generate;
pub mod hunt;
pub mod sql;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::lake::{BadRecordPolicy, InputFormat, LakeOptions, ShapeChoice, Window};
use crate::session::EngineOptions;

/// Hunt FOCI refresh-token abuse in Entra ID sign-in log exports.
#[derive(Debug, Parser)]
#[command(name = "foci-hunt", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run detections over sign-in exports and write their alerts.
    Hunt(hunt::HuntArgs),
    /// Time a hunt over several runs beside a scan floor, with throughput and peak memory.
    Bench(bench::BenchArgs),
    /// Rewrite sign-in exports (any shape, format or store) as a sorted, partitioned Parquet lake.
    Convert(convert::ConvertArgs),
    /// Write a synthetic sign-in lake with planted attacks and its ground truth.
    Generate(generate::GenerateArgs),
    /// The SQL workbench: an interactive shell (or -c/-f scripts) over the inputs.
    Sql(sql::SqlArgs),
    /// List the detections, or show one with its parameters.
    Detections(detections::DetectionsArgs),
}

impl Cli {
    /// The `--threads` of a command that reads sign-ins: the runtime gets that many workers too,
    /// so that decoding and the engine together stay within it.
    pub fn threads(&self) -> Option<usize> {
        match &self.command {
            Command::Hunt(args) => args.engine.threads,
            Command::Bench(args) => args.engine.threads,
            Command::Convert(args) => args.engine.threads,
            Command::Sql(args) => args.engine.threads,
            Command::Generate(_) | Command::Detections(_) => None,
        }
    }
}

/// How a successful command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: alerts were found and `--fail-on-findings` was given.
    Findings,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Hunt(args) => hunt::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Convert(args) => convert::run(args).await,
        Command::Detections(args) => detections::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Sql(args) => sql::run(args).await,
    }
}

/// Where the sign-ins are and how to read them: shared by every command that reads them.
#[derive(Debug, Clone, Args)]
pub struct LakeArgs {
    /// A file, a folder (every sign-in file below it), a glob, or an object-store URL (az://,
    /// abfss://, https://ACCOUNT.blob.core.windows.net/..., s3://, gs://, https://); may repeat.
    #[arg(long, required = true, value_name = "PATH|URL")]
    pub input: Vec<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub input_format: InputFormat,
    /// The export shape of JSON inputs (default: told per file from its first record).
    #[arg(long, value_enum, default_value = "auto")]
    pub shape: ShapeChoice,
    /// What a malformed JSON record does: stop the run (naming file and line), or be skipped and counted.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_bad_record: BadRecordPolicy,
    /// With `--on-bad-record skip`: write each skipped record, with its file and line, here (NDJSON).
    #[arg(long, value_name = "PATH")]
    pub bad_records: Option<PathBuf>,
}

impl LakeArgs {
    pub fn options(&self, window: Window) -> LakeOptions {
        LakeOptions {
            format: self.input_format,
            shape: self.shape,
            on_bad_record: self.on_bad_record,
            bad_records: self.bad_records.clone(),
            window,
        }
    }
}

/// `--threads` and `--memory-limit`.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Engine threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Memory the engine's operators may hold (e.g. 512M, 2G); sorts spill to disk beyond it.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

impl EngineArgs {
    pub fn options(&self) -> Result<EngineOptions> {
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        let memory_limit = self.memory_limit.as_deref().map(generate::parse_size).transpose()?;
        Ok(EngineOptions { threads: self.threads, memory_limit })
    }
}

/// Splits a `--set NAME=VALUE` argument.
pub fn parse_assignment(assignment: &str) -> Result<(&str, &str)> {
    assignment
        .split_once('=')
        .ok_or_else(|| Error::Parameter { name: assignment.to_string(), message: "--set needs NAME=VALUE".into() })
}

/// The parameters a list of `--set NAME=VALUE` arguments gives.
pub fn parse_assignments(assignments: &[String]) -> Result<BTreeMap<String, String>> {
    assignments
        .iter()
        .map(|a| parse_assignment(a).map(|(name, value)| (name.to_string(), value.to_string())))
        .collect()
}
