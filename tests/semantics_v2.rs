//! Detection v2 (ROADtools) and the triage summary: one test per rule, each able to fail when
//! the rule is broken.

mod common;

use common::*;
use serde_json::{Value, json};

const T0: &str = "2026-11-02T10:00:00Z";
const AAD_GRAPH: &str = "00000002-0000-0000-c000-000000000000";
const COPILOT: (&str, &str) = ("14638111-3389-403d-b206-a6a71d9f8f16", "Copilot App");
const VISUAL_STUDIO: (&str, &str) = ("872cd9fa-d31f-45e0-9eab-6e460a02d1f1", "Visual Studio - Legacy");
const EDGE_NEW_TAB: (&str, &str) = ("d7b530a4-7680-4c23-a8bf-c52c121d2e87", "Microsoft Edge Enterprise New Tab Page");

/// A successful refresh-token sign-in to `app` for Azure AD Graph at minute `minute` after T0.
fn graph(app: (&str, &str), minute: i64) -> Value {
    let at = chrono::DateTime::parse_from_rfc3339(T0).unwrap() + chrono::Duration::minutes(minute);
    with(second(app, &at.to_rfc3339()), "ResourceIdentity", json!(AAD_GRAPH))
}

async fn v2(rows: &[Value], params: &[(&str, &str)]) -> Vec<serde_json::Map<String, Value>> {
    hunt_with(rows, "v2", false, params).await
}

#[tokio::test]
async fn same_app_pairs_are_kept() {
    let rows = [sign_in(AZURE_CLI, T0, "none"), graph(AZURE_CLI, 2)];
    assert_eq!(v2(&rows, &[]).await.len(), 1);
    assert!(hunt_rows(&rows, &[]).await.is_empty(), "v1 drops them");
}

#[tokio::test]
async fn time_diff_runs_from_1_to_max_time_diff_90_by_default() {
    let rows = [first(T0), graph(AZURE_CLI, 0), graph(AZURE_CLI, 1), graph(AZURE_CLI, 90), graph(AZURE_CLI, 91)];
    assert_eq!(time_diffs(&v2(&rows, &[]).await), vec![1, 90]);
    assert_eq!(time_diffs(&v2(&rows, &[("max_time_diff", "120")]).await), vec![1, 90, 91]);
    // Same minute boundary rule as v1: 10:00:59 -> 10:01:00 is 1.
    let close = [first("2026-11-02T10:00:59Z"), with(second(AZURE_CLI, "2026-11-02T10:01:00Z"), "ResourceIdentity", json!(AAD_GRAPH))];
    assert_eq!(time_diffs(&v2(&close, &[]).await), vec![1]);
}

#[tokio::test]
async fn watched_second_apps_are_the_v2_list() {
    for app in [AZURE_CLI, COPILOT, AZURE_POWERSHELL, VISUAL_STUDIO, EDGE_NEW_TAB] {
        let foci = dir_with_foci(&[TEAMS.0, app.0]);
        let alerts = hunt_custom_foci(&[first(T0), graph(app, 2)], &foci).await;
        assert_eq!(alerts.len(), 1, "{}", app.1);
    }
    assert!(v2(&[first(T0), graph(O365_MANAGEMENT, 2)], &[]).await.is_empty(), "not watched in v2");
}

#[tokio::test]
async fn the_second_must_be_for_azure_ad_graph() {
    let ms_graph = with(graph(AZURE_CLI, 2), "ResourceIdentity", json!("00000003-0000-0000-c000-000000000000"));
    let missing = with(graph(AZURE_CLI, 3), "ResourceIdentity", Value::Null);
    let upper = with(graph(AZURE_CLI, 4), "ResourceIdentity", json!(AAD_GRAPH.to_uppercase()));
    assert!(v2(&[first(T0), ms_graph, missing, upper], &[]).await.is_empty());
}

