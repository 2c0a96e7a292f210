//! One generated sign-in: its compact description while the generator orders rows by time,
//! and its full Sentinel-shape columns when a batch is written.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use serde_json::json;

use super::catalog::{App, CA_POLICIES, DEVICE_KINDS, FAILURES, GLOBAL_ADMIN_ROLE, PLACES, Resource};
use super::population::{PARTNER_TENANT, TENANT, User, guid};
use crate::output::format_time;

/// A sign-in before it is written: what varies between rows, by value.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// Nanoseconds since the epoch, a multiple of 100 (Sentinel's precision).
    pub time: i64,
    /// Position in generation order: breaks ties in time and seeds the row's identifiers.
    pub serial: u64,
    pub user: u32,
    pub device: u8,
    pub app: App,
    pub token: &'static str,
    /// `None` writes an empty SessionId.
    pub session: Option<u128>,
    pub resource: Resource,
    pub global_admin_scope: bool,
    /// Overrides the device's own compliance (planted scenarios).
    pub compliant: Option<bool>,
    pub cross_tenant: bool,
    /// Index into `FAILURES`.
    pub failure: Option<usize>,
}

impl SignIn {
    /// A successful home-tenant sign-in on the user's first device, without Global
    /// Administrator scope; callers change what their scenario needs.
    pub fn new(time: i64, serial: u64, user: u32, app: App, token: &'static str, session: Option<u128>, resource: Resource) -> SignIn {
        SignIn {
            time: time - time.rem_euclid(100),
            serial,
            user,
            device: 0,
            app,
            token,
            session,
            resource,
            global_admin_scope: false,
            compliant: None,
            cross_tenant: false,
            failure: None,
        }
    }

    pub fn session_text(&self) -> String {
        self.session.map(guid).unwrap_or_default()
    }

    pub fn home_tenant(&self) -> &'static str {
        if self.cross_tenant { PARTNER_TENANT } else { TENANT }
    }

    pub fn result_type(&self) -> &'static str {
        self.failure.map_or("0", |f| FAILURES[f].code)
    }

    pub fn scope_info(&self) -> String {
        let scopes: Vec<&str> = match (self.resource.id, self.global_admin_scope) {
            (_, true) => vec![GLOBAL_ADMIN_ROLE, "user_impersonation"],
            ("00000003-0000-0000-c000-000000000000", false) => vec!["openid", "profile", "offline_access", "User.Read", "Files.ReadWrite.All", "Sites.ReadWrite.All", "Mail.ReadWrite", "Calendars.ReadWrite"],
            (_, false) => vec!["user_impersonation"],
        };
        serde_json::to_string(&scopes).unwrap_or_default()
    }

    pub fn is_compliant(&self, users: &[User]) -> bool {
        self.compliant.unwrap_or_else(|| users[self.user as usize].devices[self.device as usize].compliant)
    }
}

impl PartialEq for SignIn {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.serial) == (other.time, other.serial)
    }
}
impl Eq for SignIn {}
impl PartialOrd for SignIn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SignIn {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.serial).cmp(&(other.time, other.serial))
    }
}

/// The column types of a generated file.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Long,
    Bool,
    /// A timestamp in Parquet, RFC 3339 text in NDJSON.
    Time,
}

