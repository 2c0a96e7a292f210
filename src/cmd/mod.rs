//! The command line: one file per subcommand, dispatched by one `match`.

pub mod bench;
pub mod detections;
pub mod generate;
pub mod hunt;
pub mod sql;

use std::collections::BTreeMap;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};

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
    /// Write a synthetic sign-in lake with planted attacks and its ground truth.
    Generate(generate::GenerateArgs),
    /// The SQL workbench: an interactive shell (or -c/-f scripts) over the inputs.
    Sql(sql::SqlArgs),
    /// List the detections, or show one with its parameters.
    Detections(detections::DetectionsArgs),
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
        Command::Detections(args) => detections::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Sql(args) => sql::run(args).await,
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
