//! The time window of a hunt (`--now`, `--lookback`, `--since`, `--until`) as detection
//! parameters. `now` is fixed once per run so that every part of a hunt sees the same window.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::detection::parse_rfc3339_nanos;
use crate::error::{Error, Result};
use crate::output::format_time;

/// The window flags as given.
#[derive(Debug, Clone, Default)]
pub struct WindowFlags {
    pub now: Option<String>,
    pub lookback: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

impl WindowFlags {
    /// The parameters (`after`, `since`, `until`) the flags set, as RFC 3339 text.
    /// `now_nanos` is the current time, used when `--now` is absent.
    pub fn params(&self, now_nanos: i64) -> Result<BTreeMap<String, String>> {
        let mut params = BTreeMap::new();
        let time = |flag: &str, text: &str| {
            parse_rfc3339_nanos(text).map_err(|message| Error::Parameter { name: format!("--{flag}"), message })
        };
        let now = match &self.now {
            Some(text) => time("now", text)?,
            None => now_nanos,
        };
        if let Some(text) = &self.lookback {
            let lookback = parse_duration(text)?;
            let nanos = i64::try_from(lookback.as_nanos()).ok().and_then(|d| now.checked_sub(d));
            let after = nanos.ok_or_else(|| Error::Parameter {
                name: "--lookback".into(),
                message: format!("{text:?} reaches before the year 1677"),
            })?;
            params.insert("after".to_string(), format_time(after));
        }
        let since = self.since.as_deref().map(|t| time("since", t)).transpose()?;
        let until = self.until.as_deref().map(|t| time("until", t)).transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err(Error::Usage(format!(
                "--since {} is after --until {}",
                format_time(since),
                format_time(until)
            )));
        }
        if let Some(since) = since {
            params.insert("since".to_string(), format_time(since));
        }
        if let Some(until) = until {
            params.insert("until".to_string(), format_time(until));
        }
        Ok(params)
    }
}

/// Durations like `6h`, `90m`, `30d`, `2w`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let invalid = |message: String| Error::Parameter { name: "--lookback".into(), message };
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| invalid(format!("{text:?} is not a duration like 6h, 90m, 30d or 2w ({e})")))?;
    if duration.is_zero() {
        return Err(invalid("a lookback of zero keeps nothing".into()));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-02T12:00:00Z";

    fn flags(lookback: Option<&str>, since: Option<&str>, until: Option<&str>) -> WindowFlags {
        WindowFlags {
            now: Some(NOW.into()),
            lookback: lookback.map(Into::into),
            since: since.map(Into::into),
            until: until.map(Into::into),
        }
    }

    #[test]
    fn lookback_sets_after_from_now() {
        let params = flags(Some("6h"), None, None).params(0).unwrap();
        assert_eq!(params["after"], "2026-11-02T06:00:00.0000000Z");
        let params = flags(Some("2w"), None, None).params(0).unwrap();
        assert_eq!(params["after"], "2026-10-19T12:00:00.0000000Z");
        assert!(flags(None, None, None).params(0).unwrap().is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("30d").unwrap(), Duration::from_secs(30 * 86400));
        assert!(parse_duration("six hours").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn since_after_until_is_refused() {
        let err = flags(None, Some("2026-11-02T00:00:00Z"), Some("2026-11-01T00:00:00Z")).params(0).unwrap_err();
        assert!(err.to_string().contains("after --until"), "{err}");
        assert!(flags(None, Some("2026-11-01T00:00:00+02:00"), Some("2026-11-01T00:00:00Z")).params(0).is_ok());
    }
}
