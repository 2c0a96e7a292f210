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
