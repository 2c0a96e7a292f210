//! `generate`: a synthetic sign-in lake in the Sentinel shape, with planted FOCI pivots,
//! look-alikes that must stay quiet, and the exact ground truth of what each detection reports.
//!
//! Rows are produced in time order by a streaming merge: background sessions start in time
//! order and their rows wait in a heap until no later session can precede them, so memory
//! follows how many sessions overlap in time, not how many rows are written. The background
//! never redeems a token for an app any detection watches, and planted sessions have their own
//! session ids, so the only alerts are the planted ones and the truth is exact.

pub mod catalog;
pub mod lake;
pub mod population;
pub mod row;
pub mod scenarios;
pub mod shapes;
pub mod truth;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Timelike};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::error::{Error, Result};
use catalog::{App, BACKGROUND_APPS, BACKGROUND_RESOURCES, FAILURES, WATCHED_SECOND_APPS};
use lake::{LakeFormat, LakeWriter};
use population::User;
use row::{BatchBuilder, SignIn};
use scenarios::{Planted, Planter};
pub use shapes::ExportShape;

/// `generate --partition-by`: time-partitioned folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionBy {
    /// `y=YYYY/m=MM/d=DD/` folders.
    Day,
    /// `y=/m=/d=/h=HH/` folders; with `--shape diagnostic`, the diagnostic export's layout
    /// `insights-logs-noninteractiveusersigninlogs/tenantId=T/y=/m=/d=/h=/m=00/PT1H.json`.
    Hour,
}

/// The file holding the expected alerts, at the lake's root.
pub const GROUND_TRUTH_FILE: &str = "ground_truth.ndjson";

const MINUTE: i64 = 60_000_000_000;
const DAY: i64 = 24 * 60 * MINUTE;
const BATCH_ROWS: usize = 8192;
/// Mean and cap of background session sizes.
const MEAN_SESSION_ROWS: f64 = 7.0;
const MAX_SESSION_ROWS: u64 = 50;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    pub rows: u64,
    pub days: u32,
    pub seed: u64,
    /// RFC 3339 start of the first day.
    pub start: String,
    pub out: PathBuf,
    pub format: LakeFormat,
    /// Split into this many files of consecutive times.
    pub files: Option<usize>,
    /// Start a new file once one reaches this many bytes.
    pub target_file_bytes: Option<u64>,
    /// Write time-partitioned folders.
    pub partition_by: Option<PartitionBy>,
    /// The export shape of NDJSON rows.
    pub shape: ExportShape,
    pub overwrite: bool,
    /// Planted pivots and look-alikes (defaults scale with `rows`).
    pub attacks: Option<usize>,
    pub lookalikes: Option<usize>,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    pub rows: u64,
    pub files: Vec<PathBuf>,
    pub attacks: usize,
    pub lookalikes: usize,
    pub expected_alerts: usize,
}

