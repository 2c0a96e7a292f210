//! The SQL workbench behind `foci-hunt sql`: statements and meta-commands over a workspace with
//! the rule's views registered and bound to the current parameters.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::context::SQLOptions;
use datafusion::physical_plan::{ExecutionPlan, displayable, execute_stream};
use datafusion::sql::parser::{DFParserBuilder, Statement};

use crate::detection::{self, Detection};
use crate::error::{Error, Result};
use crate::foci::FociSource;
use crate::output::{OutputFormat, write_stream};
use crate::lake::LakeOptions;
use crate::progress::Progress;
use crate::session::EngineOptions;
use crate::workspace::Workspace;

/// How to open a workbench.
#[derive(Debug, Clone)]
pub struct WorkbenchConfig {
    pub inputs: Vec<String>,
    pub lake: LakeOptions,
    pub foci: FociSource,
    pub params: BTreeMap<String, String>,
    pub engine: EngineOptions,
    /// Allow statements that write files or change data (COPY, INSERT).
    pub allow_write: bool,
    pub format: OutputFormat,
    /// Show progress on stderr for queries longer than a second.
    pub progress: bool,
}

/// What the shell should do after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Continue,
    Quit,
}

/// An open workbench.
pub struct Workbench {
    workspace: Workspace,
    detections: Vec<Detection>,
    base: Detection,
    params: BTreeMap<String, String>,
    allow_write: bool,
    progress: bool,
    pub format: OutputFormat,
    pub timing: bool,
    /// `\o FILE`: results are appended here instead of stdout.
    pub output: Option<PathBuf>,
}

const HELP: &str = "\
Statements end with ';' and may span lines. Meta-commands:
  \\d                 tables and views
  \\d NAME            columns and types of NAME
  \\detections        the detections and their views
  \\params            parameter values
  \\set NAME VALUE    set a parameter and rebind the detection views
  \\timing on|off     show each query's time
  \\format table|csv|ndjson|json
  \\o [FILE]          send results to FILE (appending), or back to stdout
  \\explain SQL       the physical plan
  \\q                 quit
  \\?                 this help";

impl Workbench {
    /// Opens the inputs and registers `signin_logs`, `foci_clients`, `foci_token_requests`,
    /// `foci_token_pairs` and one view per detection.
    pub async fn open(config: &WorkbenchConfig) -> Result<Workbench> {
        let detections = detection::catalog()?;
        let base = detection::base_set()?;
        let mut declaring: Vec<&Detection> = detections.iter().collect();
        declaring.push(&base);
        detection::check_declared(&config.params, &declaring)?;
        let workspace = Workspace::open(&config.inputs, &config.lake, &config.foci, &config.engine).await?;
        let workbench = Workbench {
            workspace,
            detections,
            base,
            params: config.params.clone(),
            allow_write: config.allow_write,
            progress: config.progress,
            format: config.format,
            timing: false,
            output: None,
        };
        workbench.bind_views().await?;
        Ok(workbench)
    }

    /// Registers the rule's views and the detection views with the current parameters.
    async fn bind_views(&self) -> Result<()> {
        self.workspace.register_rule_views(&self.params, false).await?;
        for detection in &self.detections {
            let alerts = self.workspace.detection_alerts(detection, &self.params).await?;
            let ctx = &self.workspace.ctx;
            ctx.deregister_table(&detection.view).map_err(Error::engine("replacing a detection view"))?;
            ctx.register_table(&detection.view, alerts.into_view()).map_err(Error::engine("registering a detection view"))?;
        }
        Ok(())
    }

