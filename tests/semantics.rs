//! The rule's semantics (S1–S11, D1–D3), one test per rule, each able to fail when the rule
//! is broken. Fixtures are a few NDJSON rows written per test.

mod common;

use common::*;
use serde_json::{Value, json};

const T0: &str = "2026-11-02T10:00:00Z";
const T3: &str = "2026-11-02T10:03:00Z";

// --- S1 window ---------------------------------------------------------------------------

#[tokio::test]
async fn s1_no_window_keeps_everything() {
    let alerts = hunt_rows(&[first("2001-01-01T00:00:00Z"), second(AZURE_CLI, "2001-01-01T00:01:00Z")], &[]).await;
    assert_eq!(alerts.len(), 1);
}

#[tokio::test]
async fn s1_after_is_strict_like_ago() {
    let rows = [first(T0), second(AZURE_CLI, T3)];
    // after == the first's time: the first is dropped (TimeGenerated > after is strict).
    assert!(hunt_rows(&rows, &[("after", T0)]).await.is_empty());
    assert_eq!(hunt_rows(&rows, &[("after", "2026-11-02T09:59:59.9999999Z")]).await.len(), 1);
}

#[tokio::test]
async fn s1_since_is_inclusive_and_until_exclusive() {
    let rows = [first(T0), second(AZURE_CLI, T3)];
    assert_eq!(hunt_rows(&rows, &[("since", T0)]).await.len(), 1);
    assert!(hunt_rows(&rows, &[("since", "2026-11-02T10:00:00.0000001Z")]).await.is_empty());
    assert!(hunt_rows(&rows, &[("until", T3)]).await.is_empty());
    assert_eq!(hunt_rows(&rows, &[("until", "2026-11-02T10:03:00.0000001Z")]).await.len(), 1);
}

#[tokio::test]
async fn s1_rows_without_a_time_never_alert() {
    for missing in [Value::Null, json!(null)] {
        let rows = [with(first(T0), "TimeGenerated", missing.clone()), second(AZURE_CLI, T3)];
        assert!(hunt_rows(&rows, &[]).await.is_empty(), "first time {missing:?}");
        let rows = [first(T0), with(second(AZURE_CLI, T3), "TimeGenerated", missing.clone())];
        assert!(hunt_rows(&rows, &[]).await.is_empty(), "second time {missing:?}");
    }
    // An explicit JSON null must also read as missing, not fail.
    let rows = [with(first(T0), "TimeGenerated", json!(null)), first(T0), second(AZURE_CLI, T3)];
    assert_eq!(hunt_rows(&rows, &[]).await.len(), 1);
}

#[tokio::test]
async fn s1_times_with_offsets_compare_as_instants() {
    let rows = [first("2026-11-02T12:00:00+02:00"), second(AZURE_CLI, "2026-11-02T10:03:00.5Z")];
    let alerts = hunt_rows(&rows, &[("since", T0)]).await;
    assert_eq!(pairs(&alerts), vec![(
        "2026-11-02T10:00:00.0000000Z".into(),
        "2026-11-02T10:03:00.5000000Z".into(),
        "Microsoft Azure CLI".into(),
        3
    )]);
}

// --- S2 tenant ---------------------------------------------------------------------------

#[tokio::test]
async fn s2_cross_tenant_sign_ins_are_dropped() {
    let guest = |row| with(row, "ResourceTenantId", json!("tenant-2"));
    assert!(hunt_rows(&[guest(first(T0)), second(AZURE_CLI, T3)], &[]).await.is_empty());
    assert!(hunt_rows(&[first(T0), guest(second(AZURE_CLI, T3))], &[]).await.is_empty());
}

#[tokio::test]
async fn s2_two_missing_tenant_ids_are_equal() {
    let no_tenant = |row| with(with(row, "HomeTenantId", Value::Null), "ResourceTenantId", json!(""));
    let alerts = hunt_rows(&[no_tenant(first(T0)), no_tenant(second(AZURE_CLI, T3))], &[]).await;
    assert_eq!(alerts.len(), 1);
    // One missing, one present: not equal.
    let half = |row| with(row, "HomeTenantId", Value::Null);
    assert!(hunt_rows(&[half(first(T0)), second(AZURE_CLI, T3)], &[]).await.is_empty());
}

