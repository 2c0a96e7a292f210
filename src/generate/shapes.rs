//! Generated rows written in the other export shapes: an Entra diagnostic-settings record or a
//! Graph sign-in built from a Sentinel row, so that one generated lake can be hunted in every
//! shape and the alerts compared. The inverse of `sql/shapes/*.sql`.

use serde_json::{Map, Value, json};

/// `generate --shape`: the shape NDJSON rows are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportShape {
    #[default]
    Sentinel,
    Diagnostic,
    Graph,
}

/// The diagnostic export's folder of one tenant (before `y=/m=/d=/h=/m=`).
pub fn diagnostic_root(tenant: &str) -> String {
    format!("insights-logs-noninteractiveusersigninlogs/tenantId={tenant}")
}

/// `row` (a Sentinel row as JSON) in `shape`.
pub fn reshape(row: &Map<String, Value>, shape: ExportShape) -> Value {
    let text = |key: &str| row.get(key).cloned().unwrap_or(Value::Null);
    // Sentinel keeps nested values as JSON text; the other shapes nest them.
    let nested = |key: &str| match row.get(key) {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let error_code = |key: &str| match row.get(key) {
        Some(Value::String(s)) => s.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(s.clone())),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let sign_in = json!({
        "id": text("Id"),
        "createdDateTime": text("TimeGenerated"),
        "userDisplayName": text("Identity"),
        "userPrincipalName": text("UserPrincipalName"),
        "userId": text("UserId"),
        "appId": text("AppId"),
        "appDisplayName": text("AppDisplayName"),
        "ipAddress": text("IPAddress"),
        "clientAppUsed": text("ClientAppUsed"),
        "userAgent": text("UserAgent"),
        "deviceDetail": nested("DeviceDetail"),
        "location": nested("LocationDetails"),
        "authenticationProcessingDetails": nested("AuthenticationProcessingDetails"),
        "resourceDisplayName": text("ResourceDisplayName"),
        "resourceId": text("ResourceIdentity"),
        "resourceTenantId": text("ResourceTenantId"),
        "homeTenantId": text("HomeTenantId"),
        "sessionId": text("SessionId"),
        "incomingTokenType": text("IncomingTokenType"),
        "isInteractive": false,
    });
    match shape {
        ExportShape::Sentinel => Value::Object(row.clone()),
        ExportShape::Graph => {
            let mut graph = sign_in;
            graph["status"] = json!({"errorCode": error_code("ResultType"), "failureReason": text("ResultDescription")});
            graph
        }
        ExportShape::Diagnostic => {
            let mut properties = sign_in;
            properties["status"] = json!({"errorCode": error_code("ResultType")});
            let tenant = row.get("HomeTenantId").and_then(Value::as_str).unwrap_or_default();
            json!({
                "time": text("TimeGenerated"),
                "resourceId": format!("/tenants/{tenant}/providers/Microsoft.aadiam"),
                "operationName": "Sign-in activity",
                "operationVersion": "1.0",
                "category": "NonInteractiveUserSignInLogs",
                "tenantId": tenant,
                // Real exports write resultType as text and Level as a number.
                "resultType": text("ResultType"),
                "resultSignature": text("ResultSignature"),
                "resultDescription": text("ResultDescription"),
                "durationMs": 0,
                "callerIpAddress": text("IPAddress"),
                "correlationId": text("CorrelationId"),
                "identity": text("Identity"),
                "Level": error_code("Level"),
                "location": text("Location"),
                "properties": properties,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_text_becomes_objects_and_codes_numbers() {
        let row = json!({
            "TimeGenerated": "2026-11-02T10:00:00.0000000Z", "ResultType": "50126", "Level": "4",
            "DeviceDetail": "{\"isCompliant\":true}", "Location": "NL", "AppId": "a",
        });
        let row = row.as_object().unwrap();
        let diagnostic = reshape(row, ExportShape::Diagnostic);
        assert_eq!(diagnostic["properties"]["deviceDetail"]["isCompliant"], true);
        assert_eq!(diagnostic["Level"], 4);
        assert_eq!(diagnostic["resultType"], "50126");
        assert_eq!(diagnostic["properties"]["appId"], "a");
        let graph = reshape(row, ExportShape::Graph);
        assert_eq!(graph["status"]["errorCode"], 50126);
        assert_eq!(graph["createdDateTime"], "2026-11-02T10:00:00.0000000Z");
    }
}
