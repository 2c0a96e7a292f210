//! Helpers shared by the integration tests: tiny sign-in fixtures written to temporary
//! folders, and hunts run through the library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use foci_hunt::hunt::{Hunt, HuntConfig};
use serde_json::{Map, Value, json};

pub const TEAMS: (&str, &str) = ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams");
pub const OFFICE: (&str, &str) = ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office");
pub const AZURE_CLI: (&str, &str) = ("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI");
pub const AZURE_POWERSHELL: (&str, &str) = ("1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell");
pub const O365_MANAGEMENT: (&str, &str) = ("00b41c95-dab0-4487-9791-b9d2c32c80f2", "Office 365 Management");
pub const AZURE_PORTAL: (&str, &str) = ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal");
pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

/// A home-tenant sign-in of user u@x in session s1 to `app` at `at` with `token`.
pub fn sign_in(app: (&str, &str), at: &str, token: &str) -> Value {
    json!({
        "TimeGenerated": at,
        "HomeTenantId": "tenant-1",
        "ResourceTenantId": "tenant-1",
        "AppId": app.0,
        "AppDisplayName": app.1,
        "IncomingTokenType": token,
        "SessionId": "s1",
        "UserPrincipalName": "u@x",
        "ResultType": "0",
    })
}

/// A first sign-in (no incoming token) to Teams.
pub fn first(at: &str) -> Value {
    sign_in(TEAMS, at, "none")
}

/// A refresh-token sign-in to `app`.
pub fn second(app: (&str, &str), at: &str) -> Value {
    sign_in(app, at, "refreshToken")
}

/// `row` with `field` set to `value` (`Value::Null` removes the field).
pub fn with(mut row: Value, field: &str, value: Value) -> Value {
    let object = row.as_object_mut().expect("rows are objects");
    if value.is_null() {
        object.remove(field);
    } else {
        object.insert(field.to_string(), value);
    }
    row
}

/// Writes `rows` as NDJSON to `dir/name`.
pub fn write_ndjson(dir: &Path, name: &str, rows: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// Runs `config` and returns the alert rows as JSON objects.
pub async fn run(config: &HuntConfig) -> foci_hunt::Result<Vec<Map<String, Value>>> {
    let hunt = Hunt::prepare(config).await?;
    let batches = hunt.collect(0).await?;
    Ok(foci_hunt::output::rows_as_json(&batches).expect("rows as JSON"))
}

/// Hunts `rows` (one NDJSON file) with v1 and `params` and returns the alert rows.
pub async fn hunt_rows(rows: &[Value], params: &[(&str, &str)]) -> Vec<Map<String, Value>> {
    hunt_with(rows, "v1", false, params).await
}

/// Hunts `rows` with `detection`, pairs or (`summary`) triage rows.
pub async fn hunt_with(rows: &[Value], detection: &str, summary: bool, params: &[(&str, &str)]) -> Vec<Map<String, Value>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_ndjson(dir.path(), "signins.ndjson", rows);
    let mut config = HuntConfig::new(vec![path.display().to_string()]);
    config.detections = vec![detection.to_string()];
    config.summary = summary;
    config.params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    run(&config).await.expect("hunt")
}

/// (first time, second time, second app, TimeDiff) of each alert, in output order.
pub fn pairs(alerts: &[Map<String, Value>]) -> Vec<(String, String, String, i64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["FirstRequestTimeGenerated"].as_str().unwrap_or_default().to_string(),
                a["SecondRequestTimeGenerated"].as_str().unwrap_or_default().to_string(),
                a["SecondAppDisplayName"].as_str().unwrap_or_default().to_string(),
                a["TimeDiff"].as_i64().unwrap_or(i64::MIN),
            )
        })
        .collect()
}

/// The TimeDiff values of the alerts.
pub fn time_diffs(alerts: &[Map<String, Value>]) -> Vec<i64> {
    pairs(alerts).into_iter().map(|p| p.3).collect()
}