/// Writes the lake described by `config`.
pub fn generate(config: &GenerateConfig) -> Result<GenerateReport> {
    let usage = |m: String| Error::Usage(m);
    if config.rows == 0 {
        return Err(usage("--rows must be at least 1".into()));
    }
    if config.days == 0 {
        return Err(usage("--days must be at least 1".into()));
    }
    if config.files == Some(0) {
        return Err(usage("--files must be at least 1".into()));
    }
    if config.files.is_some() && (config.partition_by.is_some() || config.target_file_bytes.is_some()) {
        return Err(usage("--files cannot be combined with --partition-by or --target-file-size".into()));
    }
    let start = crate::detection::parse_rfc3339_nanos(&config.start)
        .map_err(|message| Error::Parameter { name: "--start".into(), message })?;
    let span = i64::from(config.days) * DAY;

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let users = population::users(&mut rng, (config.rows / 300).clamp(20, 20_000) as usize);

    let default_count = ((config.rows / 50_000) as usize).clamp(8, 2000).min((config.rows / 10) as usize);
    let attacks = config.attacks.unwrap_or(default_count);
    let lookalikes = config.lookalikes.unwrap_or(default_count);
    let mut serial = 0u64;
    let mut planter = Planter { rng: &mut rng, users: &users, start, span, next_serial: &mut serial };
    let mut planted: Vec<Planted> = (0..attacks).map(|i| planter.attack(i)).collect();
    planted.extend((0..lookalikes).map(|i| planter.lookalike(i)));
    let planted_rows: u64 = planted.iter().map(|p| p.rows.len() as u64).sum();
    if planted_rows > config.rows {
        return Err(usage(format!(
            "{} rows cannot hold {attacks} attacks and {lookalikes} look-alikes ({planted_rows} rows); lower --attacks/--lookalikes",
            config.rows
        )));
    }

    let foci = truth::foci_ids();
    let mut expected: Vec<Value> = planted.iter().flat_map(|p| truth::expected_alerts(&p.rows, &users, &foci)).collect();
    expected.sort_by_key(|a| {
        ["FirstRequestTimeGenerated", "SessionId", "SecondRequestTimeGenerated", "SecondAppDisplayName"]
            .map(|k| a[k].as_str().unwrap_or_default().to_string())
    });
    let mut planted_queue: Vec<SignIn> = planted.into_iter().flat_map(|p| p.rows).collect();
    planted_queue.sort();

    let builder = BatchBuilder::new(config.format == LakeFormat::Ndjson, config.seed);
    let lake = LakeWriter::create(&config.out, config.format, config.shape, builder.schema(), config.overwrite)?;
    let mut emitter = Emitter { config, lake, builder, pending: Vec::with_capacity(BATCH_ROWS), folder: None, emitted: 0, file_index: 0 };

    let background_rows = config.rows - planted_rows;
    let mut background = Background {
        rng: &mut rng,
        users: &users,
        heap: BinaryHeap::new(),
        planted: VecDeque::from(planted_queue),
        next_serial: serial,
    };
    let sessions = (background_rows as f64 / MEAN_SESSION_ROWS).max(1.0);
    // Arrivals run a little fast so that the last sessions end inside the span.
    let mean_gap = span as f64 / sessions / 1.1;
    let mut budget = background_rows;
    let mut clock = start;
    while budget > 0 {
        clock += background.exponential(mean_gap) as i64;
        background.release_before(clock, &mut emitter, &users)?;
        budget -= background.session(clock, budget);
    }
    background.release_before(i64::MAX, &mut emitter, &users)?;
    emitter.flush(&users)?;

    let mut truth_text = String::new();
    for alert in &expected {
        truth_text.push_str(&alert.to_string());
        truth_text.push('\n');
    }
    emitter.lake.write_root_file(GROUND_TRUTH_FILE, truth_text.as_bytes())?;
    let files = emitter.lake.commit()?;
    Ok(GenerateReport { rows: emitter.emitted, files, attacks, lookalikes, expected_alerts: expected.len() })
}

/// The background: sessions in start order, and rows waiting for their turn.
struct Background<'a> {
    rng: &'a mut ChaCha8Rng,
    users: &'a [User],
    heap: BinaryHeap<Reverse<SignIn>>,
    planted: VecDeque<SignIn>,
    next_serial: u64,
}

