//! Planted sessions: FOCI pivots the detections must report, and look-alikes they must not.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::catalog::{
    AAD_GRAPH, ARM, AZURE_CLI, AZURE_PORTAL, AZURE_POWERSHELL, App, MS_GRAPH, O365_MANAGEMENT, OFFICE, OUTLOOK_MOBILE,
    Resource, TEAMS,
};
use super::population::User;
use super::row::SignIn;

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;

/// One planted session group: its label and rows (not yet in time order).
pub struct Planted {
    pub label: String,
    pub rows: Vec<SignIn>,
}

/// Builds planted rows with fresh sessions and serials.
pub struct Planter<'a> {
    pub rng: &'a mut ChaCha8Rng,
    pub users: &'a [User],
    pub start: i64,
    pub span: i64,
    pub next_serial: &'a mut u64,
}

impl Planter<'_> {
    fn row(&mut self, user: u32, app: App, token: &'static str, session: Option<u128>, time: i64, resource: Resource) -> SignIn {
        *self.next_serial += 1;
        SignIn::new(time, *self.next_serial, user, app, token, session, resource)
    }

    /// A random user, a fresh session id and a start that leaves three hours before the end.
    fn setting(&mut self) -> (u32, u128, i64) {
        let user = self.rng.random_range(0..self.users.len()) as u32;
        let latest = (self.span - 3 * 60 * MINUTE).max(1);
        let at = self.start + self.rng.random_range(0..latest);
        (user, self.rng.random(), at)
    }

    /// Attack `index`: variants cycle so that a few dozen cover every branch of the rules.
    pub fn attack(&mut self, index: usize) -> Planted {
        let (user, session, at) = self.setting();
        let first_app = [TEAMS, OFFICE, OUTLOOK_MOBILE][index % 3];
        let delays = [35 * SECOND, 2 * MINUTE + 10 * SECOND, 4 * MINUTE, 12 * MINUTE, 47 * MINUTE, 95 * MINUTE, 20 * SECOND];
        let delay = delays[index % delays.len()] + self.rng.random_range(0..SECOND);
        // Every fifth is ROADtools-style: the same app redeemed again for Azure AD Graph.
        let roadtools = index % 5 == 4;
        let (first_app, second_app) = if roadtools {
            let app = if index.is_multiple_of(2) { AZURE_CLI } else { AZURE_POWERSHELL };
            (app, app)
        } else {
            (first_app, [AZURE_CLI, AZURE_POWERSHELL, AZURE_CLI, O365_MANAGEMENT][index % 4])
        };
        let resource = if roadtools || index.is_multiple_of(2) { AAD_GRAPH } else { MS_GRAPH };
        let first = self.row(user, first_app, "none", Some(session), at, MS_GRAPH);
        let token = if index % 4 == 1 { "primaryRefreshToken" } else { "refreshToken" };
        let mut second = self.row(user, second_app, token, Some(session), at + delay, resource);
        second.global_admin_scope = index % 4 < 2 || roadtools;
        second.compliant = Some(index % 3 == 2);
        second.failure = (index % 7 == 3).then_some(0);
        // An ordinary refresh in the same session, which must not pair.
        let noise = self.row(user, TEAMS, "refreshToken", Some(session), at + delay / 2, MS_GRAPH);
        let label = format!(
            "attack: {} -> {}{}{}",
            first.app.name,
            second.app.name,
            if second.global_admin_scope { ", Global Administrator scope" } else { "" },
            if second.compliant == Some(true) { ", compliant device" } else { ", non-compliant device" }
        );
        Planted { label, rows: vec![first, noise, second] }
    }

    /// Look-alike `index`: cycles through the benign shapes that must not fire.
    pub fn lookalike(&mut self, index: usize) -> Planted {
        let (user, session, at) = self.setting();
        let s = Some(session);
        let (label, rows) = match index % 7 {
            0 => ("look-alike: an admin's own Azure CLI sign-in, refreshed for Azure Resource Manager", vec![
                self.row(user, AZURE_CLI, "none", s, at, ARM),
                self.row(user, AZURE_CLI, "refreshToken", s, at + 3 * MINUTE, ARM),
            ]),
            1 => ("look-alike: the refresh comes before the first sign-in", vec![
                self.row(user, AZURE_CLI, "refreshToken", s, at, AAD_GRAPH),
                self.row(user, TEAMS, "none", s, at + 3 * MINUTE, MS_GRAPH),
            ]),
            2 => ("look-alike: cross-tenant", {
                let mut rows = vec![
                    self.row(user, TEAMS, "none", s, at, MS_GRAPH),
                    self.row(user, AZURE_POWERSHELL, "refreshToken", s, at + 2 * MINUTE, AAD_GRAPH),
                ];
                rows.iter_mut().for_each(|r| r.cross_tenant = true);
                rows
            }),
            3 => ("look-alike: the refresh belongs to another session", {
                let other = Some(self.rng.random());
                vec![
                    self.row(user, OFFICE, "none", s, at, MS_GRAPH),
                    self.row(user, AZURE_CLI, "refreshToken", other, at + 2 * MINUTE, AAD_GRAPH),
                ]
            }),
            4 => ("look-alike: the same app twice", vec![
                self.row(user, AZURE_POWERSHELL, "none", s, at, MS_GRAPH),
                self.row(user, AZURE_POWERSHELL, "refreshToken", s, at + 5 * MINUTE, MS_GRAPH),
            ]),
            5 => ("look-alike: sign-ins without a session", vec![
                self.row(user, TEAMS, "none", None, at, MS_GRAPH),
                self.row(user, AZURE_CLI, "refreshToken", None, at + 2 * MINUTE, AAD_GRAPH),
            ]),
            _ => ("look-alike: a first sign-in to a non-FOCI app", vec![
                self.row(user, AZURE_PORTAL, "none", s, at, ARM),
                self.row(user, AZURE_CLI, "refreshToken", s, at + 2 * MINUTE, AAD_GRAPH),
            ]),
        };
        Planted { label: label.to_string(), rows }
    }
}
