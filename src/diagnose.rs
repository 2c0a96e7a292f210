//! Finding the record behind a failed scan. The engine's JSON reader reports what was wrong but
//! not where; when a hunt fails, the NDJSON inputs are re-read line by line to name the file and
//! line. Nothing is read twice on the happy path.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use serde_json::Value;

use crate::error::Error;
use crate::sources::{FileKind, Inputs, SourceFile, TEXT_COLUMNS, TIME_COLUMN};

/// The first unusable NDJSON record among `inputs`, if any can be found.
pub fn first_bad_record(inputs: &Inputs) -> Option<Error> {
    inputs
        .files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Ndjson | FileKind::NdjsonGzip))
        .find_map(check_file)
}

fn check_file(file: &SourceFile) -> Option<Error> {
    let path = url::Url::parse(&file.url).ok()?.to_file_path().ok()?;
    let fail = |line: u64, message: String| Error::NdjsonRecord { path: file.display(), line, message };
    let raw = match File::open(&path) {
        Ok(raw) => raw,
        Err(e) => return Some(fail(0, e.to_string())),
    };
    let reader: Box<dyn Read> = match file.kind {
        FileKind::NdjsonGzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        _ => Box::new(raw),
    };
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        let number = index as u64 + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => return Some(fail(number, format!("cannot read: {e}"))),
        };
        if let Err(message) = check_record(&line) {
            return Some(fail(number, message));
        }
    }
    None
}

/// Why one NDJSON line cannot be read as a sign-in row, if it cannot.
pub fn check_record(line: &str) -> Result<(), String> {
    if line.trim().is_empty() {
        return Ok(());
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(fields) = value else {
        return Err(format!("expected a JSON object, found {}", json_kind(&value)));
    };
    if let Some(time) = fields.get(TIME_COLUMN) {
        match time {
            Value::Null => {}
            Value::String(text) => {
                string_to_timestamp_nanos(text)
                    .map_err(|e| format!("{TIME_COLUMN} {text:?} is not an RFC 3339 time: {e}"))?;
            }
            other => return Err(format!("{TIME_COLUMN} is {}; expected RFC 3339 text", json_kind(other))),
        }
    }
    for column in TEXT_COLUMNS {
        match fields.get(*column) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => {
                return Err(format!(
                    "{column} is {}; expected a string (Sentinel stores JSON as text)",
                    json_kind(other)
                ));
            }
        }
    }
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_cannot_be_read_are_explained() {
        assert!(check_record("").is_ok());
        assert!(check_record(r#"{"TimeGenerated":"2026-11-02T10:00:00.1234567Z","AppId":null}"#).is_ok());
        assert!(check_record("{not json").unwrap_err().contains("not valid JSON"));
        assert!(check_record("[1]").unwrap_err().contains("an array"));
        assert!(check_record(r#"{"TimeGenerated":"yesterday"}"#).unwrap_err().contains("RFC 3339"));
        assert!(check_record(r#"{"TimeGenerated":""}"#).unwrap_err().contains("RFC 3339"));
        assert!(check_record(r#"{"TimeGenerated":1700000000}"#).unwrap_err().contains("a number"));
        assert!(check_record(r#"{"DeviceDetail":{"isCompliant":true}}"#).unwrap_err().contains("DeviceDetail is an object"));
    }
}