// --- S3 FOCI list (D3) -------------------------------------------------------------------

#[tokio::test]
async fn s3_non_family_apps_are_dropped() {
    assert!(hunt_rows(&[sign_in(AZURE_PORTAL, T0, "none"), second(AZURE_CLI, T3)], &[]).await.is_empty());
    // A second whose AppId is not in the family, even if its name is watched.
    let impostor = with(second(AZURE_CLI, T3), "AppId", json!("11111111-2222-3333-4444-555555555555"));
    assert!(hunt_rows(&[first(T0), impostor], &[]).await.is_empty());
}

#[tokio::test]
async fn d3_app_ids_match_case_insensitively() {
    let upper = |row: Value| {
        let id = row["AppId"].as_str().unwrap().to_uppercase();
        with(row, "AppId", json!(id))
    };
    let alerts = hunt_rows(&[upper(first(T0)), upper(second(AZURE_CLI, T3))], &[]).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["FirstAppId"], "1FEC8E78-BCE4-4AAF-AB1B-5451CC387264", "ids are printed as found");
}

// --- S4 first / second split -------------------------------------------------------------

#[tokio::test]
async fn s4_anything_but_exact_none_is_a_second() {
    for token in ["refreshToken", "primaryRefreshToken", "None", "NONE", ""] {
        let alerts = hunt_rows(&[first(T0), sign_in(AZURE_CLI, T3, token)], &[]).await;
        assert_eq!(alerts.len(), 1, "token {token:?}");
        assert_eq!(alerts[0]["SeconIncomingTokenType"], token);
    }
    let missing = with(second(AZURE_CLI, T3), "IncomingTokenType", Value::Null);
    assert_eq!(hunt_rows(&[first(T0), missing], &[]).await.len(), 1, "missing token type");
}

#[tokio::test]
async fn s4_only_exact_none_is_a_first() {
    // 'None' is not a first: a None Teams sign-in followed by a CLI refresh does not fire.
    assert!(hunt_rows(&[sign_in(TEAMS, T0, "None"), second(AZURE_CLI, T3)], &[]).await.is_empty());
    // A 'none' CLI sign-in is a first, never a second.
    assert!(hunt_rows(&[first(T0), sign_in(AZURE_CLI, T3, "none")], &[]).await.is_empty());
}

// --- S5 join (D2) ------------------------------------------------------------------------

#[tokio::test]
async fn s5_pairs_need_the_same_session_and_user() {
    let other_session = with(second(AZURE_CLI, T3), "SessionId", json!("s2"));
    assert!(hunt_rows(&[first(T0), other_session], &[]).await.is_empty());
    let case_session = with(second(AZURE_CLI, T3), "SessionId", json!("S1"));
    assert!(hunt_rows(&[first(T0), case_session], &[]).await.is_empty());
    let other_user = with(second(AZURE_CLI, T3), "UserPrincipalName", json!("U@x"));
    assert!(hunt_rows(&[first(T0), other_user], &[]).await.is_empty());
}

#[tokio::test]
async fn s5_missing_users_pair_with_missing_users() {
    let anonymous = |row| with(row, "UserPrincipalName", Value::Null);
    let empty = |row| with(row, "UserPrincipalName", json!(""));
    assert_eq!(hunt_rows(&[anonymous(first(T0)), empty(second(AZURE_CLI, T3))], &[]).await.len(), 1);
}

#[tokio::test]
async fn s5_every_matching_combination_is_kept() {
    let rows = [
        first(T0),
        sign_in(OFFICE, "2026-11-02T10:01:00Z", "none"),
        second(AZURE_CLI, T3),
        second(AZURE_POWERSHELL, "2026-11-02T10:04:00Z"),
    ];
    let alerts = hunt_rows(&rows, &[]).await;
    assert_eq!(time_diffs(&alerts), vec![3, 4, 2, 3]);
}