/// The columns written, in the order of the Sentinel schema.
const COLUMNS: &[(&str, Kind)] = &[
    ("TenantId", Kind::Text), ("SourceSystem", Kind::Text), ("TimeGenerated", Kind::Time),
    ("OperationName", Kind::Text), ("OperationVersion", Kind::Text), ("Category", Kind::Text),
    ("ResultType", Kind::Text), ("ResultSignature", Kind::Text), ("ResultDescription", Kind::Text),
    ("DurationMs", Kind::Long), ("CorrelationId", Kind::Text), ("Identity", Kind::Text), ("Level", Kind::Text),
    ("Location", Kind::Text), ("AlternateSignInName", Kind::Text), ("AppDisplayName", Kind::Text),
    ("AppId", Kind::Text), ("AuthenticationContextClassReferences", Kind::Text),
    ("AuthenticationDetails", Kind::Text), ("AuthenticationProcessingDetails", Kind::Text),
    ("AuthenticationProtocol", Kind::Text), ("AuthenticationRequirement", Kind::Text),
    ("AutonomousSystemNumber", Kind::Text), ("ClientAppUsed", Kind::Text), ("ClientCredentialType", Kind::Text),
    ("ConditionalAccessPolicies", Kind::Text), ("ConditionalAccessStatus", Kind::Text),
    ("CreatedDateTime", Kind::Time), ("CrossTenantAccessType", Kind::Text), ("DeviceDetail", Kind::Text),
    ("HomeTenantId", Kind::Text), ("Id", Kind::Text), ("IncomingTokenType", Kind::Text), ("IPAddress", Kind::Text),
    ("IsInteractive", Kind::Bool), ("IsRisky", Kind::Bool), ("LocationDetails", Kind::Text),
    ("MfaDetail", Kind::Text), ("NetworkLocationDetails", Kind::Text), ("OriginalRequestId", Kind::Text),
    ("ProcessingTimeInMs", Kind::Text), ("ResourceDisplayName", Kind::Text), ("ResourceIdentity", Kind::Text),
    ("ResourceServicePrincipalId", Kind::Text), ("ResourceTenantId", Kind::Text), ("RiskDetail", Kind::Text),
    ("RiskLevelAggregated", Kind::Text), ("RiskLevelDuringSignIn", Kind::Text), ("RiskState", Kind::Text),
    ("ServicePrincipalId", Kind::Text), ("SessionId", Kind::Text), ("SignInEventTypes", Kind::Text),
    ("SignInIdentifierType", Kind::Text), ("Status", Kind::Text), ("TokenIssuerName", Kind::Text),
    ("TokenIssuerType", Kind::Text), ("UniqueTokenIdentifier", Kind::Text), ("UserAgent", Kind::Text),
    ("UserDisplayName", Kind::Text), ("UserId", Kind::Text), ("UserPrincipalName", Kind::Text),
    ("UserType", Kind::Text), ("Type", Kind::Text),
];

/// One cell of a row being written.
enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    Long(i64),
    Bool(bool),
    Time(i64),
}

/// Turns `SignIn`s into record batches. JSON texts that depend on few inputs are cached.
pub struct BatchBuilder {
    schema: SchemaRef,
    time_as_text: bool,
    seed: u64,
    cache: HashMap<String, String>,
}

