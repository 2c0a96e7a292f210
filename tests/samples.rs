//! Real export records from public projects (`../shared/data/samples`, see each SOURCES.md)
//! load through the shape mappings with the values a detection engineer would read off them.
//! The samples are read where they lie, never copied into the project; when the folder is
//! absent these tests say so and pass without checking (set FOCI_HUNT_SAMPLES to point at it).

use std::path::{Path, PathBuf};

use foci_hunt::foci::FociSource;
use foci_hunt::lake::{InputFormat, LakeOptions};
use foci_hunt::session::EngineOptions;
use foci_hunt::workspace::Workspace;
use serde_json::{Map, Value};

fn samples() -> Option<PathBuf> {
    let dir = std::env::var_os("FOCI_HUNT_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/samples"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("samples folder {} not found: the real-record checks did not run", dir.display());
        None
    }
}

/// Every canonical row of `inputs`, by `ORDER BY`.
async fn rows(inputs: &[PathBuf], order_by: &str) -> Vec<Map<String, Value>> {
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    // The samples are `.log` files: named as NDJSON the way a user would with --input-format.
    let options = LakeOptions { format: InputFormat::Ndjson, ..LakeOptions::default() };
    let workspace = Workspace::open(&inputs, &options, &FociSource::Embedded, &EngineOptions::default()).await.unwrap();
    let batches = workspace.ctx.sql(&format!("SELECT * FROM signin_logs ORDER BY {order_by}")).await.unwrap().collect().await.unwrap();
    foci_hunt::output::rows_as_json(&batches).unwrap()
}

#[tokio::test]
async fn elastic_diagnostic_records_map_to_sentinel_columns() {
    let Some(dir) = samples() else { return };
    let dir = dir.join("elastic_integrations");
    let sample = rows(&[dir.join("test-non-interactive-user-sample.log")], "\"TimeGenerated\"").await;
    assert_eq!(sample.len(), 15);
    let first = &sample[0];
    assert_eq!(first["TimeGenerated"], "2022-01-24T05:10:09.3709745Z");
    assert!(sample.iter().all(|r| r["Location"] == "IN"));
    assert_eq!(first["AppDisplayName"], "Azure Portal");
    assert_eq!(sample.iter().filter(|r| r["AppDisplayName"] == "ADIbizaUX").count(), 8);
    // Level is a number in these exports, resultType text: both read as text.
    assert!(sample.iter().all(|r| r["Level"] == "4" && r["ResultType"] == "0"));
    assert!(sample.iter().all(|r| r["IncomingTokenType"] == "none" && r["SessionId"] == ""));
    assert_eq!(first["UserPrincipalName"], "mpliftrelastic20210901@outlook.com");
    assert_eq!(first["Identity"], "elastic testing");
    assert_eq!(first["ResourceIdentity"], "797f4846-ba00-4fd7-ba43-dac1f8f63013");
    assert_eq!(first["HomeTenantId"], "4bbb79f7-5724-4c9e-95f3-de075f6ec090");
    let location: Value = serde_json::from_str(first["LocationDetails"].as_str().unwrap()).unwrap();
    assert_eq!(location["city"], "Nizampet");
    let details: Value = serde_json::from_str(first["AuthenticationProcessingDetails"].as_str().unwrap()).unwrap();
    assert!(details.as_array().unwrap().iter().any(|d| d["key"] == "Oauth Scope Info"));

    let one = rows(&[dir.join("test-non-interactive-user-signin.log"), dir.join("test-non-interactive-user.log")], "\"TimeGenerated\"").await;
    assert_eq!(one.len(), 2);
    assert_eq!(one[0]["AppDisplayName"], "Microsoft Teams");
    assert_eq!(one[0]["IncomingTokenType"], "", "no incomingTokenType key: an empty string, never null");
    assert_eq!(one[0]["Location"], "DE");
    assert_eq!(one[1]["AppDisplayName"], "Microsoft Edge Enterprise New Tab Page");
    assert_eq!(one[1]["IPAddress"], "81.2.69.143");
    assert_eq!(one[1]["TimeGenerated"], "2022-03-17T09:44:46.3097429Z");
    let device: Value = serde_json::from_str(one[1]["DeviceDetail"].as_str().unwrap()).unwrap();
    assert!(device.is_object());
}

#[tokio::test]
async fn every_timestamp_form_of_the_corner_cases_reads_as_one_instant() {
    let Some(dir) = samples() else { return };
    let found = rows(&[dir.join("elastic_integrations/test-time-formats-corner-cases.log")], "\"TimeGenerated\"").await;
    assert_eq!(found.len(), 11);
    for row in &found {
        let time = row["TimeGenerated"].as_str().unwrap();
        assert!(time.starts_with("2007-01-09T09:41:00."), "{time}");
    }
    let times: Vec<&str> = found.iter().map(|r| r["TimeGenerated"].as_str().unwrap()).collect();
    assert!(times.contains(&"2007-01-09T09:41:00.535404056Z"), "nanoseconds kept: {times:?}");
}

#[tokio::test]
async fn a_sekoia_fixture_message_is_a_diagnostic_record() {
    let Some(dir) = samples() else { return };
    // The fixture wraps one exported record as a string; the record itself is the export.
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("SEKOIA-IO_intake-formats/sign-in_activity6.json")).unwrap()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let record = work.path().join("PT1H.json");
    std::fs::write(&record, fixture["input"]["message"].as_str().unwrap()).unwrap();
    let found = rows(&[record], "\"TimeGenerated\"").await;
    assert_eq!(found.len(), 1);
    let row = &found[0];
    assert_eq!(row["TimeGenerated"], "2025-07-24T15:32:44.2442191Z");
    assert_eq!(row["IncomingTokenType"], "primaryRefreshToken");
    assert_eq!(row["SessionId"], "22222222-2222-2222-2222-222222222222");
    assert_eq!(row["AppDisplayName"], "Microsoft Intune Windows Agent");
    assert_eq!(row["HomeTenantId"], row["ResourceTenantId"]);
    assert_eq!(row["ResultType"], "0");
    assert_eq!(row["Location"], "FR");
}
