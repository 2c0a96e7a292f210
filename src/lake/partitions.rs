//! Time-partitioned folders: the span of time a file's folder names (`y=/m=/d=/h=`, `year=`,
//! `date=YYYY-MM-DD`, the diagnostic export's `.../y=2026/m=11/d=02/h=10/m=00/PT1H.json`), and
//! the hunt window that decides which files are never opened.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::detection::parse_rfc3339_nanos;
use crate::error::{Error, Result};

/// The hunt window as the base set applies it: `TimeGenerated > after`, `>= since`, `< until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub after: Option<i64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    /// The window the parameters `after`, `since` and `until` give (RFC 3339 text).
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Window> {
        let time = |name: &str| {
            params
                .get(name)
                .filter(|v| !v.eq_ignore_ascii_case("null"))
                .map(|text| parse_rfc3339_nanos(text).map_err(|message| Error::Parameter { name: name.to_string(), message }))
                .transpose()
        };
        Ok(Window { after: time("after")?, since: time("since")?, until: time("until")? })
    }

    /// True when no time in `[start, end)` can be in the window.
    pub fn excludes(&self, (start, end): (i64, i64)) -> bool {
        let last = end - 1;
        self.after.is_some_and(|after| last <= after)
            || self.since.is_some_and(|since| last < since)
            || self.until.is_some_and(|until| start >= until)
    }

    pub fn is_open(&self) -> bool {
        *self == Window::default()
    }
}

/// The `[start, end)` nanoseconds a file's folders say its records lie in, if they say.
///
/// `m` means month after `y` and minute after `h` (the diagnostic layout uses it for both);
/// a `m=00` minute folder holds the whole hour, so spans stop at the hour.
pub fn folder_span(location: &str) -> Option<(i64, i64)> {
    let mut year = None;
    let (mut month, mut day, mut hour) = (None, None, None);
    let mut date = None;
    for segment in location.split('/') {
        let Some((key, value)) = segment.split_once('=') else { continue };
        let number = || value.parse::<u32>().ok();
        match key.to_ascii_lowercase().as_str() {
            "y" | "year" => year = value.parse::<i32>().ok(),
            "m" | "month" if year.is_some() && hour.is_none() && month.is_none() => month = number(),
            "d" | "day" => day = number(),
            "h" | "hour" => hour = number(),
            "date" | "dt" => date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
            _ => {}
        }
    }
    let (start, end) = if let Some(date) = date {
        let start = date.and_hms_opt(0, 0, 0)?;
        (start, start + chrono::Duration::days(1))
    } else {
        let year = year?;
        match (month, day, hour) {
            (Some(m), Some(d), Some(h)) => {
                let start = NaiveDate::from_ymd_opt(year, m, d)?.and_hms_opt(h, 0, 0)?;
                (start, start + chrono::Duration::hours(1))
            }
            (Some(m), Some(d), None) => {
                let start = NaiveDate::from_ymd_opt(year, m, d)?.and_hms_opt(0, 0, 0)?;
                (start, start + chrono::Duration::days(1))
            }
            (Some(m), None, _) => {
                let first = NaiveDate::from_ymd_opt(year, m, 1)?;
                let next = if m == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(year, m + 1, 1)? };
                (first.and_hms_opt(0, 0, 0)?, next.and_hms_opt(0, 0, 0)?)
            }
            (None, _, _) => {
                let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
                (first.and_hms_opt(0, 0, 0)?, first.with_year(year + 1)?.and_hms_opt(0, 0, 0)?)
            }
        }
    };
    Some((nanos(start)?, nanos(end)?))
}

fn nanos(time: NaiveDateTime) -> Option<i64> {
    time.and_utc().timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        parse_rfc3339_nanos(text).unwrap()
    }

    #[test]
    fn folder_names_give_spans() {
        let day = (at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z"));
        assert_eq!(folder_span("lake/y=2026/m=11/d=02/part-00000.parquet"), Some(day));
        assert_eq!(folder_span("lake/date=2026-11-02/x.ndjson"), Some(day));
        assert_eq!(folder_span("lake/year=2026/month=11/day=02/x.ndjson"), Some(day));
        let diagnostic = "insights-logs-noninteractiveusersigninlogs/tenantId=t/y=2026/m=11/d=02/h=10/m=00/PT1H.json";
        assert_eq!(folder_span(diagnostic), Some((at("2026-11-02T10:00:00Z"), at("2026-11-02T11:00:00Z"))));
        assert_eq!(folder_span("y=2026/m=12/x.json"), Some((at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))));
        assert_eq!(folder_span("y=2026/x.json"), Some((at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))));
        assert_eq!(folder_span("lake/x.json"), None);
        assert_eq!(folder_span("lake/y=2026/m=13/x.json"), None);
    }

    #[test]
    fn the_window_excludes_only_spans_wholly_outside() {
        let day = (at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z"));
        let since = |t: &str| Window { since: Some(at(t)), ..Window::default() };
        let until = |t: &str| Window { until: Some(at(t)), ..Window::default() };
        let after = |t: &str| Window { after: Some(at(t)), ..Window::default() };
        assert!(since("2026-11-03T00:00:00Z").excludes(day));
        assert!(!since("2026-11-02T23:59:59.999999999Z").excludes(day));
        assert!(until("2026-11-02T00:00:00Z").excludes(day));
        assert!(!until("2026-11-02T00:00:00.000000001Z").excludes(day));
        assert!(after("2026-11-02T23:59:59.999999999Z").excludes(day));
        assert!(!after("2026-11-02T23:59:59.999999998Z").excludes(day));
        assert!(!Window::default().excludes(day));
    }
}
