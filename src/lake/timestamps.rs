//! Sign-in time text as Azure exports write it, parsed to UTC nanoseconds.
//!
//! Accepted forms (each seen in real exports): RFC 3339 / ISO 8601 with `Z` or an offset and 0–9
//! fractional digits; ISO 8601 without a zone (read as UTC, as Azure writes UTC); and the US
//! `M/D/YYYY h:mm:ss` form, 24-hour or with AM/PM, optionally followed by an offset. Anything
//! else is refused with the forms listed, never guessed.

use chrono::{DateTime, NaiveDateTime};

/// What a refused time is told against.
pub const EXPECTED_FORMS: &str =
    "expected ISO 8601 like 2026-11-02T10:00:00.1234567Z (offset optional, UTC when absent) or M/D/YYYY h:mm:ss [AM|PM] [+hh:mm]";

/// Parses `text` to nanoseconds since the epoch, UTC.
pub fn parse_sign_in_time(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let refused = || format!("{text:?} is not a timestamp ({EXPECTED_FORMS})");
    let parsed = if trimmed.contains('/') { parse_us(trimmed) } else { parse_iso(trimmed) };
    let nanos = parsed.ok_or_else(refused)?;
    nanos.ok_or_else(|| format!("{text:?} is outside the years 1677–2262 that nanosecond timestamps cover"))
}

/// `None`: not this form; `Some(None)`: this form, out of range.
fn parse_iso(text: &str) -> Option<Option<i64>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_nanos_opt());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
        .map(|time| time.and_utc().timestamp_nanos_opt())
}

fn parse_us(text: &str) -> Option<Option<i64>> {
    const ZONED: [&str; 2] = ["%m/%d/%Y %I:%M:%S%.f %p %:z", "%m/%d/%Y %H:%M:%S%.f %:z"];
    const PLAIN: [&str; 2] = ["%m/%d/%Y %I:%M:%S%.f %p", "%m/%d/%Y %H:%M:%S%.f"];
    if let Some(time) = ZONED.iter().find_map(|form| DateTime::parse_from_str(text, form).ok()) {
        return Some(time.timestamp_nanos_opt());
    }
    PLAIN
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
        .map(|time| time.and_utc().timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_nanos_opt().unwrap()
    }

    #[test]
    fn every_export_form_reads_as_the_same_instant() {
        let at = utc("2007-01-09T09:41:00Z");
        for text in [
            "01/09/2007 09:41:00",
            "1/9/2007 09:41:00",
            "01/09/2007 09:41:00 AM",
            "1/9/2007 9:41:00 AM",
            "1/9/2007 10:41:00 AM +01:00",
            "2007-01-09T09:41:00",
            "2007-01-09 09:41:00",
            "2007-01-09T11:41:00+02:00",
        ] {
            assert_eq!(parse_sign_in_time(text), Ok(at), "{text}");
        }
        assert_eq!(parse_sign_in_time("1/9/2007 9:41:00 PM"), Ok(at + 12 * 3_600_000_000_000));
        assert_eq!(parse_sign_in_time("12/9/2007 12:00:00 AM"), Ok(utc("2007-12-09T00:00:00Z")));
    }

    #[test]
    fn fractions_keep_every_digit_up_to_nanoseconds() {
        let at = utc("2007-01-09T09:41:00Z");
        assert_eq!(parse_sign_in_time("2007-01-09T09:41:00.22Z"), Ok(at + 220_000_000));
        assert_eq!(parse_sign_in_time("2007-01-09T09:41:00.6816663Z"), Ok(at + 681_666_300));
        assert_eq!(parse_sign_in_time("2007-01-09T09:41:00.535404056Z"), Ok(at + 535_404_056));
        assert_eq!(parse_sign_in_time("2007-01-09T09:41:00.992099+00:00"), Ok(at + 992_099_000));
    }

    #[test]
    fn other_text_is_refused_with_the_forms() {
        for text in ["", "02/11/2026 10:00", "yesterday", "2026-13-01T00:00:00Z", "13/01/2026 10:00:00", "1700000000"] {
            let message = parse_sign_in_time(text).unwrap_err();
            assert!(message.contains(&format!("{text:?}")) && message.contains("ISO 8601"), "{message}");
        }
        assert!(parse_sign_in_time("2300-01-01T00:00:00Z").unwrap_err().contains("1677"));
    }
}