impl BatchBuilder {
    /// `time_as_text`: RFC 3339 text (NDJSON) instead of timestamps (Parquet).
    pub fn new(time_as_text: bool, seed: u64) -> BatchBuilder {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|(name, kind)| {
                let data_type = match (kind, time_as_text) {
                    (Kind::Text, _) | (Kind::Time, true) => DataType::Utf8,
                    (Kind::Long, _) => DataType::Int64,
                    (Kind::Bool, _) => DataType::Boolean,
                    (Kind::Time, false) => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                };
                Field::new(*name, data_type, true)
            })
            .collect();
        BatchBuilder { schema: Arc::new(Schema::new(fields)), time_as_text, seed, cache: HashMap::new() }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The batch of `rows`, in order.
    pub fn build(&mut self, rows: &[SignIn], users: &[User]) -> Result<RecordBatch, ArrowError> {
        let mut texts: Vec<StringBuilder> = Vec::new();
        let mut longs: Vec<Int64Builder> = Vec::new();
        let mut bools: Vec<BooleanBuilder> = Vec::new();
        let mut times: Vec<TimestampNanosecondBuilder> = Vec::new();
        let mut slots = Vec::with_capacity(COLUMNS.len());
        for (_, kind) in COLUMNS {
            slots.push(match (kind, self.time_as_text) {
                (Kind::Text, _) | (Kind::Time, true) => { texts.push(StringBuilder::with_capacity(rows.len(), rows.len() * 32)); (0u8, texts.len() - 1) }
                (Kind::Long, _) => { longs.push(Int64Builder::with_capacity(rows.len())); (1, longs.len() - 1) }
                (Kind::Bool, _) => { bools.push(BooleanBuilder::with_capacity(rows.len())); (2, bools.len() - 1) }
                (Kind::Time, false) => { times.push(TimestampNanosecondBuilder::with_capacity(rows.len()).with_timezone("UTC")); (3, times.len() - 1) }
            });
        }
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for row in rows {
            cells.clear();
            self.cells(row, users, &mut cells);
            for (cell, (which, index)) in cells.drain(..).zip(&slots) {
                match (cell, which) {
                    (Cell::Text(t), 0) => texts[*index].append_value(t),
                    (Cell::Time(t), 0) => texts[*index].append_value(format_time(t)),
                    (Cell::Long(v), 1) => longs[*index].append_value(v),
                    (Cell::Bool(v), 2) => bools[*index].append_value(v),
                    (Cell::Time(t), 3) => times[*index].append_value(t),
                    _ => return Err(ArrowError::SchemaError("generated cell of the wrong type".into())),
                }
            }
        }
        let mut texts = texts.into_iter();
        let mut longs = longs.into_iter();
        let mut bools = bools.into_iter();
        let mut times = times.into_iter();
        let columns: Vec<ArrayRef> = slots
            .iter()
            .map(|(which, _)| -> Option<ArrayRef> {
                Some(match which {
                    0 => Arc::new(texts.next()?.finish()),
                    1 => Arc::new(longs.next()?.finish()),
                    2 => Arc::new(bools.next()?.finish()),
                    _ => Arc::new(times.next()?.finish()),
                })
            })
            .collect::<Option<_>>()
            .ok_or_else(|| ArrowError::SchemaError("generated column missing".into()))?;
        RecordBatch::try_new(Arc::clone(&self.schema), columns)
    }

    /// A stable identifier for `row`'s `what`.
    fn id(&self, row: &SignIn, what: u64) -> String {
        let mut x = self.seed ^ row.serial.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ what.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        guid(((next() as u128) << 64) | next() as u128)
    }

    fn cached(&mut self, key: String, make: impl FnOnce() -> String) -> String {
        self.cache.entry(key).or_insert_with(make).clone()
    }

    fn cells<'a>(&mut self, row: &SignIn, users: &'a [User], cells: &mut Vec<Cell<'a>>) {
        use std::borrow::Cow::{Borrowed, Owned};
        let user = &users[row.user as usize];
        let device = &user.devices[row.device as usize];
        let kind = DEVICE_KINDS[device.kind];
        let place = PLACES[user.place];
        let compliant = row.is_compliant(users);
        let failure = row.failure.map(|f| &FAILURES[f]);
        let blocked = failure.is_some_and(|f| f.code == "53003");

