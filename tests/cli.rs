//! The command line as a user meets it: outputs pinned by snapshots, exit codes, and one clear
//! error line for each kind of bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foci-hunt"))
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples").join(name).display().to_string()
}

fn hunt(args: &[&str]) -> Output {
    bin().arg("hunt").args(args).output().expect("run foci-hunt")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit 2 with exactly one error line on stderr containing every `needle`.
fn assert_error(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    }
}

#[test]
fn sample_alerts_as_ndjson() {
    let output = hunt(&["--input", &sample("signins.ndjson"), "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty());
    insta::assert_snapshot!("sample_ndjson", stdout(&output));
}

#[test]
fn sample_alerts_under_each_tuning() {
    let mut report = String::new();
    let input = sample("signins.parquet");
    for args in [
        vec!["--cli-tuning", "off"],
        vec!["--cli-tuning", "global-admin"],
        vec!["--cli-tuning", "global-admin-noncompliant"],
        vec!["--max-time-diff", "90"],
        vec!["--now", "2026-11-02T12:00:00Z", "--lookback", "3h"],
        vec!["--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T11:00:00Z"],
    ] {
        let mut all = vec!["--input", &input, "--output-format", "ndjson", "--quiet"];
        all.extend(args.iter().copied());
        let output = hunt(&all);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        report.push_str(&format!("## {}\n", args.join(" ")));
        for line in stdout(&output).lines() {
            let alert: serde_json::Value = serde_json::from_str(line).unwrap();
            let cell = |name: &str| alert[name].to_string();
            report.push_str(&format!(
                "{} {} -> {} {} ({} min)\n",
                cell("FirstRequestTimeGenerated"),
                cell("FirstAppDisplayName"),
                cell("SecondRequestTimeGenerated"),
                cell("SecondAppDisplayName"),
                cell("TimeDiff")
            ));
        }
    }
    insta::assert_snapshot!("sample_tunings", report);
}

#[test]
fn parquet_and_ndjson_samples_agree() {
    for extra in [vec![], vec!["--detection", "v2"], vec!["--detection", "v2", "--cli-tuning", "global-admin"], vec!["--summary"]] {
        let run = |file: &str| {
            let mut args = vec!["--input".to_string(), sample(file), "--quiet".to_string()];
            args.extend(extra.iter().map(|a| a.to_string()));
            let output = hunt(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(output.status.code(), Some(0), "{extra:?} {file}: {}", stderr(&output));
            stdout(&output)
        };
        let from_ndjson = run("signins.ndjson");
        assert_eq!(from_ndjson, run("signins.parquet"), "{extra:?}");
        assert!(!from_ndjson.is_empty(), "{extra:?}");
    }
}

#[test]
fn summary_goes_to_stderr() {
    let output = hunt(&["--input", &sample("signins.ndjson")]);
    let err = stderr(&output);
    assert!(err.starts_with("foci-hunt: v1: 1 files"), "{err}");
    assert!(err.contains("29 rows read") && err.contains("6 alerts"), "{err}");
}

#[test]
fn fail_on_findings_exits_1_only_with_alerts() {
    let output = hunt(&["--input", &sample("signins.ndjson"), "--quiet", "--fail-on-findings"]);
    assert_eq!(output.status.code(), Some(1));
    let none = hunt(&["--input", &sample("signins.ndjson"), "--quiet", "--fail-on-findings", "--until", "2000-01-01T00:00:00Z"]);
    assert_eq!(none.status.code(), Some(0));
    assert!(stdout(&none).is_empty());
}

#[test]
fn output_files_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("signins.ndjson");
    for (name, format) in [("a.csv", None), ("a.json", None), ("a.ndjson", None), ("a.parquet", None), ("a.out", Some("table"))] {
        let path = dir.path().join(name);
        let mut args = vec!["--input", &input[..], "--quiet", "--output"];
        let path_text = path.display().to_string();
        args.push(&path_text);
        if let Some(format) = format {
            args.extend(["--output-format", format]);
        }
        let output = hunt(&args);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert!(stdout(&output).is_empty());
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{name}");
    }
    let csv = std::fs::read_to_string(dir.path().join("a.csv")).unwrap();
    assert!(csv.starts_with("FirstRequestTimeGenerated,FirstResult,"));
    assert_eq!(csv.lines().count(), 7);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 6);
    let table = std::fs::read_to_string(dir.path().join("a.out")).unwrap();
    assert!(table.contains("| Microsoft Teams "), "{table}");
    assert!(table.contains('…'), "wide JSON cells are shortened");

    // Parquet keeps real UTC timestamps and the 23 columns.
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(dir.path().join("a.parquet")).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 6);
    let schema = reader.metadata().file_metadata().schema_descr();
    assert_eq!(schema.num_columns(), 23);
    assert!(format!("{:?}", schema.column(0).logical_type_ref()).contains("is_adjusted_to_u_t_c: true"));
}

