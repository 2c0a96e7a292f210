//! `--memory-limit`: a hunt whose session join does not fit runs in hash passes over sessions
//! and finds exactly what an unlimited hunt finds, in the same order.

mod common;

use common::{AZURE_CLI, first, run, second, with, write_ndjson};
use foci_hunt::hunt::{Hunt, HuntConfig};
use foci_hunt::passes::hunt_within_limit;
use foci_hunt::session::EngineOptions;
use serde_json::{Value, json};

/// Sessions whose token redemptions carry wide processing details: a join build side of MiBs.
fn wide_sessions(sessions: usize) -> Vec<Value> {
    let details = json!([{"key": "Oauth Scope Info", "value": "x".repeat(2_000)}]).to_string();
    let mut rows = Vec::new();
    for i in 0..sessions {
        let minute = i % 50;
        let session = format!("session-{i:05}");
        let user = format!("user{}@x", i % 97);
        let f = with(with(first(&format!("2026-11-02T10:{minute:02}:00Z")), "SessionId", json!(session)), "UserPrincipalName", json!(user));
        let s = second(AZURE_CLI, &format!("2026-11-02T10:{minute:02}:30Z"));
        let s = with(with(with(s, "SessionId", json!(session)), "UserPrincipalName", json!(user)), "AuthenticationProcessingDetails", json!(details));
        rows.push(f);
        rows.push(s);
    }
    rows
}

#[tokio::test]
async fn a_join_that_does_not_fit_runs_in_passes_with_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "wide.ndjson", &wide_sessions(3_000));
    let unlimited = HuntConfig::new(vec![path.display().to_string()]);
    let expected = run(&unlimited).await.unwrap();
    assert_eq!(expected.len(), 3_000);

    let mut limited = unlimited.clone();
    limited.engine = EngineOptions { threads: Some(2), memory_limit: Some(3 << 20) };
    let done = hunt_within_limit(&limited).await.unwrap();
    assert!(done.passes > 1, "a 3 MiB limit should not hold a ~6 MiB build side in one pass");
    let found = foci_hunt::output::rows_as_json(&done.results[0]).unwrap();
    assert_eq!(found, expected);

    limited.engine.memory_limit = Some(1 << 10);
    let err = hunt_within_limit(&limited).await.err().unwrap().to_string();
    assert!(err.contains("does not fit in --memory-limit"), "{err}");
}

/// Sessions whose first sign-ins are wide and whose token redemptions are narrow: a small join
/// build side, but MiBs of candidate rows.
fn wide_first_sign_ins(sessions: usize) -> Vec<Value> {
    let details = json!([{"key": "Oauth Scope Info", "value": "x".repeat(4_000)}]).to_string();
    let mut rows = Vec::new();
    for i in 0..sessions {
        let minute = i % 50;
        let session = format!("session-{i:05}");
        let f = with(first(&format!("2026-11-02T10:{minute:02}:00Z")), "SessionId", json!(session));
        rows.push(with(f, "AuthenticationProcessingDetails", json!(details)));
        rows.push(with(second(AZURE_CLI, &format!("2026-11-02T10:{minute:02}:30Z")), "SessionId", json!(session)));
    }
    rows
}

#[tokio::test]
async fn candidate_rows_are_held_only_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "wide.ndjson", &wide_first_sign_ins(2_000));
    let unlimited = HuntConfig::new(vec![path.display().to_string()]);
    let hunt = Hunt::prepare(&unlimited).await.unwrap();
    assert!(hunt.prefilter.is_some(), "2,000 candidate sessions are narrowed to without a limit");
    let expected = foci_hunt::output::rows_as_json(&hunt.collect(0).await.unwrap()).unwrap();
    assert_eq!(expected.len(), 2_000);

    // ~8 MiB of candidate rows would escape a 4 MiB limit once held: the hunt runs as written
    // (where a join that does not fit can run in passes), and finds the same.
    let mut limited = unlimited.clone();
    limited.engine = EngineOptions { threads: Some(2), memory_limit: Some(4 << 20) };
    let narrowed = Hunt::prepare(&limited).await.unwrap();
    assert!(narrowed.prefilter.is_none(), "candidate rows beyond the limit must not be held");
    let done = hunt_within_limit(&limited).await.unwrap();
    assert_eq!(foci_hunt::output::rows_as_json(&done.results[0]).unwrap(), expected);
}
