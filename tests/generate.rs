//! The generator: hunts over generated lakes return exactly the ground truth, the lake has the
//! structure it claims, and bad requests leave nothing behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use foci_hunt::generate::lake::LakeFormat;
use foci_hunt::generate::{GROUND_TRUTH_FILE, GenerateConfig, generate};
use foci_hunt::hunt::{Hunt, HuntConfig};
use serde_json::Value;

fn config(out: &Path, rows: u64, format: LakeFormat) -> GenerateConfig {
    GenerateConfig {
        rows,
        days: 3,
        seed: 11,
        start: "2026-11-01T00:00:00Z".into(),
        out: out.to_path_buf(),
        format,
        files: None,
        target_file_bytes: None,
        partition_by: None,
        shape: foci_hunt::generate::ExportShape::Sentinel,
        overwrite: false,
        attacks: Some(60),
        lookalikes: Some(28),
    }
}

/// One partitioned Parquet lake shared by the ground-truth tests.
fn parquet_lake() -> &'static Path {
    static LAKE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = LAKE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lake");
        let mut config = config(&out, 12_000, LakeFormat::Parquet);
        config.partition_by = Some(foci_hunt::generate::PartitionBy::Day);
        generate(&config).unwrap();
        (dir, out)
    });
    path
}

fn truth(lake: &Path) -> Vec<Value> {
    std::fs::read_to_string(lake.join(GROUND_TRUTH_FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

type Key = (String, String, String, String);

fn key(row: &serde_json::Map<String, Value>) -> Key {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    (text("SessionId"), text("FirstRequestTimeGenerated"), text("SecondRequestTimeGenerated"), text("SecondAppDisplayName"))
}

/// The truth's alerts for `detection` under `tuning`, kept by `keep`.
fn expected(lake: &Path, detection: &str, tuning: &str, keep: impl Fn(&Value) -> bool) -> BTreeSet<Key> {
    truth(lake)
        .iter()
        .filter(|t| t["detections"][detection].as_array().unwrap().iter().any(|v| v == tuning) && keep(t))
        .map(|t| key(t.as_object().unwrap()))
        .collect()
}

async fn hunted(lake: &Path, detection: &str, params: &[(&str, &str)]) -> BTreeSet<Key> {
    let mut config = HuntConfig::new(vec![lake.display().to_string()]);
    config.detections = vec![detection.into()];
    config.params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let hunt = Hunt::prepare(&config).await.unwrap();
    let rows = foci_hunt::output::rows_as_json(&hunt.collect(0).await.unwrap()).unwrap();
    let keys: BTreeSet<Key> = rows.iter().map(key).collect();
    assert_eq!(keys.len(), rows.len(), "one alert per pair");
    keys
}

fn time(t: &Value, column: &str) -> String {
    t[column].as_str().unwrap().to_string()
}

#[tokio::test]
async fn hunts_return_exactly_the_ground_truth_under_each_tuning() {
    let lake = parquet_lake();
    for detection in ["v1", "v2"] {
        for tuning in ["off", "global-admin", "global-admin-noncompliant"] {
            let want = expected(lake, detection, tuning, |_| true);
            assert!(!want.is_empty(), "{detection} {tuning}: the lake plants alerts");
            assert_eq!(hunted(lake, detection, &[("cli_tuning", tuning)]).await, want, "{detection} {tuning}");
        }
    }
    // Tunings must differ, or the test above proves nothing about them.
    assert!(expected(lake, "v1", "off", |_| true).len() > expected(lake, "v1", "global-admin", |_| true).len());
    assert!(expected(lake, "v1", "global-admin", |_| true).len() > expected(lake, "v1", "global-admin-noncompliant", |_| true).len());
}

#[tokio::test]
async fn hunts_return_exactly_the_ground_truth_under_each_window() {
    let lake = parquet_lake();
    let (since, until) = ("2026-11-01T18:00:00.0000000Z", "2026-11-02T20:00:00.0000000Z");
    let in_window = |t: &Value| [time(t, "FirstRequestTimeGenerated"), time(t, "SecondRequestTimeGenerated")].iter().all(|x| x.as_str() >= since && x.as_str() < until);
    let want = expected(lake, "v1", "off", in_window);
    assert!(!want.is_empty() && want.len() < expected(lake, "v1", "off", |_| true).len());
    assert_eq!(hunted(lake, "v1", &[("since", since), ("until", until)]).await, want);

    let after = "2026-11-02T06:00:00.0000000Z";
    let want = expected(lake, "v1", "off", |t| time(t, "FirstRequestTimeGenerated").as_str() > after);
    assert_eq!(hunted(lake, "v1", &[("after", after)]).await, want);

    let want = expected(lake, "v1", "off", |t| t["TimeDiff"].as_i64().unwrap() <= 30);
    assert!(want.len() < expected(lake, "v1", "off", |_| true).len());
    assert_eq!(hunted(lake, "v1", &[("max_time_diff", "30")]).await, want);
}

#[tokio::test]
async fn look_alikes_alone_never_fire() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("quiet");
    let mut quiet = config(&out, 3_000, LakeFormat::Ndjson);
    quiet.attacks = Some(0);
    quiet.lookalikes = Some(35);
    let report = generate(&quiet).unwrap();
    assert_eq!(report.expected_alerts, 0);
    assert!(truth(&out).is_empty());
    for detection in ["v1", "v2"] {
        assert!(hunted(&out, detection, &[]).await.is_empty(), "{detection}");
    }
}

/// NDJSON rows of a small lake, parsed.
fn ndjson_rows() -> &'static (Vec<serde_json::Map<String, Value>>, u64) {
    static ROWS: OnceLock<(Vec<serde_json::Map<String, Value>>, u64)> = OnceLock::new();
    ROWS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lake");
        let report = generate(&config(&out, 6_000, LakeFormat::Ndjson)).unwrap();
        let text: String = report.files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
        let rows = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (rows, text.len() as u64)
    })
}

