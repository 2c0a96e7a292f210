//! The bundled demo sample (`data/samples/`): hand-designed sessions in the Sentinel
//! `AADNonInteractiveUserSignInLogs` shape, one per branch of the rule, written as NDJSON and
//! as Parquet with the same rows. `cargo run --example make_sample` rewrites it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// File names under the sample folder.
pub const NDJSON_FILE: &str = "signins.ndjson";
pub const PARQUET_FILE: &str = "signins.parquet";

const TENANT: &str = "7f3c2a10-5b8e-4d61-9a0f-2c4e6b8d1a35";
const OTHER_TENANT: &str = "0b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
const AAD_GRAPH: &str = "00000002-0000-0000-c000-000000000000";
const MS_GRAPH: &str = "00000003-0000-0000-c000-000000000000";

/// The text columns written, in Sentinel's order; `TimeGenerated` comes first.
const COLUMNS: &[&str] = &[
    "TenantId", "SourceSystem", "OperationName", "OperationVersion", "Category", "ResultType",
    "ResultSignature", "ResultDescription", "Identity", "Level", "Location", "AppDisplayName",
    "AppId", "AuthenticationProcessingDetails", "ClientAppUsed", "CorrelationId", "DeviceDetail",
    "HomeTenantId", "Id", "IncomingTokenType", "IPAddress", "IsInteractive", "LocationDetails",
    "ResourceDisplayName", "ResourceIdentity", "ResourceTenantId", "SessionId", "Status",
    "TokenIssuerType", "UniqueTokenIdentifier", "UserAgent", "UserDisplayName", "UserId",
    "UserPrincipalName", "UserType", "Type",
];

struct App {
    id: &'static str,
    name: &'static str,
}

const TEAMS: App = App { id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264", name: "Microsoft Teams" };
const OFFICE: App = App { id: "d3590ed6-52b3-4102-aeff-aad2292ab01c", name: "Microsoft Office" };
const OUTLOOK: App = App { id: "27922004-5251-4030-b22d-91ecd9a37ea4", name: "Outlook Mobile" };
const ONEDRIVE: App = App { id: "ab9b8c07-8f02-4f72-87fa-80105867a763", name: "OneDrive SyncEngine" };
const AZURE_CLI: App = App { id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "Microsoft Azure CLI" };
const AZURE_POWERSHELL: App = App { id: "1950a258-227b-4e31-a9cf-717495945fc2", name: "Microsoft Azure PowerShell" };
const O365_MANAGEMENT: App = App { id: "00b41c95-dab0-4487-9791-b9d2c32c80f2", name: "Office 365 Management" };
const AZURE_PORTAL: App = App { id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", name: "Azure Portal" };

struct User {
    upn: &'static str,
    name: &'static str,
    id: &'static str,
}

const ADELE: User = User { upn: "adele.vance@contoso.example", name: "Adele Vance", id: "3c9a1b2d-0e4f-4a6b-8c7d-1e2f3a4b5c6d" };
const BRIAN: User = User { upn: "brian.johnson@contoso.example", name: "Brian Johnson", id: "4d0b2c3e-1f5a-4b7c-9d8e-2f3a4b5c6d7e" };
const CHRIS: User = User { upn: "chris.green@contoso.example", name: "Chris Green", id: "5e1c3d4f-2a6b-4c8d-8e9f-3a4b5c6d7e8f" };
const DIEGO: User = User { upn: "diego.siciliani@contoso.example", name: "Diego Siciliani", id: "6f2d4e5a-3b7c-4d9e-9f0a-4b5c6d7e8f9a" };
const ADMIN: User = User { upn: "it.admin@contoso.example", name: "IT Admin", id: "7a3e5f6b-4c8d-4e0f-8a1b-5c6d7e8f9a0b" };

/// How one sign-in differs from a plain, successful, home-tenant, non-compliant sign-in.
struct SignIn<'a> {
    user: &'a User,
    app: &'a App,
    session: &'a str,
    at: &'a str,
    token: &'a str,
    scopes: &'a [&'a str],
    resource: &'a str,
    compliant: bool,
    resource_tenant: &'a str,
    result: (&'a str, &'a str),
}

impl<'a> SignIn<'a> {
    fn new(user: &'a User, app: &'a App, session: &'a str, at: &'a str, token: &'a str) -> Self {
        SignIn {
            user,
            app,
            session,
            at,
            token,
            scopes: &["openid", "profile", "offline_access"],
            resource: MS_GRAPH,
            compliant: false,
            resource_tenant: TENANT,
            result: ("0", ""),
        }
    }