impl Background<'_> {
    fn exponential(&mut self, mean: f64) -> f64 {
        let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
        -u.ln() * mean
    }

    /// Emits, in time order, every waiting row (background or planted) earlier than `clock`.
    fn release_before(&mut self, clock: i64, emitter: &mut Emitter, users: &[User]) -> Result<()> {
        loop {
            let heap_next = self.heap.peek().map(|Reverse(r)| r.clone());
            let planted_next = self.planted.front().cloned();
            let next = match (heap_next, planted_next) {
                (Some(h), Some(p)) => if p < h { p } else { h },
                (Some(h), None) => h,
                (None, Some(p)) => p,
                (None, None) => return Ok(()),
            };
            if next.time >= clock {
                return Ok(());
            }
            if self.planted.front().is_some_and(|p| *p == next) {
                self.planted.pop_front();
            } else {
                self.heap.pop();
            }
            emitter.emit(next, users)?;
        }
    }

    fn pick_app(&mut self, with_token: bool) -> App {
        let total: u32 = BACKGROUND_APPS.iter().map(|a| a.weight).sum();
        loop {
            let mut ticket = self.rng.random_range(0..total);
            let app = BACKGROUND_APPS.iter().find(|a| {
                if ticket < a.weight {
                    true
                } else {
                    ticket -= a.weight;
                    false
                }
            });
            match app {
                // Never redeem a token for a watched app: the background must not alert.
                Some(app) if with_token && WATCHED_SECOND_APPS.contains(&app.name) => continue,
                Some(app) => return *app,
                None => return BACKGROUND_APPS[0],
            }
        }
    }

    /// Queues one background session starting at `start`; returns its row count.
    fn session(&mut self, start: i64, budget: u64) -> u64 {
        let size = ((1.0 + self.exponential(MEAN_SESSION_ROWS - 1.0)) as u64).clamp(1, MAX_SESSION_ROWS).min(budget);
        let user = self.rng.random_range(0..self.users.len()) as u32;
        let device = self.rng.random_range(0..self.users[user as usize].devices.len()) as u8;
        let cross_tenant = self.rng.random_bool(0.03);
        let session = if self.rng.random_bool(0.01) { None } else { Some(self.rng.random()) };
        let mut time = start;
        for index in 0..size {
            if index > 0 {
                time += (self.exponential(6.0 * MINUTE as f64) as i64).max(1_000_000_000);
            }
            let token = match (index, self.rng.random::<f64>()) {
                (0, x) if x < 0.9 => "none",
                (0, _) => "refreshToken",
                (_, x) if x < 0.05 => "none",
                (_, x) if x < 0.2 => "primaryRefreshToken",
                _ => "refreshToken",
            };
            let app = self.pick_app(token != "none");
            let resource = BACKGROUND_RESOURCES[self.rng.random_range(0..BACKGROUND_RESOURCES.len())];
            let failure = self.rng.random_bool(0.08).then(|| self.rng.random_range(0..FAILURES.len()));
            self.next_serial += 1;
            // Sentinel keeps 100 ns: times are whole multiples of it.
            let at = time + self.rng.random_range(0..1_000_000_000);
            let mut row = SignIn::new(at, self.next_serial, user, app, token, session, resource);
            row.device = device;
            row.cross_tenant = cross_tenant;
            row.failure = failure;
            self.heap.push(Reverse(row));
        }
        size
    }
}

/// Turns rows into batches and files, splitting as configured.
struct Emitter<'a> {
    config: &'a GenerateConfig,
    lake: LakeWriter,
    builder: BatchBuilder,
    pending: Vec<SignIn>,
    folder: Option<String>,
    emitted: u64,
    file_index: usize,
}

impl Emitter<'_> {
    fn emit(&mut self, row: SignIn, users: &[User]) -> Result<()> {
        let at = DateTime::from_timestamp_nanos(row.time);
        let day = format!("y={:04}/m={:02}/d={:02}", at.year(), at.month(), at.day());
        let folder = match self.config.partition_by {
            None => String::new(),
            Some(PartitionBy::Day) => day,
            Some(PartitionBy::Hour) if self.config.shape == ExportShape::Diagnostic => {
                format!("{}/{day}/h={:02}/m=00", shapes::diagnostic_root(population::TENANT), at.hour())
            }
            Some(PartitionBy::Hour) => format!("{day}/h={:02}", at.hour()),
        };
        let file_index = match self.config.files {
            Some(k) => (self.emitted as u128 * k as u128 / self.config.rows as u128) as usize,
            None => 0,
        };
        let full = self.config.target_file_bytes.is_some_and(|limit| self.lake.current_bytes() >= limit);
        if !self.lake.has_open_file() || self.folder.as_deref() != Some(folder.as_str()) || file_index != self.file_index || full {
            self.flush(users)?;
            // The diagnostic export writes one PT1H.json per hour folder.
            let hourly_blob = self.config.partition_by == Some(PartitionBy::Hour)
                && self.config.shape == ExportShape::Diagnostic
                && self.config.target_file_bytes.is_none();
            self.lake.start_file(&folder, hourly_blob.then_some("PT1H.json"))?;
            self.folder = Some(folder);
            self.file_index = file_index;
        }
        self.pending.push(row);
        self.emitted += 1;
        if self.pending.len() >= BATCH_ROWS {
            self.flush(users)?;
        }
        Ok(())
    }

    fn flush(&mut self, users: &[User]) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = self
            .builder
            .build(&self.pending, users)
            .map_err(|e| Error::Output { target: self.config.out.display().to_string(), source: Box::new(e) })?;
        self.lake.write(&batch)?;
        self.pending.clear();
        Ok(())
    }
}