#[test]
fn rows_are_wide_and_weigh_what_real_ones_do() {
    let (rows, bytes) = ndjson_rows();
    assert_eq!(rows.len(), 6_000);
    let per_row = bytes / rows.len() as u64;
    assert!((3_000..=5_200).contains(&per_row), "{per_row} bytes per row");
    let columns = rows[0].len();
    assert!(columns >= 40, "{columns} columns");
    for row in rows.iter().take(200) {
        for column in ["DeviceDetail", "LocationDetails", "Status", "ConditionalAccessPolicies", "AuthenticationProcessingDetails", "MfaDetail"] {
            let text = row[column].as_str().unwrap();
            serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{column}: {e}: {text}"));
        }
        assert!(row["AuthenticationProcessingDetails"].as_str().unwrap().contains("\"key\":\"Oauth Scope Info\""));
        let t = row["TimeGenerated"].as_str().unwrap();
        assert_eq!(t.len(), "2026-11-01T00:00:00.0000000Z".len(), "7 fractional digits: {t}");
    }
    let policies = rows.iter().map(|r| r["ConditionalAccessPolicies"].as_str().unwrap().len()).max().unwrap();
    assert!(policies > 500, "Conditional Access policies are hundreds of bytes or more");
}

#[test]
fn rows_are_in_time_order() {
    let (rows, _) = ndjson_rows();
    let times: Vec<&str> = rows.iter().map(|r| r["TimeGenerated"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn sessions_tokens_tenants_and_failures_have_realistic_mixes() {
    let (rows, _) = ndjson_rows();
    let n = rows.len() as f64;
    let share = |pred: &dyn Fn(&serde_json::Map<String, Value>) -> bool| rows.iter().filter(|r| pred(r)).count() as f64 / n;
    let cross = share(&|r| r["HomeTenantId"] != r["ResourceTenantId"]);
    assert!((0.01..0.06).contains(&cross), "cross-tenant {cross}");
    let failed = share(&|r| r["ResultType"] != "0");
    assert!((0.05..0.11).contains(&failed), "failures {failed}");
    let codes: BTreeSet<&str> = rows.iter().map(|r| r["ResultType"].as_str().unwrap()).collect();
    assert!(codes.contains("50140") && codes.contains("50126") && codes.contains("70044"), "{codes:?}");

    let mut sessions: std::collections::BTreeMap<&str, Vec<&serde_json::Map<String, Value>>> = Default::default();
    for row in rows.iter().filter(|r| r["SessionId"] != "") {
        sessions.entry(row["SessionId"].as_str().unwrap()).or_default().push(row);
    }
    let sizes: Vec<usize> = sessions.values().map(Vec::len).collect();
    assert!(sizes.iter().all(|s| (1..=50).contains(s)), "1 to 50 sign-ins per session");
    assert!(sizes.iter().any(|s| *s >= 15) && sizes.contains(&1));
    let firsts_none = sessions.values().filter(|s| s[0]["IncomingTokenType"] == "none").count() as f64 / sessions.len() as f64;
    assert!(firsts_none > 0.8, "a session's first sign-in is usually none: {firsts_none}");
    let later: Vec<&str> = sessions.values().flat_map(|s| s[1..].iter().map(|r| r["IncomingTokenType"].as_str().unwrap())).collect();
    let fraction = |t: &str| later.iter().filter(|x| **x == t).count() as f64 / later.len() as f64;
    assert!(fraction("refreshToken") > 0.6 && fraction("primaryRefreshToken") > 0.05 && (0.01..0.1).contains(&fraction("none")));

    let foci = share(&|r| ["Microsoft Teams", "Microsoft Office", "Outlook Mobile", "OneDrive SyncEngine", "Microsoft Edge"].contains(&r["AppDisplayName"].as_str().unwrap()));
    let non_foci = share(&|r| ["Windows Sign In", "Azure Portal", "Microsoft Intune Company Portal", "Office 365 Exchange Online"].contains(&r["AppDisplayName"].as_str().unwrap()));
    assert!(foci > 0.6 && non_foci > 0.05, "FOCI {foci}, non-FOCI {non_foci}");
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, seed: u64| {
        let mut c = config(&dir.path().join(name), 3_000, LakeFormat::Parquet);
        c.seed = seed;
        c.files = Some(2);
        generate(&c).unwrap().files.iter().map(|f| std::fs::read(f).unwrap()).collect::<Vec<_>>()
    };
    let a = write("a", 5);
    assert_eq!(a.len(), 2);
    assert!(a == write("b", 5));
    assert!(a != write("c", 6));
}

#[test]
fn partitions_hold_their_day_sorted_in_zstd_parquet_with_statistics() {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let lake = parquet_lake();
    let mut days = Vec::new();
    for day in ["d=01", "d=02", "d=03"] {
        let folder = lake.join("y=2026/m=11").join(day);
        let files: Vec<PathBuf> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(!files.is_empty(), "{}", folder.display());
        for file in files {
            let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
            let metadata = reader.metadata();
            let mut previous = i64::MIN;
            for group in metadata.row_groups() {
                let time = group.column(2);
                assert_eq!(time.column_path().string(), "TimeGenerated");
                assert!(format!("{:?}", time.compression()).contains("ZSTD"));
                let stats = time.statistics().expect("statistics");
                let (Some(min), Some(max)) = (stats.min_bytes_opt(), stats.max_bytes_opt()) else { panic!("min/max") };
                let (min, max) = (i64::from_le_bytes(min.try_into().unwrap()), i64::from_le_bytes(max.try_into().unwrap()));
                assert!(previous <= min && min <= max, "sorted by TimeGenerated");
                previous = max;
                let date = chrono::DateTime::from_timestamp_nanos(min).format("d=%d").to_string();
                assert_eq!(date, day);
            }
            days.push(day);
        }
    }
    assert!(days.len() >= 3);
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_foci-hunt")).arg("generate").args(args).output().unwrap()
}

#[test]
fn bad_requests_fail_cleanly_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lake");
    let out_text = out.display().to_string();
    for rows in ["0", "-5"] {
        let output = cli(&["--rows", rows, "--out", &out_text]);
        assert_eq!(output.status.code(), Some(2), "{rows}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("--rows"));
    }
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let output = cli(&["--rows", "100", "--out", &out_text]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--overwrite"));
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");

    let output = cli(&["--rows", "100", "--out", "/proc/foci-hunt-cannot-write/lake"]);
    assert_eq!(output.status.code(), Some(2));
    let output = cli(&["--rows", "10", "--attacks", "50", "--out", &dir.path().join("small").display().to_string()]);
    assert_eq!(output.status.code(), Some(2));
    let leftovers: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(leftovers, ["lake"], "no staging folders or partial lakes");

    let output = cli(&["--rows", "300", "--attacks", "2", "--lookalikes", "2", "--out", &out_text, "--overwrite", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!out.join("keep.txt").exists() && out.join(GROUND_TRUTH_FILE).exists());
}