    /// Tables and views, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let ctx = &self.workspace.ctx;
        let mut names: Vec<String> = ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default()
            .into_iter()
            .filter(|n| !n.starts_with("signin_source_"))
            .collect();
        names.sort();
        names
    }

    async fn table_schema(&self, name: &str) -> Result<SchemaRef> {
        let frame = self.workspace.ctx.table(name).await.map_err(|_| Error::Usage(format!("no table or view named {name}")))?;
        Ok(frame.schema().inner().clone())
    }

    /// Column names of every table and view (for completion).
    pub async fn column_names(&self) -> Vec<String> {
        let mut columns = Vec::new();
        for table in self.table_names() {
            if let Ok(schema) = self.table_schema(&table).await {
                columns.extend(schema.fields().iter().map(|f| f.name().clone()));
            }
        }
        columns.sort();
        columns.dedup();
        columns
    }

    /// Runs one input: a meta-command (`\…`) or one or more SQL statements.
    pub async fn run(&mut self, input: &str) -> Result<Reply> {
        let input = input.trim();
        if let Some(command) = input.strip_prefix('\\') {
            return self.meta(command.trim_end_matches(';').trim()).await;
        }
        if input.is_empty() {
            return Ok(Reply::Continue);
        }
        self.statements(input).await?;
        Ok(Reply::Continue)
    }

    async fn meta(&mut self, command: &str) -> Result<Reply> {
        let (name, rest) = command.split_once(char::is_whitespace).map_or((command, ""), |(n, r)| (n, r.trim()));
        let mut out = std::io::stdout().lock();
        let print = |out: &mut dyn Write, text: &str| writeln!(out, "{text}").map_err(|e| Error::Output { target: "stdout".into(), source: Box::new(e) });
        match (name, rest) {
            ("q" | "quit", _) => return Ok(Reply::Quit),
            ("?" | "help", _) => print(&mut out, HELP)?,
            ("d", "") => print(&mut out, &self.table_names().join("\n"))?,
            ("d", table) => {
                let schema = self.table_schema(table).await?;
                let lines: Vec<String> = schema.fields().iter().map(|f| format!("{:<40} {}", f.name(), f.data_type())).collect();
                print(&mut out, &lines.join("\n"))?;
            }
            ("detections", _) => {
                for d in &self.detections {
                    print(&mut out, &format!("{:<4} view {:<24} {}", d.name, d.view, d.title))?;
                }
            }
            ("params", _) => {
                let mut shown: Vec<&str> = Vec::new();
                for spec in [&self.base].into_iter().chain(&self.detections).flat_map(|d| &d.params) {
                    if shown.contains(&spec.name.as_str()) {
                        continue;
                    }
                    shown.push(&spec.name);
                    let value = match self.params.get(&spec.name) {
                        Some(value) => value.clone(),
                        None => self.defaults(&spec.name),
                    };
                    print(&mut out, &format!("{:<14} = {value}", spec.name))?;
                }
            }
            ("set", assignment) => {
                let (param, value) = assignment
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| Error::Usage("usage: \\set NAME VALUE".into()))?;
                let mut params = self.params.clone();
                params.insert(param.to_string(), value.trim().to_string());
                let mut declaring: Vec<&Detection> = self.detections.iter().collect();
                declaring.push(&self.base);
                detection::check_declared(&params, &declaring)?;
                for query in &declaring {
                    query.bind_declared(&params)?;
                }
                self.params = params;
                self.bind_views().await?;
            }
            ("timing", "on") => self.timing = true,
            ("timing", "off") => self.timing = false,
            ("format", format) => {
                self.format = <OutputFormat as clap::ValueEnum>::from_str(format, true)
                    .map_err(|_| Error::Usage(format!("unknown format {format:?} (table, csv, ndjson, json)")))?;
            }
            ("o", "") => self.output = None,
            ("o", file) => {
                let path = PathBuf::from(file);
                std::fs::File::create(&path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
                self.output = Some(path);
            }
            ("explain", sql) if !sql.is_empty() => {
                for statement in Self::parse(sql)? {
                    let plan = self.plan(statement).await?;
                    print(&mut out, &displayable(plan.as_ref()).indent(true).to_string())?;
                }
            }
            _ => return Err(Error::Usage(format!("unknown meta-command \\{command} (\\? lists them)"))),
        }
        Ok(Reply::Continue)
    }

    /// The default of parameter `name`, per query where they differ (e.g. `none (v1), 90 (v2)`).
    fn defaults(&self, name: &str) -> String {
        let mut defaults: Vec<(String, String)> = Vec::new();
        for query in [&self.base].into_iter().chain(&self.detections) {
            if let Some(spec) = query.params.iter().find(|p| p.name == name) {
                defaults.push((query.name.clone(), spec.default.clone().unwrap_or_else(|| "none".into())));
            }
        }
        if defaults.iter().all(|(_, d)| *d == defaults[0].1) {
            return format!("{} (default)", defaults[0].1);
        }
        defaults.iter().map(|(q, d)| format!("{d} ({q})")).collect::<Vec<_>>().join(", ") + " (defaults)"
    }

    /// Plans one statement, refusing writes unless allowed.
    async fn plan(&self, statement: Statement) -> Result<Arc<dyn ExecutionPlan>> {
        let ctx = &self.workspace.ctx;
        let logical = ctx.state().statement_to_plan(statement).await.map_err(Error::engine("planning"))?;
        let options = SQLOptions::new().with_allow_ddl(true).with_allow_dml(self.allow_write).with_allow_statements(true);
        if options.verify_plan(&logical).is_err() {
            return Err(Error::Usage("this statement writes data; start foci-hunt sql with --allow-write to allow it".into()));
        }
        let frame = ctx.execute_logical_plan(logical).await.map_err(Error::engine("planning"))?;
        frame.create_physical_plan().await.map_err(Error::engine("planning"))
    }

    /// The statements of `sql`.
    fn parse(sql: &str) -> Result<Vec<Statement>> {
        let statements = DFParserBuilder::new(sql)
            .build()
            .and_then(|mut parser| parser.parse_statements())
            .map_err(Error::engine("parsing"))?;
        Ok(statements.into_iter().collect())
    }

    async fn statements(&mut self, sql: &str) -> Result<()> {
        for statement in Self::parse(sql)? {
            self.query(statement).await?;
        }
        Ok(())
    }

    /// Runs one statement and writes its rows; Ctrl-C cancels it.
    async fn query(&mut self, statement: Statement) -> Result<()> {
        let started = Instant::now();
        let plan = self.plan(statement).await?;
        let stream = execute_stream(plan.clone(), self.workspace.ctx.task_ctx()).map_err(Error::engine("running the query"))?;
        let (sink, target): (Box<dyn Write + Send>, String) = match &self.output {
            Some(path) => {
                let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
                (Box::new(file), path.display().to_string())
            }
            None => (Box::new(std::io::stdout()), "stdout".into()),
        };
        let probe = crate::progress::probe(&self.workspace, &plan);
        let progress = Progress::start(!self.progress, "query", self.workspace.inputs.total_bytes(), probe);
        let result = tokio::select! {
            result = write_stream(self.format, sink, &target, stream) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Usage("query cancelled".into())),
        };
        if let Some(progress) = progress {
            progress.finish();
        }
        let rows = result.map_err(|e| self.workspace.explain(e))?;
        if self.timing {
            eprintln!("{rows} rows in {:.3}s", started.elapsed().as_secs_f64());
        }
        Ok(())
    }
}