        let device_detail = self.cached(format!("device:{}:{compliant}", device.id), || {
            json!({
                "deviceId": if device.managed { device.id.as_str() } else { "" },
                "displayName": if device.managed { format!("CONTOSO-{}", &device.id[..6].to_uppercase()) } else { String::new() },
                "operatingSystem": kind.0,
                "browser": kind.1,
                "isCompliant": compliant,
                "isManaged": device.managed,
                "trustType": if device.managed { "Azure AD joined" } else { "" },
            })
            .to_string()
        });
        let location_details = self.cached(format!("place:{}", user.place), || {
            json!({
                "city": place.0, "state": place.1, "countryOrRegion": place.2,
                "geoCoordinates": {"latitude": place.3, "longitude": place.4},
            })
            .to_string()
        });
        let processing = self.cached(format!("apd:{}:{}", row.resource.id, row.global_admin_scope), || {
            json!([
                {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
                {"key": "Oauth Scope Info", "value": row.scope_info()},
                {"key": "Is CAE Token", "value": "True"},
                {"key": "Root Key Type", "value": "Unknown"},
                {"key": "Token Protection - Sign In Session", "value": "none"},
            ])
            .to_string()
        });
        let policies = self.cached(format!("ca:{compliant}:{blocked}"), || {
            let policies: Vec<serde_json::Value> = CA_POLICIES
                .iter()
                .enumerate()
                .map(|(i, (id, name, grant, session))| {
                    let result = match i {
                        3 if !compliant => "failure",
                        3 | 5 => "success",
                        6 if blocked => "failure",
                        _ => "notApplied",
                    };
                    let grant = serde_json::from_str::<serde_json::Value>(grant).unwrap_or_default();
                    let session = serde_json::from_str::<serde_json::Value>(session).unwrap_or_default();
                    if result == "notApplied" {
                        return json!({"id": id, "displayName": name, "enforcedGrantControls": grant, "enforcedSessionControls": session, "result": result});
                    }
                    json!({
                        "id": id, "displayName": name, "enforcedGrantControls": grant, "enforcedSessionControls": session,
                        "result": result, "conditionsSatisfied": 3, "conditionsNotSatisfied": 0,
                        "includeRulesSatisfied": [{"conditionalAccessCondition": "application", "ruleSatisfied": "allApps"}, {"conditionalAccessCondition": "users", "ruleSatisfied": "allUsers"}],
                        "excludeRulesSatisfied": [],
                    })
                })
                .collect();
            serde_json::Value::Array(policies).to_string()
        });
        let status = json!({
            "errorCode": failure.map_or(0, |f| f.code.parse::<i64>().unwrap_or(0)),
            "failureReason": failure.map_or("", |f| f.description),
            "additionalDetails": if failure.is_some() { "MFA requirement satisfied by claim in the token" } else { "" },
        })
        .to_string();
        let text = |s: &'a str| Cell::Text(Borrowed(s));
        let own = |s: String| Cell::Text(Owned(s));
        let resource_tenant = TENANT;
        cells.extend([
            text(TENANT),
            text("Azure AD"),
            Cell::Time(row.time),
            text("Sign-in activity"),
            text("1.0"),
            text("NonInteractiveUserSignInLogs"),
            text(row.result_type()),
            text(if failure.is_some() { "FAILURE" } else { "SUCCESS" }),
            text(failure.map_or("", |f| f.description)),
            Cell::Long(40 + (row.serial % 200) as i64),
            own(self.id(row, 1)),
            text(&user.name),
            text("4"),
            text(place.2),
            text(&user.upn),
            text(row.app.name),
            text(row.app.id),
            text("[]"),
            text("[]"),
            own(processing),
            text("none"),
            text("singleFactorAuthentication"),
            text("8075"),
            text("Mobile Apps and Desktop clients"),
            text("none"),
            own(policies),
            text(if blocked { "failure" } else { "success" }),
            Cell::Time(row.time),
            text(if row.cross_tenant { "b2bCollaboration" } else { "none" }),
            own(device_detail),
            text(row.home_tenant()),
            own(self.id(row, 2)),
            text(row.token),
            text(&user.ip),
            Cell::Bool(false),
            Cell::Bool(false),
            own(location_details),
            text("{}"),
            text("[]"),
            own(self.id(row, 3)),
            own(format!("{}", 20 + row.serial % 180)),
            text(row.resource.name),
            text(row.resource.id),
            own(self.id(row, 4)),
            text(resource_tenant),
            text("none"),
            text("none"),
            text("none"),
            text("none"),
            own(self.id(row, 5)),
            own(row.session_text()),
            text("[\"nonInteractiveUser\"]"),
            text("userPrincipalName"),
            own(status),
            text(""),
            text("AzureAD"),
            own(self.id(row, 6).replace('-', "")),
            text(kind.2),
            text(&user.name),
            text(&user.id),
            text(&user.upn),
            text(if row.cross_tenant { "Guest" } else { "Member" }),
            text("AADNonInteractiveUserSignInLogs"),
        ]);
    }
}