#[tokio::test]
async fn only_successful_seconds_count_d1() {
    let failed_first = with(first(T0), "ResultType", json!("50126"));
    let failed_second = with(graph(AZURE_CLI, 2), "ResultType", json!("50140"));
    let alerts = v2(&[failed_first, failed_second, graph(AZURE_POWERSHELL, 3)], &[]).await;
    assert_eq!(pairs(&alerts).iter().map(|p| p.2.as_str()).collect::<Vec<_>>(), ["Microsoft Azure PowerShell"]);
    assert_eq!(alerts[0]["FirstResult"], "50126");
    assert_eq!(alerts[0]["SecondResult"], "0");
}

fn with_details(row: Value, details: &str) -> Value {
    with(row, "AuthenticationProcessingDetails", json!(details))
}

#[tokio::test]
async fn oauth_scope_info_is_the_rules_capture_group() {
    let cases = [
        (r#"[{"key":"Oauth Scope Info","value":"[\"openid\",\"Directory.AccessAsUser.All\"]"}]"#, r#"\"openid\",\"Directory.AccessAsUser.All\""#),
        (r#"[{"key":"Is CAE Token","value":"False"}]"#, ""),
        (r#"[{"key":"Oauth Scope Info","value":"[]"}]"#, ""),
        (
            r#"[{"key":"Oauth Scope Info","value":"[\"a\"]"},{"key":"Other","value":"[\"b\"]"}]"#,
            r#"\"a\"]"},{"key":"Other","value":"[\"b\""#,
        ),
        (r#"{"key":"Oauth Scope Info","value":"[x]"} {"key":"Oauth Scope Info","value":"[y]"}"#, r#"x]"} {"key":"Oauth Scope Info","value":"[y"#),
        (r#"[{"key":"oauth scope info","value":"[\"a\"]"}]"#, ""),
        ("", ""),
    ];
    for (details, expected) in cases {
        let rows = [with_details(first(T0), details), with_details(graph(AZURE_CLI, 2), details)];
        let alerts = v2(&rows, &[]).await;
        assert_eq!(alerts.len(), 1, "{details}");
        assert_eq!(alerts[0]["FirstOauthScopeInfo"], expected, "{details}");
        assert_eq!(alerts[0]["SecondOauthScopeInfo"], expected, "{details}");
    }
}

#[tokio::test]
async fn tuning_works_as_in_v1() {
    let ga = r#"[{"key":"Oauth Scope Info","value":"[\"62e90394-69f5-4237-9190-012177145e10\"]"}]"#;
    let rows = [
        first(T0),
        graph(AZURE_CLI, 1),
        with(with_details(graph(AZURE_CLI, 2), ga), "DeviceDetail", json!(r#"{"isCompliant":true}"#)),
        with_details(graph(AZURE_CLI, 3), ga),
        graph(AZURE_POWERSHELL, 4),
    ];
    assert_eq!(time_diffs(&v2(&rows, &[]).await), vec![1, 2, 3, 4]);
    assert_eq!(time_diffs(&v2(&rows, &[("cli_tuning", "global-admin")]).await), vec![2, 3, 4]);
    assert_eq!(time_diffs(&v2(&rows, &[("cli_tuning", "global-admin-noncompliant")]).await), vec![3, 4]);
}

#[tokio::test]
async fn output_has_the_25_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "s.ndjson", &[with(first(T0), "ResourceIdentity", json!("first-resource")), graph(AZURE_CLI, 2)]);
    let mut config = foci_hunt::hunt::HuntConfig::new(vec![path.display().to_string()]);
    config.detections = vec!["v2".into()];
    let hunt = foci_hunt::hunt::Hunt::prepare(&config).await.unwrap();
    let batches = hunt.collect(0).await.unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let v1 = foci_hunt::detection::find("v1").unwrap().output_columns;
    let mut expected: Vec<&str> = v1[..21].iter().map(String::as_str).collect();
    expected.extend(["FirstOauthScopeInfo", "SecondOauthScopeInfo", "FirstResourceIdentity", "SecondResourceIdentity"]);
    assert_eq!(names, expected);
    let alerts = foci_hunt::output::rows_as_json(&batches).unwrap();
    assert_eq!(alerts[0]["FirstResourceIdentity"], "first-resource");
    assert_eq!(alerts[0]["SecondResourceIdentity"], AAD_GRAPH);
}

#[tokio::test]
async fn summary_collapses_a_session_per_second_app() {
    let rows = [
        first(T0),
        sign_in(OFFICE, "2026-11-02T10:01:00Z", "none"),
        with(second(AZURE_CLI, "2026-11-02T10:05:00Z"), "ResultType", json!("50126")),
        second(AZURE_CLI, "2026-11-02T10:09:00Z"),
        with(second(AZURE_POWERSHELL, "2026-11-02T10:07:00Z"), "ResultType", json!("50140")),
        with(with(first(T0), "SessionId", json!("s2")), "UserPrincipalName", json!("v@x")),
        with(with(second(AZURE_CLI, "2026-11-02T10:02:00Z"), "SessionId", json!("s2")), "UserPrincipalName", json!("v@x")),
    ];
    let summary = hunt_with(&rows, "v1", true, &[]).await;
    let expected = json!([
        {"Detection": "v1", "UserPrincipalName": "u@x", "SessionId": "s1", "SecondAppDisplayName": "Microsoft Azure CLI",
         "Pairs": 4, "EarliestFirstRequestTimeGenerated": "2026-11-02T10:00:00.0000000Z",
         "EarliestSecondRequestTimeGenerated": "2026-11-02T10:05:00.0000000Z",
         "LatestSecondRequestTimeGenerated": "2026-11-02T10:09:00.0000000Z",
         "FirstAppDisplayNames": "Microsoft Office, Microsoft Teams", "MinTimeDiff": 4, "AnySecondSucceeded": true},
        {"Detection": "v1", "UserPrincipalName": "u@x", "SessionId": "s1", "SecondAppDisplayName": "Microsoft Azure PowerShell",
         "Pairs": 2, "EarliestFirstRequestTimeGenerated": "2026-11-02T10:00:00.0000000Z",
         "EarliestSecondRequestTimeGenerated": "2026-11-02T10:07:00.0000000Z",
         "LatestSecondRequestTimeGenerated": "2026-11-02T10:07:00.0000000Z",
         "FirstAppDisplayNames": "Microsoft Office, Microsoft Teams", "MinTimeDiff": 6, "AnySecondSucceeded": false},
        {"Detection": "v1", "UserPrincipalName": "v@x", "SessionId": "s2", "SecondAppDisplayName": "Microsoft Azure CLI",
         "Pairs": 1, "EarliestFirstRequestTimeGenerated": "2026-11-02T10:00:00.0000000Z",
         "EarliestSecondRequestTimeGenerated": "2026-11-02T10:02:00.0000000Z",
         "LatestSecondRequestTimeGenerated": "2026-11-02T10:02:00.0000000Z",
         "FirstAppDisplayNames": "Microsoft Teams", "MinTimeDiff": 2, "AnySecondSucceeded": true},
    ]);
    assert_eq!(Value::Array(summary.into_iter().map(Value::Object).collect()), expected);
}

/// A folder holding a FOCI list of `ids`.
fn dir_with_foci(ids: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text: String = std::iter::once("client_id".to_string()).chain(ids.iter().map(|i| i.to_string())).collect::<Vec<_>>().join("\n");
    std::fs::write(dir.path().join("foci.csv"), text).unwrap();
    dir
}

/// A v2 hunt of `rows` with the FOCI list in `foci`.
async fn hunt_custom_foci(rows: &[Value], foci: &tempfile::TempDir) -> Vec<serde_json::Map<String, Value>> {
    let path = write_ndjson(foci.path(), "s.ndjson", rows);
    let mut config = foci_hunt::hunt::HuntConfig::new(vec![path.display().to_string()]);
    config.detections = vec!["v2".into()];
    config.foci = foci_hunt::foci::FociSource::File(foci.path().join("foci.csv").display().to_string());
    run(&config).await.unwrap()
}
