//! `foci-hunt sql`: the SQL workbench, interactive (history, completion, Ctrl-C cancels the
//! running query) or scripted with `-c` and `-f`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

use super::Outcome;
use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::output::OutputFormat;
use crate::workbench::{Reply, Workbench, WorkbenchConfig};

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub lake: super::LakeArgs,
    /// The FOCI client list: `embedded`, a CSV file, or an https:// URL.
    #[arg(long, default_value = "embedded", value_name = "embedded|PATH|URL")]
    pub foci: String,
    /// Set a detection parameter (see `\params`).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Run this SQL (or meta-command) and exit; may repeat.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,
    /// Run the statements of this file and exit.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Default: a table on a terminal, NDJSON otherwise.
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Allow statements that write files or change data (COPY, INSERT).
    #[arg(long)]
    pub allow_write: bool,
    #[command(flatten)]
    pub engine: super::EngineArgs,
}

pub async fn run(args: SqlArgs) -> Result<Outcome> {
    let params = super::parse_assignments(&args.set)?;
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let format = args.output_format.unwrap_or(if stdout_is_terminal { OutputFormat::Table } else { OutputFormat::Ndjson });
    if format == OutputFormat::Parquet {
        return Err(Error::Usage("the workbench writes table, csv, ndjson or json; use COPY ... TO with --allow-write for Parquet".into()));
    }
    let config = WorkbenchConfig {
        inputs: args.lake.input.clone(),
        lake: args.lake.options(crate::lake::Window::default()),
        foci: FociSource::parse(&args.foci)?,
        params,
        engine: args.engine.options()?,
        allow_write: args.allow_write,
        format,
        progress: std::io::stderr().is_terminal(),
    };
    let mut workbench = Workbench::open(&config).await?;

    if args.commands.is_empty() && args.file.is_none() {
        interactive(&mut workbench).await?;
        return Ok(Outcome::Clean);
    }
    for command in &args.commands {
        if workbench.run(command).await? == Reply::Quit {
            return Ok(Outcome::Clean);
        }
    }
    if let Some(file) = &args.file {
        let text = std::fs::read_to_string(file).map_err(|e| Error::Io { path: file.clone(), source: e })?;
        for input in split_script(&text) {
            if workbench.run(&input).await? == Reply::Quit {
                break;
            }
        }
    }
    Ok(Outcome::Clean)
}

/// A script's inputs: meta-commands are whole lines starting with `\`; statements run to a
/// line ending with `;`.
pub fn split_script(text: &str) -> Vec<String> {
    let mut inputs = Vec::new();
    let mut buffer = String::new();
    for line in text.lines() {
        inputs.extend(add_line(&mut buffer, line));
    }
    if !buffer.trim().is_empty() {
        inputs.push(buffer);
    }
    inputs
}

/// Adds `line` to the input being typed in `buffer`; returns the input once it is complete.
/// Shared by scripts and the interactive shell.
fn add_line(buffer: &mut String, line: &str) -> Option<String> {
    if buffer.trim().is_empty() && line.trim_start().starts_with('\\') {
        buffer.clear();
        return Some(line.trim().to_string());
    }
    if line.trim().is_empty() && buffer.trim().is_empty() {
        return None;
    }
    buffer.push_str(line);
    buffer.push('\n');
    line.trim_end().ends_with(';').then(|| std::mem::take(buffer))
}

const META_COMMANDS: &[&str] = &["\\d", "\\detections", "\\params", "\\set", "\\timing", "\\format", "\\o", "\\explain", "\\q", "\\?"];
const KEYWORDS: &[&str] = &[
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "JOIN", "LEFT", "ON", "AND", "OR", "NOT", "COUNT", "DISTINCT",
    "AS", "WITH", "HAVING", "UNION", "ALL", "CREATE", "VIEW", "EXPLAIN", "DESC", "ASC", "LIKE", "ILIKE", "IN", "IS", "NULL",
];

/// Completes SQL keywords, meta-commands, and table and column names.
#[derive(Helper, Hinter, Highlighter, Validator)]
struct SqlHelper {
    words: Vec<String>,
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\\')).map_or(0, |i| i + 1);
        let word = &head[start..];
        if word.is_empty() {
            return Ok((start, Vec::new()));
        }
        let lower = word.to_lowercase();
        let candidates = self
            .words
            .iter()
            .filter(|w| w.to_lowercase().starts_with(&lower))
            .map(|w| Pair { display: w.clone(), replacement: w.clone() })
            .collect();
        Ok((start, candidates))
    }
}

/// Where the shell keeps its history: `$XDG_DATA_HOME/foci-hunt/history` or
/// `~/.local/share/foci-hunt/history`.
fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
    let dir = base.join("foci-hunt");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

async fn interactive(workbench: &mut Workbench) -> Result<()> {
    let readline_error = |e: ReadlineError| Error::Usage(format!("terminal: {e}"));
    let mut words: Vec<String> = META_COMMANDS.iter().chain(KEYWORDS).map(|w| w.to_string()).collect();
    words.extend(workbench.table_names());
    words.extend(workbench.column_names().await);
    let mut editor: Editor<SqlHelper, DefaultHistory> = Editor::new().map_err(readline_error)?;
    editor.set_helper(Some(SqlHelper { words }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!("foci-hunt SQL workbench: tables {}; \\? for help, \\q to quit", workbench.table_names().join(", "));
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "foci-hunt> " } else { "       ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            // Ctrl-C at the prompt drops the statement being typed.
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(readline_error(e)),
        };
        let Some(input) = add_line(&mut buffer, &line) else { continue };
        let _ = editor.add_history_entry(input.trim());
        match workbench.run(&input).await {
            Ok(Reply::Quit) => break,
            Ok(Reply::Continue) => {}
            Err(e) => eprintln!("error: {}", crate::error::one_line(&format!("{:#}", anyhow::Error::from(e)))),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_statements_and_meta_commands() {
        let script = "\\set max_time_diff 30\nSELECT 1\n  FROM t;\n\n\\timing on\nSELECT 2; SELECT 3;\nSELECT 4";
        assert_eq!(
            split_script(script),
            ["\\set max_time_diff 30", "SELECT 1\n  FROM t;\n", "\\timing on", "SELECT 2; SELECT 3;\n", "SELECT 4\n"]
        );
    }
}
