//! Input handling: formats, timestamp encodings, folders, globs, gzip, partial columns and
//! the FOCI list sources.

mod common;

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use common::*;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use foci_hunt::foci::FociSource;
use foci_hunt::hunt::HuntConfig;
use foci_hunt::lake::InputFormat;
use serde_json::{Value, json};

const T0: &str = "2026-11-02T10:00:00Z";

fn attack() -> Vec<Value> {
    vec![first("2026-11-02T10:00:59.1234567Z"), second(AZURE_CLI, "2026-11-02T10:05:01Z")]
}

fn config(paths: &[&std::path::Path]) -> HuntConfig {
    HuntConfig::new(paths.iter().map(|p| p.display().to_string()).collect())
}

/// Writes the attack pair as Parquet with `TimeGenerated` in `unit` and zone `tz`.
fn write_parquet(path: &std::path::Path, unit: TimeUnit, tz: Option<&str>) {
    let rows = attack();
    let nanos: Vec<i64> = rows
        .iter()
        .map(|r| foci_hunt::detection::parse_rfc3339_nanos(r["TimeGenerated"].as_str().unwrap()).unwrap())
        .collect();
    let divisor = match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    };
    let values = nanos.iter().map(|n| n.div_euclid(divisor));
    let times: ArrayRef = match unit {
        TimeUnit::Second => Arc::new(TimestampSecondArray::from_iter_values(values).with_timezone_opt(tz)),
        TimeUnit::Millisecond => Arc::new(TimestampMillisecondArray::from_iter_values(values).with_timezone_opt(tz)),
        TimeUnit::Microsecond => Arc::new(TimestampMicrosecondArray::from_iter_values(values).with_timezone_opt(tz)),
        TimeUnit::Nanosecond => Arc::new(TimestampNanosecondArray::from_iter_values(values).with_timezone_opt(tz)),
    };
    let mut fields = vec![Field::new("TimeGenerated", times.data_type().clone(), true)];
    let mut columns = vec![times];
    for name in ["HomeTenantId", "ResourceTenantId", "AppId", "AppDisplayName", "IncomingTokenType", "SessionId", "UserPrincipalName", "ResultType"] {
        fields.push(Field::new(name, DataType::Utf8, true));
        columns.push(Arc::new(rows.iter().map(|r| r[name].as_str()).collect::<StringArray>()));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn parquet_timestamps_of_every_unit_and_zone_read_as_utc() {
    let dir = tempfile::tempdir().unwrap();
    for (unit, expected_first) in [
        (TimeUnit::Second, "2026-11-02T10:00:59.0000000Z"),
        (TimeUnit::Millisecond, "2026-11-02T10:00:59.1230000Z"),
        (TimeUnit::Microsecond, "2026-11-02T10:00:59.1234560Z"),
        (TimeUnit::Nanosecond, "2026-11-02T10:00:59.1234567Z"),
    ] {
        for tz in [None, Some("UTC"), Some("+02:00"), Some("America/New_York")] {
            let path = dir.path().join(format!("{unit:?}-{}.parquet", tz.unwrap_or("naive").replace(['/', ':', '+'], "_")));
            write_parquet(&path, unit, tz);
            let alerts = run(&config(&[&path])).await.unwrap();
            assert_eq!(alerts.len(), 1, "{unit:?} {tz:?}");
            assert_eq!(alerts[0]["FirstRequestTimeGenerated"], expected_first, "{unit:?} {tz:?}");
            assert_eq!(alerts[0]["TimeDiff"], 5);
        }
    }
}

#[tokio::test]
async fn ndjson_gzip_and_parquet_give_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = write_ndjson(dir.path(), "a.ndjson", &attack());
    let gz_path = dir.path().join("b.json.gz");
    let mut gz = flate2::write::GzEncoder::new(File::create(&gz_path).unwrap(), flate2::Compression::default());
    gz.write_all(&std::fs::read(&ndjson).unwrap()).unwrap();
    gz.finish().unwrap();
    let parquet = dir.path().join("c.parquet");
    write_parquet(&parquet, TimeUnit::Nanosecond, Some("UTC"));

    let expected = run(&config(&[&ndjson])).await.unwrap();
    assert_eq!(expected.len(), 1);
    assert_eq!(run(&config(&[&gz_path])).await.unwrap(), expected);
    assert_eq!(run(&config(&[&parquet])).await.unwrap(), expected);
}

#[tokio::test]
async fn sessions_split_across_files_and_formats_still_pair() {
    let dir = tempfile::tempdir().unwrap();
    let rows = attack();
    let a = write_ndjson(dir.path(), "first.jsonl", &rows[..1]);
    let b = write_ndjson(dir.path(), "second.json", &rows[1..]);
    assert_eq!(run(&config(&[&a, &b])).await.unwrap().len(), 1);
}

#[tokio::test]
async fn folders_are_read_recursively_and_globs_filter() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("y=2026/m=11/d=02");
    std::fs::create_dir_all(&nested).unwrap();
    write_ndjson(&nested, "part-0.ndjson", &attack());
    std::fs::write(dir.path().join("README.txt"), "not a sign-in file").unwrap();

    let alerts = run(&config(&[dir.path()])).await.unwrap();
    assert_eq!(alerts.len(), 1);

    let glob = format!("{}/**/*.ndjson", dir.path().display());
    assert_eq!(run(&HuntConfig::new(vec![glob])).await.unwrap().len(), 1);
    let glob = format!("{}/**/*.parquet", dir.path().display());
    let err = run(&HuntConfig::new(vec![glob])).await.unwrap_err();
    assert!(err.to_string().contains("no sign-in files"), "{err}");
}