#[tokio::test]
async fn d2_session_less_sign_ins_never_pair() {
    for session in [Value::Null, json!("")] {
        let rows = [with(first(T0), "SessionId", session.clone()), with(second(AZURE_CLI, T3), "SessionId", session.clone())];
        assert!(hunt_rows(&rows, &[]).await.is_empty(), "session {session:?}");
    }
}

// --- S6 app inequality -------------------------------------------------------------------

#[tokio::test]
async fn s6_same_app_pairs_are_dropped_case_sensitively() {
    assert!(hunt_rows(&[sign_in(AZURE_CLI, T0, "none"), second(AZURE_CLI, T3)], &[]).await.is_empty());
    let lower_name = sign_in(("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "microsoft azure cli"), T0, "none");
    assert_eq!(hunt_rows(&[lower_name, second(AZURE_CLI, T3)], &[]).await.len(), 1);
    let no_name = with(first(T0), "AppDisplayName", Value::Null);
    let alerts = hunt_rows(&[no_name, second(AZURE_CLI, T3)], &[]).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["FirstAppDisplayName"], "");
}

// --- S7 TimeDiff -------------------------------------------------------------------------

async fn time_diff(first_at: &str, second_at: &str) -> Option<i64> {
    let alerts = hunt_rows(&[first(first_at), second(AZURE_CLI, second_at)], &[]).await;
    time_diffs(&alerts).first().copied()
}

#[tokio::test]
async fn s7_time_diff_counts_minute_boundaries() {
    assert_eq!(time_diff("2026-11-02T23:00:59Z", "2026-11-02T23:05:01Z").await, Some(5));
    assert_eq!(time_diff("2026-11-02T10:00:59.9999999Z", "2026-11-02T10:01:00Z").await, Some(1));
    assert_eq!(time_diff("2026-11-02T10:05:59Z", "2026-11-02T10:05:01Z").await, Some(0));
    assert_eq!(time_diff("2026-11-02T23:59:30Z", "2026-11-03T00:00:10Z").await, Some(1));
}

#[tokio::test]
async fn s7_time_diff_floors_before_1970() {
    // Truncation toward zero would put both in minute 0 and say 0.
    assert_eq!(time_diff("1969-12-31T23:59:59.5Z", "1970-01-01T00:00:00.5Z").await, Some(1));
}

// --- S8 TimeDiff bounds ------------------------------------------------------------------

#[tokio::test]
async fn s8_negative_time_diffs_are_dropped() {
    assert_eq!(time_diff("2026-11-02T10:01:00Z", "2026-11-02T10:00:59Z").await, None);
}

#[tokio::test]
async fn s8_max_time_diff_is_off_by_default_and_inclusive() {
    let rows = [first(T0), second(AZURE_CLI, "2026-11-02T11:30:59Z"), second(AZURE_POWERSHELL, "2026-11-02T11:31:00Z")];
    assert_eq!(time_diffs(&hunt_rows(&rows, &[]).await), vec![90, 91]);
    assert_eq!(time_diffs(&hunt_rows(&rows, &[("max_time_diff", "90")]).await), vec![90]);
    assert_eq!(time_diffs(&hunt_rows(&rows, &[("max_time_diff", "0")]).await), Vec::<i64>::new());
}

// --- S9 watched second apps --------------------------------------------------------------

#[tokio::test]
async fn s9_only_watched_second_apps_alert() {
    for app in [AZURE_CLI, AZURE_POWERSHELL, O365_MANAGEMENT] {
        assert_eq!(hunt_rows(&[first(T0), second(app, T3)], &[]).await.len(), 1, "{}", app.1);
    }
    assert!(hunt_rows(&[first(T0), second(OFFICE, T3)], &[]).await.is_empty());
    let lower = second(("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure Cli"), T3);
    assert!(hunt_rows(&[first(T0), lower], &[]).await.is_empty());
}

// --- S10 tuning --------------------------------------------------------------------------

fn scoped(row: Value, scope: &str, device: Option<&str>) -> Value {
    let details = format!(r#"[{{"key":"Oauth Scope Info","value":"[\"{scope}\"]"}}]"#);
    let row = with(row, "AuthenticationProcessingDetails", json!(details));
    match device {
        Some(device) => with(row, "DeviceDetail", json!(device)),
        None => row,
    }
}

#[tokio::test]
async fn s10_global_admin_restricts_only_azure_cli() {
    let rows = [
        first(T0),
        scoped(second(AZURE_CLI, "2026-11-02T10:01:00Z"), "user_impersonation", None),
        scoped(second(AZURE_CLI, "2026-11-02T10:02:00Z"), &GLOBAL_ADMIN.to_uppercase(), None),
        second(AZURE_POWERSHELL, T3),
        second(O365_MANAGEMENT, "2026-11-02T10:04:00Z"),
    ];
    assert_eq!(time_diffs(&hunt_rows(&rows, &[("cli_tuning", "off")]).await), vec![1, 2, 3, 4]);
    assert_eq!(time_diffs(&hunt_rows(&rows, &[("cli_tuning", "global-admin")]).await), vec![2, 3, 4]);
}

#[tokio::test]
async fn s10_noncompliant_reads_the_second_device() {
    let cli = |minute: u32, device: &str| {
        scoped(second(AZURE_CLI, &format!("2026-11-02T10:{minute:02}:00Z")), GLOBAL_ADMIN, Some(device))
    };
    let rows = [
        // The first sign-in's device is compliant: it must not matter.
        with(first(T0), "DeviceDetail", json!(r#"{"isCompliant":true}"#)),
        cli(1, r#"{"isCompliant":true}"#),
        cli(2, r#"{"isCompliant":"true"}"#),
        cli(3, r#"{"isCompliant":false}"#),
        cli(4, r#"{"isCompliant":"True"}"#),
        cli(5, r#"{"isManaged":true}"#),
        cli(6, r#"{"isCompliant":null}"#),
        cli(7, ""),
        cli(8, r#"{"isCompliant":true,"#),
        with(scoped(second(AZURE_CLI, "2026-11-02T10:09:00Z"), GLOBAL_ADMIN, None), "DeviceDetail", Value::Null),
        with(second(AZURE_POWERSHELL, "2026-11-02T10:10:00Z"), "DeviceDetail", json!(r#"{"isCompliant":true}"#)),
    ];
    let alerts = hunt_rows(&rows, &[("cli_tuning", "global-admin-noncompliant")]).await;
    assert_eq!(time_diffs(&alerts), vec![3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(time_diffs(&hunt_rows(&rows, &[("cli_tuning", "global-admin")]).await).len(), 10);
}

// --- S11 output (D1) ---------------------------------------------------------------------

#[tokio::test]
async fn s11_columns_come_from_the_right_sign_in() {
    let first_row = json!({
        "TimeGenerated": "2026-11-02T10:00:00.1234567Z", "HomeTenantId": "t", "ResourceTenantId": "t",
        "AppId": TEAMS.0, "AppDisplayName": TEAMS.1, "IncomingTokenType": "none", "SessionId": "s1",
        "UserPrincipalName": "u@x", "ResultType": "0", "ResultDescription": "first ok", "Identity": "User One",
        "Location": "NL", "ClientAppUsed": "Mobile Apps and Desktop clients", "DeviceDetail": "{\"a\":1}",
        "IPAddress": "203.0.113.1", "LocationDetails": "{\"city\":\"Delft\"}", "UserAgent": "UA-1",
        "AuthenticationProcessingDetails": "[1]",
    });
    let second_row = json!({
        "TimeGenerated": "2026-11-02T10:03:00.000000001Z", "HomeTenantId": "t", "ResourceTenantId": "t",
        "AppId": AZURE_CLI.0, "AppDisplayName": AZURE_CLI.1, "IncomingTokenType": "refreshToken",
        "SessionId": "s1", "UserPrincipalName": "u@x", "ResultType": "50126", "ResultDescription": "second failed",
        "Identity": "Other", "Location": "US", "ClientAppUsed": "Browser", "DeviceDetail": "{\"b\":2}",
        "IPAddress": "198.51.100.9", "LocationDetails": "{}", "UserAgent": "UA-2",
        "AuthenticationProcessingDetails": "[2]",
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "s.ndjson", &[first_row.clone(), second_row.clone()]);
    let hunt = foci_hunt::hunt::Hunt::prepare(&foci_hunt::hunt::HuntConfig::new(vec![path.display().to_string()]))
        .await
        .unwrap();
    let batches = hunt.collect(0).await.unwrap();
    let schema = batches[0].schema();
    let order: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    let declared = foci_hunt::detection::find("v1").unwrap().output_columns;
    assert_eq!(order, declared.iter().collect::<Vec<_>>(), "column order");

    let alerts = hunt_rows(&[first_row, second_row], &[]).await;
    let expected = json!({
        "FirstRequestTimeGenerated": "2026-11-02T10:00:00.1234567Z",
        "FirstResult": "0",
        "FirstResultDescription": "first ok",
        "Identity": "User One",
        "Location": "NL",
        "FirstAppDisplayName": "Microsoft Teams",
        "FirstAppId": TEAMS.0,
        "ClientAppUsed": "Mobile Apps and Desktop clients",
        "DeviceDetail": "{\"a\":1}",
        "SecondDeviceDetail": "{\"b\":2}",
        "IPAddress": "203.0.113.1",
        "LocationDetails": "{\"city\":\"Delft\"}",
        "UserAgent": "UA-1",
        "SecondRequestTimeGenerated": "2026-11-02T10:03:00.000000001Z",
        "SecondResult": "50126",
        "SecondResultDescription": "second failed",
        "SecondAppDisplayName": "Microsoft Azure CLI",
        "SecondAppId": AZURE_CLI.0,
        "SeconIncomingTokenType": "refreshToken",
        "SessionId": "s1",
        "TimeDiff": 3,
        "AuthenticationProcessingDetails": "[1]",
        "SecondAuthenticationProcessingDetails": "[2]",
    });
    assert_eq!(alerts.len(), 1);
    assert_eq!(Value::Object(alerts[0].clone()), expected);
}

#[tokio::test]
async fn s11_missing_strings_print_as_empty() {
    let alerts = hunt_rows(&[first(T0), second(AZURE_CLI, T3)], &[]).await;
    for column in ["Identity", "Location", "DeviceDetail", "SecondDeviceDetail", "UserAgent", "SecondResultDescription"] {
        assert_eq!(alerts[0][column], "", "{column}");
    }
}

#[tokio::test]
async fn s11_rows_sort_by_first_time_session_second_time() {
    let in_session = |row: Value, session: &str| with(row, "SessionId", json!(session));
    let rows = [
        in_session(second(AZURE_CLI, "2026-11-02T10:09:00Z"), "b"),
        in_session(second(AZURE_POWERSHELL, "2026-11-02T10:07:00Z"), "b"),
        in_session(first(T0), "b"),
        in_session(second(AZURE_CLI, "2026-11-02T10:05:00Z"), "a"),
        in_session(first(T0), "a"),
        in_session(first("2026-11-02T09:59:00Z"), "c"),
        in_session(second(AZURE_CLI, "2026-11-02T10:01:00Z"), "c"),
    ];
    let alerts = hunt_rows(&rows, &[]).await;
    let order: Vec<(String, String)> = alerts
        .iter()
        .map(|a| (a["SessionId"].as_str().unwrap().into(), a["SecondRequestTimeGenerated"].as_str().unwrap().into()))
        .collect();
    assert_eq!(order, vec![
        ("c".into(), "2026-11-02T10:01:00.0000000Z".into()),
        ("a".into(), "2026-11-02T10:05:00.0000000Z".into()),
        ("b".into(), "2026-11-02T10:07:00.0000000Z".into()),
        ("b".into(), "2026-11-02T10:09:00.0000000Z".into()),
    ]);
}
