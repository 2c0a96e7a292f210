//! SQL functions the detections need whose exact semantics no built-in function gives.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::cast::{as_string_array, as_timestamp_nanosecond_array};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::SessionContext;

const NANOS_PER_MINUTE: i64 = 60_000_000_000;

/// Registers the project's functions in `ctx`.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(minute_index_udf());
    ctx.register_udf(device_is_compliant_udf());
    ctx.register_udf(session_bucket_udf());
}

/// `session_bucket(session_id, passes)`: which of `passes` hash passes a session belongs to,
/// stable across runs and machines (FNV-1a), so that every sign-in of a session lands in the
/// same pass and a hunt split into passes finds exactly the pairs of an unsplit one.
pub fn session_bucket_udf() -> ScalarUDF {
    create_udf(
        "session_bucket",
        vec![DataType::Utf8, DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let sessions: &StringArray = as_string_array(&arrays[0])?;
            let passes = datafusion::common::cast::as_int64_array(&arrays[1])?;
            let buckets: Int64Array = (0..sessions.len())
                .map(|i| {
                    let n = passes.is_valid(i).then(|| passes.value(i)).filter(|n| *n > 0)?;
                    let session = if sessions.is_valid(i) { sessions.value(i) } else { "" };
                    Some((session_hash(session) % n as u64) as i64)
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(buckets) as ArrayRef))
        }),
    )
}

/// FNV-1a of the session id's bytes.
pub fn session_hash(session: &str) -> u64 {
    session.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// `minute_index(ts)`: whole minutes since the epoch, floored. The difference of two values is
/// KQL's `datetime_diff('minute', …)`, which counts minute boundaries crossed; a truncating
/// division would be off by one for instants before 1970.
pub fn minute_index_udf() -> ScalarUDF {
    create_udf(
        "minute_index",
        vec![DataType::Timestamp(TimeUnit::Nanosecond, None)],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let times: &TimestampNanosecondArray = as_timestamp_nanosecond_array(&arrays[0])?;
            let minutes: Int64Array = times.unary(minute_index);
            Ok(ColumnarValue::Array(Arc::new(minutes) as ArrayRef))
        }),
    )
}

/// Floor of `nanos` to whole minutes since the epoch.
pub fn minute_index(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS_PER_MINUTE)
}

/// `device_is_compliant(device_detail)`: true only when the text is valid JSON whose top-level
/// `isCompliant` is JSON `true` or the JSON string `"true"`. A lazy JSON reader would accept
/// `{"isCompliant":true,` cut short; the rule counts invalid JSON as not compliant, so the whole
/// text is parsed.
pub fn device_is_compliant_udf() -> ScalarUDF {
    create_udf(
        "device_is_compliant",
        vec![DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let details: &StringArray = as_string_array(&arrays[0])?;
            let compliant: BooleanArray = (0..details.len())
                .map(|i| Some(details.is_valid(i) && device_is_compliant(details.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(compliant) as ArrayRef))
        }),
    )
}

/// The compliance test on one `DeviceDetail` text.
pub fn device_is_compliant(device_detail: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(device_detail) {
        Ok(serde_json::Value::Object(fields)) => matches!(
            fields.get("isCompliant"),
            Some(serde_json::Value::Bool(true))
        ) || matches!(fields.get("isCompliant"), Some(serde_json::Value::String(s)) if s == "true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_index_floors_before_the_epoch() {
        assert_eq!(minute_index(0), 0);
        assert_eq!(minute_index(NANOS_PER_MINUTE - 1), 0);
        assert_eq!(minute_index(-1), -1);
        assert_eq!(minute_index(-NANOS_PER_MINUTE), -1);
        assert_eq!(minute_index(-NANOS_PER_MINUTE - 1), -2);
    }

    #[test]
    fn session_hashes_are_stable_and_spread() {
        assert_eq!(session_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(session_hash("a"), 0xaf63_dc4c_8601_ec8c);
        let mut counts = [0; 4];
        for i in 0..4000 {
            counts[(session_hash(&format!("session-{i}")) % 4) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    #[test]
    fn compliance_needs_json_true_or_the_string_true() {
        assert!(device_is_compliant(r#"{"isCompliant":true}"#));
        assert!(device_is_compliant(r#"{"isCompliant":"true","isManaged":false}"#));
        for not_compliant in [
            r#"{"isCompliant":false}"#,
            r#"{"isCompliant":"True"}"#,
            r#"{"isCompliant":"TRUE"}"#,
            r#"{"isCompliant":null}"#,
            r#"{"isCompliant":1}"#,
            r#"{"isManaged":true}"#,
            r#"{"isCompliant":true,"#,
            r#"{"device":{"isCompliant":true}}"#,
            "true",
            "",
            "not json",
        ] {
            assert!(!device_is_compliant(not_compliant), "{not_compliant}");
        }
    }
}