#[tokio::test]
async fn the_same_file_named_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "a.ndjson", &attack());
    assert_eq!(run(&config(&[&path, &path, dir.path()])).await.unwrap().len(), 1);
}

#[tokio::test]
async fn files_may_hold_any_subset_of_columns() {
    let dir = tempfile::tempdir().unwrap();
    // A file with only the columns the rule filters on, another with extra unknown columns.
    let minimal = write_ndjson(dir.path(), "minimal.ndjson", &[json!({
        "TimeGenerated": T0, "AppId": TEAMS.0, "AppDisplayName": TEAMS.1,
        "IncomingTokenType": "none", "SessionId": "s1",
    })]);
    let wide = write_ndjson(dir.path(), "wide.ndjson", &[json!({
        "TimeGenerated": "2026-11-02T10:01:00Z", "AppId": AZURE_CLI.0, "AppDisplayName": AZURE_CLI.1,
        "IncomingTokenType": "refreshToken", "SessionId": "s1", "IsInteractive": false,
        "DurationMs": 12, "MfaDetail": {"authMethod": "none"},
    })]);
    let alerts = run(&config(&[&minimal, &wide])).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["FirstResult"], "");
}

#[tokio::test]
async fn input_format_overrides_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "export.log", &attack());
    let err = run(&config(&[&path])).await.unwrap_err();
    assert!(err.to_string().contains("--input-format"), "{err}");
    let mut forced = config(&[&path]);
    forced.lake.format = InputFormat::Ndjson;
    assert_eq!(run(&forced).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_custom_foci_list_replaces_the_embedded_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_ndjson(dir.path(), "a.ndjson", &attack());
    // Teams is not in this list, so the first sign-in is not a FOCI sign-in.
    let list = dir.path().join("foci.csv");
    std::fs::write(&list, format!("id,name\n{},Azure CLI\n", AZURE_CLI.0.to_uppercase())).unwrap();
    let mut custom = config(&[&input]);
    custom.foci = FociSource::File(list.display().to_string());
    assert!(run(&custom).await.unwrap().is_empty());

    std::fs::write(&list, format!("client_id\n{}\n{}\n", TEAMS.0, AZURE_CLI.0)).unwrap();
    assert_eq!(run(&custom).await.unwrap().len(), 1);

    std::fs::write(&list, "client_id\n").unwrap();
    let err = run(&custom).await.unwrap_err();
    assert!(err.to_string().contains(&list.display().to_string()) && err.to_string().contains("no client ids"), "{err}");
}

#[tokio::test]
async fn rfc3339_text_with_any_precision_and_offset_parses() {
    for (text, expected) in [
        ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00.0000000Z"),
        ("2026-11-02T10:00:00.1Z", "2026-11-02T10:00:00.1000000Z"),
        ("2026-11-02T10:00:00.1234567Z", "2026-11-02T10:00:00.1234567Z"),
        ("2026-11-02T10:00:00.123456789Z", "2026-11-02T10:00:00.123456789Z"),
        ("2026-11-02T15:30:00+05:30", "2026-11-02T10:00:00.0000000Z"),
        ("2026-11-02T02:00:00.5-08:00", "2026-11-02T10:00:00.5000000Z"),
        ("2026-11-02t10:00:00z", "2026-11-02T10:00:00.0000000Z"),
    ] {
        let alerts = hunt_rows(&[first(text), second(AZURE_CLI, "2026-11-02T10:30:00Z")], &[]).await;
        assert_eq!(alerts.len(), 1, "{text}");
        assert_eq!(alerts[0]["FirstRequestTimeGenerated"], expected, "{text}");
    }
}

#[tokio::test]
async fn parquet_numbers_where_text_is_expected_read_as_their_text() {
    use datafusion::arrow::array::Int64Array;

    let dir = tempfile::tempdir().unwrap();
    let rows = attack();
    let times: ArrayRef = Arc::new(TimestampNanosecondArray::from_iter_values(
        rows.iter().map(|r| foci_hunt::detection::parse_rfc3339_nanos(r["TimeGenerated"].as_str().unwrap()).unwrap()),
    ));
    let mut fields = vec![Field::new("TimeGenerated", times.data_type().clone(), true)];
    let mut columns = vec![times];
    for name in ["HomeTenantId", "ResourceTenantId", "AppId", "AppDisplayName", "IncomingTokenType", "SessionId", "UserPrincipalName"] {
        fields.push(Field::new(name, DataType::Utf8, true));
        columns.push(Arc::new(rows.iter().map(|r| r[name].as_str()).collect::<StringArray>()));
    }
    // One exporter wrote ResultType and Level as numbers.
    for (name, value) in [("ResultType", 50126), ("Level", 4)] {
        fields.push(Field::new(name, DataType::Int64, true));
        columns.push(Arc::new(Int64Array::from(vec![value; rows.len()])));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let path = dir.path().join("numbers.parquet");
    let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let alerts = run(&config(&[&path])).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["FirstResult"], "50126");
    assert_eq!(alerts[0]["SecondResult"], "50126");
}
