//! `--memory-limit`: a hunt whose session join does not fit runs in hash passes over sessions
//! and finds exactly what an unlimited hunt finds, in the same order.

mod common;

use common::{AZURE_CLI, first, run, second, with, write_ndjson};
use foci_hunt::hunt::{Hunt, HuntConfig};
use foci_hunt::passes::hunt_within_limit;
use foci_hunt::session::EngineOptions;
use serde_json::{Value, json};

/// Which sign-in of each pair carries kilobytes of processing details.
#[derive(Clone, Copy, PartialEq)]
enum Wide {
    /// A join build side of MiBs (the token redemptions).
    Redemption,
    /// A small build side, but MiBs of candidate rows.
    FirstSignIn,
}

/// `sessions` sessions of one first sign-in and one Azure CLI redemption each, the `wide` one
/// carrying `width` bytes of processing details.
fn sessions(sessions: usize, wide: Wide, width: usize) -> Vec<Value> {
    let details = json!([{"key": "Oauth Scope Info", "value": "x".repeat(width)}]).to_string();
    let widen = |row: Value, side: Wide| if side == wide { with(row, "AuthenticationProcessingDetails", json!(details)) } else { row };
    let mut rows = Vec::new();
    for i in 0..sessions {
        let minute = i % 50;
        let session = json!(format!("session-{i:05}"));
        let user = json!(format!("user{}@x", i % 97));
        let f = with(with(first(&format!("2026-11-02T10:{minute:02}:00Z")), "SessionId", session.clone()), "UserPrincipalName", user.clone());
        let s = with(with(second(AZURE_CLI, &format!("2026-11-02T10:{minute:02}:30Z")), "SessionId", session), "UserPrincipalName", user);
        rows.push(widen(f, Wide::FirstSignIn));
        rows.push(widen(s, Wide::Redemption));
    }
    rows
}

#[tokio::test]
async fn a_join_that_does_not_fit_runs_in_passes_with_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "wide.ndjson", &sessions(3_000, Wide::Redemption, 2_000));
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

#[tokio::test]
async fn candidate_rows_are_held_only_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_ndjson(dir.path(), "wide.ndjson", &sessions(2_000, Wide::FirstSignIn, 4_000));
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