#[test]
fn json_array_of_no_alerts_is_empty() {
    let output = hunt(&["--input", &sample("signins.ndjson"), "--quiet", "--output-format", "json", "--until", "2000-01-01T00:00:00Z"]);
    assert_eq!(stdout(&output).trim(), "[]");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = bin()
        .args(["hunt", "--input", &sample("signins.ndjson"), "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn fixture(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_ndjson_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string(&first("2026-11-02T10:00:00Z")).unwrap();
    let path = fixture(dir.path(), "bad.ndjson", &format!("{good}\n\n{good}\n{{\"TimeGenerated\": \"2026-11-02T10:00:00Z\",\n"));
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&format!("{path_text}:4:"), "not valid JSON"]);

    let path = fixture(dir.path(), "time.ndjson", &format!("{good}\n{{\"TimeGenerated\":\"02/11/2026 10:00\"}}\n"));
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&format!("{path_text}:2:"), "TimeGenerated", "02/11/2026 10:00"]);

    // An empty time does not parse either, even on a row no detection would look at.
    let path = fixture(dir.path(), "empty.ndjson", &format!("{good}\n{{\"TimeGenerated\":\"\",\"AppId\":\"not-foci\"}}\n"));
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&format!("{path_text}:2:"), "TimeGenerated \"\""]);

    let path = fixture(dir.path(), "object.ndjson", &format!("{good}\n[1, 2]\n"));
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&format!("{path_text}:2:"), "a JSON number, not an object"]);
    assert_error(&hunt(&["--input", &path_text, "--detection", "all"]), &[&format!("{path_text}:2:"), "not an object"]);

    // A record of another export shape in the middle of a file is named, not misread.
    let graph = r#"{"createdDateTime":"2026-11-02T10:00:00Z","appId":"x"}"#;
    let path = fixture(dir.path(), "mixed.ndjson", &format!("{good}\n{graph}\n"));
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&format!("{path_text}:2:"), "graph-shaped record"]);
}

#[test]
fn bad_parquet_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "fake.parquet", "this is not parquet");
    let path_text = path.display().to_string();
    assert_error(&hunt(&["--input", &path_text]), &[&path_text, "not a readable Parquet file"]);
}

#[test]
fn parquet_columns_of_unusable_types_are_refused() {
    use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StructArray};
    use datafusion::arrow::datatypes::{DataType, Field};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, column: &str, array: ArrayRef| {
        let path = dir.path().join(name);
        let batch = RecordBatch::try_from_iter([(column, array)]).unwrap();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path.display().to_string()
    };
    let nested = StructArray::from(vec![(Arc::new(Field::new("isCompliant", DataType::Int64, true)), Arc::new(Int64Array::from(vec![1])) as ArrayRef)]);
    let path = write("struct.parquet", "DeviceDetail", Arc::new(nested));
    assert_error(&hunt(&["--input", &path]), &[&path, "column DeviceDetail", "expected text"]);
    let path = write("epoch.parquet", "TimeGenerated", Arc::new(Int64Array::from(vec![1])));
    assert_error(&hunt(&["--input", &path]), &[&path, "column TimeGenerated", "expected a timestamp"]);
}

#[test]
fn bad_arguments_are_one_clear_line() {
    let input = sample("signins.ndjson");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.ndjson").display().to_string();
    assert_error(&hunt(&["--input", &missing]), &[&missing, "No such file"]);
    let unknown = fixture(dir.path(), "export.csv", "a,b\n").display().to_string();
    assert_error(&hunt(&["--input", &unknown]), &[&unknown, "--input-format"]);
    assert_error(&hunt(&["--input", &input, "--since", "2026-11-02T00:00:00Z", "--until", "2026-11-01T00:00:00Z"]), &["--since", "after --until"]);
    assert_error(&hunt(&["--input", &input, "--since", "yesterday"]), &["--since", "RFC 3339"]);
    assert_error(&hunt(&["--input", &input, "--lookback", "six hours"]), &["--lookback"]);
    assert_error(&hunt(&["--input", &input, "--max-time-diff", "ninety"]), &["max_time_diff", "ninety"]);
    assert_error(&hunt(&["--input", &input, "--set", "nope=1"]), &["nope", "no such parameter"]);
    assert_error(&hunt(&["--input", &input, "--set", "cli_tuning=on"]), &["cli_tuning", "\"on\""]);
    assert_error(&hunt(&["--input", &input, "--max-time-diff", "5", "--set", "max_time_diff=6"]), &["set twice"]);
    assert_error(&hunt(&["--input", &input, "--detection", "v9"]), &["v9", "unknown detection"]);
    assert_error(&hunt(&["--input", &input, "--foci", "http://example.invalid/foci.csv"]), &["https"]);
    let html = fixture(dir.path(), "foci.csv", "<!DOCTYPE html>\n<html><body>Not Found</body></html>\n").display().to_string();
    assert_error(&hunt(&["--input", &input, "--foci", &html]), &[&html, "HTML"]);
    let bad_id = fixture(dir.path(), "ids.csv", "client_id\n1fec8e78-bce4-4aaf-ab1b\n").display().to_string();
    assert_error(&hunt(&["--input", &input, "--foci", &bad_id]), &[&bad_id, "line 2", "not a GUID"]);
}