    fn row(&self, serial: u32) -> Map<String, Value> {
        let scope_info = serde_json::to_string(&self.scopes).unwrap_or_default();
        let processing = json!([
            {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
            {"key": "Is CAE Token", "value": "False"},
            {"key": "Oauth Scope Info", "value": scope_info},
        ]);
        let device = json!({
            "deviceId": if self.compliant { "2b8f5c1e-9d3a-4e7b-8f6c-1a2b3c4d5e6f" } else { "" },
            "operatingSystem": "Windows 10",
            "browser": "",
            "isCompliant": self.compliant,
            "isManaged": self.compliant,
            "trustType": if self.compliant { "Azure AD joined" } else { "" },
        });
        let location = json!({
            "city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
            "geoCoordinates": {"latitude": 52.37, "longitude": 4.89},
        });
        let status = json!({"errorCode": self.result.0.parse::<i64>().unwrap_or(0), "failureReason": self.result.1});
        let text = |v: &Value| v.to_string();
        let values: [(&str, String); 36] = [
            ("TenantId", TENANT.into()),
            ("SourceSystem", "Azure AD".into()),
            ("OperationName", "Sign-in activity".into()),
            ("OperationVersion", "1.0".into()),
            ("Category", "NonInteractiveUserSignInLogs".into()),
            ("ResultType", self.result.0.into()),
            ("ResultSignature", "None".into()),
            ("ResultDescription", self.result.1.into()),
            ("Identity", self.user.name.into()),
            ("Level", "4".into()),
            ("Location", "NL".into()),
            ("AppDisplayName", self.app.name.into()),
            ("AppId", self.app.id.into()),
            ("AuthenticationProcessingDetails", text(&processing)),
            ("ClientAppUsed", "Mobile Apps and Desktop clients".into()),
            ("CorrelationId", format!("9c0d{serial:04x}-1e2f-4a3b-8c4d-5e6f7a8b9c0d")),
            ("DeviceDetail", text(&device)),
            ("HomeTenantId", TENANT.into()),
            ("Id", format!("a1b2{serial:04x}-c3d4-4e5f-9a6b-7c8d9e0f1a2b")),
            ("IncomingTokenType", self.token.into()),
            ("IPAddress", "203.0.113.24".into()),
            ("IsInteractive", "false".into()),
            ("LocationDetails", text(&location)),
            ("ResourceDisplayName", if self.resource == AAD_GRAPH { "Windows Azure Active Directory" } else { "Microsoft Graph" }.into()),
            ("ResourceIdentity", self.resource.into()),
            ("ResourceTenantId", self.resource_tenant.into()),
            ("SessionId", self.session.into()),
            ("Status", text(&status)),
            ("TokenIssuerType", "AzureAD".into()),
            ("UniqueTokenIdentifier", format!("sample-token-{serial:04}")),
            ("UserAgent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36".into()),
            ("UserDisplayName", self.user.name.into()),
            ("UserId", self.user.id.into()),
            ("UserPrincipalName", self.user.upn.into()),
            ("UserType", "Member".into()),
            ("Type", "AADNonInteractiveUserSignInLogs".into()),
        ];
        let mut row = Map::new();
        row.insert("TimeGenerated".into(), Value::String(self.at.into()));
        for (name, value) in values {
            row.insert(name.into(), Value::String(value));
        }
        row
    }
}

/// The sample's sign-ins, in time order. Each scenario's comment says which tunings fire.
pub fn rows() -> Vec<Map<String, Value>> {
    let ga: &[&str] = &[GLOBAL_ADMIN_ROLE, "user_impersonation"];
    let mut sign_ins = vec![
        // Fires under every tuning: Teams, then Azure CLI with the Global Administrator role
        // from a non-compliant device.
        SignIn::new(&ADELE, &TEAMS, "5a1f0c3e-7b2d-4e8f-9a6c-0d1e2f3a4b5c", "2026-11-02T08:14:07.1234567Z", "none"),
        SignIn { scopes: ga, resource: AAD_GRAPH, ..SignIn::new(&ADELE, &AZURE_CLI, "5a1f0c3e-7b2d-4e8f-9a6c-0d1e2f3a4b5c", "2026-11-02T08:17:52.7654321Z", "refreshToken") },
        // Fires under every tuning: Office, then Azure PowerShell.
        SignIn::new(&BRIAN, &OFFICE, "6b2a1d4f-8c3e-4f9a-8b7d-1e2f3a4b5c6d", "2026-11-02T09:02:11.0000000Z", "none"),
        SignIn::new(&BRIAN, &AZURE_POWERSHELL, "6b2a1d4f-8c3e-4f9a-8b7d-1e2f3a4b5c6d", "2026-11-02T09:06:40.5000000Z", "refreshToken"),
        // Fires under every tuning: Outlook Mobile, then Office 365 Management (a failed one).
        SignIn::new(&CHRIS, &OUTLOOK, "7c3b2e5a-9d4f-4a0b-9c8e-2f3a4b5c6d7e", "2026-11-02T09:30:00.0000001Z", "none"),
        SignIn { result: ("50140", "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."), ..SignIn::new(&CHRIS, &O365_MANAGEMENT, "7c3b2e5a-9d4f-4a0b-9c8e-2f3a4b5c6d7e", "2026-11-02T09:31:15.2500000Z", "primaryRefreshToken") },
        // Fires only with tuning off: Azure CLI without the Global Administrator role.
        SignIn::new(&DIEGO, &TEAMS, "8d4c3f6b-0e5a-4b1c-8d9f-3a4b5c6d7e8f", "2026-11-02T10:00:59.9999999Z", "none"),
        SignIn::new(&DIEGO, &AZURE_CLI, "8d4c3f6b-0e5a-4b1c-8d9f-3a4b5c6d7e8f", "2026-11-02T10:01:00.0000000Z", "refreshToken"),
        // Fires with tuning off and global-admin, not global-admin-noncompliant: compliant device.
        SignIn::new(&ADMIN, &ONEDRIVE, "9e5d4a7c-1f6b-4c2d-9e0a-4b5c6d7e8f9a", "2026-11-02T11:20:00.0000000Z", "none"),
        SignIn { scopes: ga, compliant: true, ..SignIn::new(&ADMIN, &AZURE_CLI, "9e5d4a7c-1f6b-4c2d-9e0a-4b5c6d7e8f9a", "2026-11-02T11:24:30.0000000Z", "refreshToken") },
        // Fires without --max-time-diff, not with --max-time-diff 90: two hours apart.
        SignIn::new(&BRIAN, &TEAMS, "0f6e5b8d-2a7c-4d3e-8f1b-5c6d7e8f9a0b", "2026-11-02T12:00:00.0000000Z", "none"),
        SignIn::new(&BRIAN, &AZURE_POWERSHELL, "0f6e5b8d-2a7c-4d3e-8f1b-5c6d7e8f9a0b", "2026-11-02T14:05:00.0000000Z", "refreshToken"),
        // v2 only (ROADtools): Azure PowerShell refreshed by itself for Azure AD Graph; v1
        // ignores same-app pairs.
        SignIn::new(&CHRIS, &AZURE_POWERSHELL, "8b4e3a6c-0d5f-4e1a-9b2c-7d8e9f0a1b2c", "2026-11-02T12:30:00.0000000Z", "none"),
        SignIn { scopes: ga, resource: AAD_GRAPH, ..SignIn::new(&CHRIS, &AZURE_POWERSHELL, "8b4e3a6c-0d5f-4e1a-9b2c-7d8e9f0a1b2c", "2026-11-02T12:32:10.0000000Z", "refreshToken") },
        // Look-alike, same app: an admin's own Azure CLI sign-in refreshed by Azure CLI.
        SignIn::new(&ADMIN, &AZURE_CLI, "1a7f6c9e-3b8d-4e4f-9a2c-6d7e8f9a0b1c", "2026-11-02T13:00:00.0000000Z", "none"),
        SignIn { scopes: ga, ..SignIn::new(&ADMIN, &AZURE_CLI, "1a7f6c9e-3b8d-4e4f-9a2c-6d7e8f9a0b1c", "2026-11-02T13:05:00.0000000Z", "refreshToken") },
        // Look-alike, second before first (TimeDiff -1).
        SignIn::new(&CHRIS, &AZURE_CLI, "2b8a7d0f-4c9e-4f5a-8b3d-7e8f9a0b1c2d", "2026-11-02T14:59:59.0000000Z", "refreshToken"),
        SignIn::new(&CHRIS, &TEAMS, "2b8a7d0f-4c9e-4f5a-8b3d-7e8f9a0b1c2d", "2026-11-02T15:00:00.0000000Z", "none"),
        // Look-alike, cross-tenant: the refresh is redeemed in another tenant (guest access).
        SignIn::new(&DIEGO, &OFFICE, "3c9b8e1a-5d0f-4a6b-9c4e-8f9a0b1c2d3e", "2026-11-02T15:30:00.0000000Z", "none"),
        SignIn { resource_tenant: OTHER_TENANT, ..SignIn::new(&DIEGO, &AZURE_POWERSHELL, "3c9b8e1a-5d0f-4a6b-9c4e-8f9a0b1c2d3e", "2026-11-02T15:33:00.0000000Z", "refreshToken") },
        // Look-alike, other session: the refresh belongs to a different session of the user.
        SignIn::new(&ADELE, &OUTLOOK, "4d0c9f2b-6e1a-4b7c-8d5f-9a0b1c2d3e4f", "2026-11-02T16:00:00.0000000Z", "none"),
        SignIn::new(&ADELE, &AZURE_CLI, "5e1d0a3c-7f2b-4c8d-9e6a-0b1c2d3e4f5a", "2026-11-02T16:02:00.0000000Z", "refreshToken"),
        // Look-alike, missing session: session-less sign-ins never pair.
        SignIn::new(&BRIAN, &OFFICE, "", "2026-11-02T16:30:00.0000000Z", "none"),
        SignIn::new(&BRIAN, &AZURE_CLI, "", "2026-11-02T16:31:00.0000000Z", "refreshToken"),
        // Look-alike, non-FOCI first app: Azure Portal is not in the family.
        SignIn::new(&CHRIS, &AZURE_PORTAL, "6f2e1b4d-8a3c-4d9e-8f7b-1c2d3e4f5a6b", "2026-11-02T17:00:00.0000000Z", "none"),
        SignIn { scopes: ga, ..SignIn::new(&CHRIS, &AZURE_CLI, "6f2e1b4d-8a3c-4d9e-8f7b-1c2d3e4f5a6b", "2026-11-02T17:03:00.0000000Z", "refreshToken") },
        // Background: ordinary family refreshes that must stay quiet.
        SignIn::new(&DIEGO, &TEAMS, "7a3f2c5e-9b4d-4e0f-9a8c-2d3e4f5a6b7c", "2026-11-02T18:00:00.0000000Z", "none"),
        SignIn::new(&DIEGO, &TEAMS, "7a3f2c5e-9b4d-4e0f-9a8c-2d3e4f5a6b7c", "2026-11-02T18:45:00.0000000Z", "refreshToken"),
        SignIn::new(&DIEGO, &OUTLOOK, "7a3f2c5e-9b4d-4e0f-9a8c-2d3e4f5a6b7c", "2026-11-02T19:10:00.0000000Z", "refreshToken"),
    ];
    sign_ins.sort_by_key(|s| s.at);
    sign_ins.iter().zip(1..).map(|(s, serial)| s.row(serial)).collect()
}

/// Writes the sample as NDJSON and Parquet into `dir`.
pub fn write(dir: &Path) -> Result<()> {
    let rows = rows();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| Error::Io { path, source: e }
    };
    let ndjson = dir.join(NDJSON_FILE);
    let mut out = BufWriter::new(File::create(&ndjson).map_err(io(&ndjson))?);
    for row in &rows {
        writeln!(out, "{}", Value::Object(row.clone())).map_err(io(&ndjson))?;
    }
    out.flush().map_err(io(&ndjson))?;

    let parquet = dir.join(PARQUET_FILE);
    let batch = to_batch(&rows).map_err(|e| Error::Output { target: parquet.display().to_string(), source: Box::new(e) })?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let file = File::create(&parquet).map_err(io(&parquet))?;
    let fail = |e: datafusion::parquet::errors::ParquetError| Error::Output { target: parquet.display().to_string(), source: Box::new(e) };
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(fail)?;
    writer.write(&batch).map_err(fail)?;
    writer.close().map_err(fail)?;
    Ok(())
}

fn to_batch(rows: &[Map<String, Value>]) -> std::result::Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let times: TimestampNanosecondArray = rows
        .iter()
        .map(|r| {
            r.get("TimeGenerated")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .and_then(|t| t.timestamp_nanos_opt())
        })
        .collect();
    let mut fields = vec![Field::new("TimeGenerated", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(times.with_timezone("UTC"))];
    for name in COLUMNS {
        fields.push(Field::new(*name, DataType::Utf8, true));
        let values: StringArray = rows.iter().map(|r| r.get(*name).and_then(Value::as_str)).collect();
        columns.push(Arc::new(values));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
