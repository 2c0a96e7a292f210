//! The expected alerts of planted sessions, by a second, plain-Rust statement of the rules:
//! the generator's ground truth, and an independent check of the SQL.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::catalog::GLOBAL_ADMIN_ROLE;
use super::population::User;
use super::row::SignIn;
use crate::functions::minute_index;
use crate::output::format_time;

const V1_APPS: &[&str] = &["Microsoft Azure CLI", "Microsoft Azure PowerShell", "Office 365 Management"];
const V2_APPS: &[&str] = &[
    "Microsoft Azure CLI", "Copilot App", "Microsoft Azure PowerShell", "Visual Studio - Legacy",
    "Microsoft Edge Enterprise New Tab Page",
];
const AAD_GRAPH: &str = "00000002-0000-0000-c000-000000000000";
/// v2's default `max_time_diff`.
const V2_MAX_TIME_DIFF: i64 = 90;
pub const TUNINGS: [&str; 3] = ["off", "global-admin", "global-admin-noncompliant"];

/// The FOCI client ids, lower-cased.
pub fn foci_ids() -> HashSet<String> {
    crate::foci::parse_csv(crate::foci::EMBEDDED_CSV)
        .map(|clients| clients.into_iter().map(|c| c.client_id.to_lowercase()).collect())
        .unwrap_or_default()
}

/// S2 and S3: a home-tenant sign-in by a FOCI client.
fn in_base_set(row: &SignIn, foci: &HashSet<String>) -> bool {
    !row.cross_tenant && foci.contains(&row.app.id.to_lowercase())
}

/// S10 for one tuning.
fn tuning_keeps(tuning: &str, second: &SignIn, users: &[User]) -> bool {
    if second.app.name != "Microsoft Azure CLI" || tuning == "off" {
        return true;
    }
    let global_admin = second.scope_info().to_lowercase().contains(GLOBAL_ADMIN_ROLE);
    global_admin && (tuning == "global-admin" || !second.is_compliant(users))
}

/// The tunings under which each detection reports the pair (first, second), if any.
pub fn expected(first: &SignIn, second: &SignIn, users: &[User], foci: &HashSet<String>) -> Option<Value> {
    let pairs = in_base_set(first, foci)
        && in_base_set(second, foci)
        && first.token == "none"
        && second.token != "none"
        && first.session.is_some()
        && first.session == second.session
        && first.user == second.user;
    if !pairs {
        return None;
    }
    let time_diff = minute_index(second.time) - minute_index(first.time);
    let v1 = first.app.name != second.app.name && time_diff >= 0 && V1_APPS.contains(&second.app.name);
    let v2 = (1..=V2_MAX_TIME_DIFF).contains(&time_diff)
        && V2_APPS.contains(&second.app.name)
        && second.resource.id == AAD_GRAPH
        && second.result_type() == "0";
    let tunings = |fires: bool| -> Vec<&str> {
        TUNINGS.iter().copied().filter(|t| fires && tuning_keeps(t, second, users)).collect()
    };
    let (v1, v2) = (tunings(v1), tunings(v2));
    if v1.is_empty() && v2.is_empty() {
        return None;
    }
    Some(json!({
        "SessionId": first.session_text(),
        "UserPrincipalName": users[first.user as usize].upn,
        "FirstRequestTimeGenerated": format_time(first.time),
        "SecondRequestTimeGenerated": format_time(second.time),
        "FirstAppDisplayName": first.app.name,
        "SecondAppDisplayName": second.app.name,
        "TimeDiff": time_diff,
        "detections": {"v1": v1, "v2": v2},
    }))
}

/// Every expected alert among the rows of one planted session group, in the detections' order.
pub fn expected_alerts(rows: &[SignIn], users: &[User], foci: &HashSet<String>) -> Vec<Value> {
    let mut alerts = Vec::new();
    for first in rows {
        for second in rows {
            if let Some(alert) = expected(first, second, users, foci) {
                alerts.push(alert);
            }
        }
    }
    alerts
}