#[test]
fn set_binds_any_declared_parameter() {
    let input = sample("signins.ndjson");
    let by_flag = hunt(&["--input", &input, "--quiet", "--cli-tuning", "global-admin", "--max-time-diff", "90"]);
    let by_set = hunt(&["--input", &input, "--quiet", "--set", "cli_tuning=global-admin", "--set", "max_time_diff=90"]);
    assert_eq!(stdout(&by_flag), stdout(&by_set));
    assert_eq!(stdout(&by_set).lines().count(), 4);
}

#[test]
fn several_detections_write_one_file_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alerts");
    let out_text = out.display().to_string();
    let output = hunt(&["--input", &sample("signins.parquet"), "--detection", "all", "--output", &out_text]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let v1 = std::fs::read_to_string(out.join("v1.ndjson")).unwrap();
    let v2 = std::fs::read_to_string(out.join("v2.ndjson")).unwrap();
    assert_eq!(v1.lines().count(), 6);
    assert_eq!(v2.lines().count(), 2);
    // The base set computed once for both gives what each detection alone gives.
    for (name, text) in [("v1", &v1), ("v2", &v2)] {
        let alone = hunt(&["--input", &sample("signins.parquet"), "--detection", name, "--quiet", "--output-format", "ndjson"]);
        assert_eq!(&stdout(&alone), text, "{name}");
    }
    let err = stderr(&output);
    assert!(err.contains("FOCI base set, computed once for 2 detections") && err.contains("29 rows read"), "{err}");
    assert!(v2.contains("\"SecondOauthScopeInfo\""));
    assert_eq!(err.lines().filter(|l| l.starts_with("foci-hunt: v")).count(), 2);
}

#[test]
fn sample_v2_and_summary() {
    let output = hunt(&["--input", &sample("signins.ndjson"), "--detection", "v2", "--quiet", "--output-format", "csv"]);
    insta::assert_snapshot!("sample_v2_csv", stdout(&output));
    let output = hunt(&["--input", &sample("signins.ndjson"), "--detection", "v1", "--detection", "v2", "--summary", "--quiet", "--output-format", "csv"]);
    insta::assert_snapshot!("sample_summary_csv", stdout(&output));
}

#[test]
fn detections_lists_and_shows() {
    let list = bin().arg("detections").output().unwrap();
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    assert!(text.contains("v1") && text.contains("v2") && text.contains("T1651"), "{text}");
    let show = bin().args(["detections", "v2"]).output().unwrap();
    let text = stdout(&show);
    for needle in ["Output columns (25)", "max_time_diff", "default 90", "cli_tuning", "since"] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert_error(&bin().args(["detections", "v7"]).output().unwrap(), &["v7", "unknown detection"]);
}

#[test]
fn bench_reports_the_hunt_beside_its_scan_floor() {
    let output = bin().args(["bench", "--input", &sample("signins.parquet"), "--runs", "2"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    for needle in ["2 runs after a warm-up", "hunt / scan floor:", "rows read 29, alerts 6", "compute join", "peak RSS"] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
    assert_eq!(bin().args(["bench", "--input", &sample("signins.parquet"), "--runs", "0"]).output().unwrap().status.code(), Some(2));
}

#[test]
fn skipped_bad_records_are_counted_on_stderr_and_kept_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(sample("signins.ndjson")).unwrap();
    text.push_str("{\"TimeGenerated\": \"not a time\"}\nnot json at all\n");
    let path = fixture(dir.path(), "with-bad.ndjson", &text);
    let path_text = path.display().to_string();
    let sink = dir.path().join("bad.ndjson").display().to_string();

    assert_error(&hunt(&["--input", &path_text, "--bad-records", &sink]), &["--bad-records needs --on-bad-record skip"]);
    let output = hunt(&["--input", &path_text, "--on-bad-record", "skip", "--bad-records", &sink]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 6, "the good records still give every alert");
    assert!(stderr(&output).contains(&format!("2 bad records skipped, written to {sink}")), "{}", stderr(&output));
    let kept = std::fs::read_to_string(&sink).unwrap();
    assert_eq!(kept.lines().count(), 2);
    assert!(kept.contains("not json at all"));
}

#[test]
fn convert_writes_a_lake_that_hunts_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lake").display().to_string();
    let output = bin().args(["convert", "--input", &sample("signins.ndjson"), "--output", &out]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).starts_with("foci-hunt: converted 29 rows from 1 files"), "{}", stderr(&output));
    let from_lake = hunt(&["--input", &out, "--quiet"]);
    let from_sample = hunt(&["--input", &sample("signins.ndjson"), "--quiet"]);
    assert_eq!(stdout(&from_lake), stdout(&from_sample));
    let again = bin().args(["convert", "--input", &sample("signins.ndjson"), "--output", &out]).output().unwrap();
    assert_error(&again, &["is not empty", "--overwrite"]);
}
