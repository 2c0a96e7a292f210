//! Detections as data: the SQL files under `sql/`, their headers, and binding their parameters.
//!
//! A detection file opens with `-- @key value` lines (chainsaw-style): `@name`, `@title`,
//! `@description`, `@mitre`, `@output` and one `@param NAME TYPE DEFAULT | MEANING` per
//! parameter. The body is one DataFusion query over `signin_logs` and `foci_clients` whose
//! tuning values are named placeholders (`$name`), bound by DataFusion, never spliced into text.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use datafusion::common::ScalarValue;

use crate::error::{Error, Result};

/// The detections this build knows, in catalog order. Adding one means adding a file here.
const CATALOG: &[(&str, &str)] = &[
    ("foci_token_logins.sql", include_str!("../sql/foci_token_logins.sql")),
    ("foci_token_logins_v2.sql", include_str!("../sql/foci_token_logins_v2.sql")),
];

/// The FOCI base set every detection reads as the view `foci_token_requests`.
const BASE_SET: (&str, &str) = ("foci_token_requests.sql", include_str!("../sql/foci_token_requests.sql"));

/// Every first sign-in joined with every token redemption of its session, as the view
/// `foci_token_pairs` that detections filter.
const PAIRS: (&str, &str) = ("foci_token_pairs.sql", include_str!("../sql/foci_token_pairs.sql"));

/// The triage summary over one detection's alerts (registered as the view `alerts`).
const TRIAGE_SUMMARY: (&str, &str) = ("triage_summary.sql", include_str!("../sql/triage_summary.sql"));

/// One parsed detection file.
#[derive(Debug, Clone)]
pub struct Detection {
    pub name: String,
    /// The view the SQL workbench registers it as: its file name without `.sql`.
    pub view: String,
    pub title: String,
    pub description: String,
    pub mitre: Vec<String>,
    pub output_columns: Vec<String>,
    pub params: Vec<ParamSpec>,
    /// The query, header included (SQL comments).
    pub sql: String,
}

/// A declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    /// `None` binds SQL NULL, which the detections read as "off".
    pub default: Option<String>,
    pub meaning: String,
}

/// The value types a parameter may declare.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// RFC 3339 text, bound as a UTC nanosecond timestamp.
    Timestamp,
    /// A non-negative integer.
    BigInt,
    /// Text, optionally restricted to a list of choices.
    Text { choices: Vec<String> },
}

impl std::fmt::Display for ParamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamKind::Timestamp => f.write_str("timestamp"),
            ParamKind::BigInt => f.write_str("bigint"),
            ParamKind::Text { choices } if choices.is_empty() => f.write_str("text"),
            ParamKind::Text { choices } => write!(f, "text({})", choices.join("|")),
        }
    }
}

/// All detections of the catalog.
pub fn catalog() -> Result<Vec<Detection>> {
    CATALOG.iter().map(|(file, text)| Detection::parse(file, text)).collect()
}

/// The detection called `name` (its `@name`).
pub fn find(name: &str) -> Result<Detection> {
    let all = catalog()?;
    let known: Vec<String> = all.iter().map(|d| d.name.clone()).collect();
    all.into_iter().find(|d| d.name == name).ok_or_else(|| Error::Detection {
        name: name.to_string(),
        message: format!("unknown detection (known: {}, or all)", known.join(", ")),
    })
}

/// The detections `names` ask for, in the order asked, each once; `all` is the whole catalog.
pub fn select(names: &[String]) -> Result<Vec<Detection>> {
    let mut selected: Vec<Detection> = Vec::new();
    for name in names {
        let found = if name == "all" { catalog()? } else { vec![find(name)?] };
        for detection in found {
            if !selected.iter().any(|d| d.name == detection.name) {
                selected.push(detection);
            }
        }
    }
    Ok(selected)
}

/// The FOCI base set query (S1–S3) and its window parameters.
pub fn base_set() -> Result<Detection> {
    Detection::parse(BASE_SET.0, BASE_SET.1)
}

/// The session pairing query (S4, S5, D2, S7).
pub fn pairs() -> Result<Detection> {
    Detection::parse(PAIRS.0, PAIRS.1)
}

/// The triage summary query.
pub fn triage_summary() -> Result<Detection> {
    Detection::parse(TRIAGE_SUMMARY.0, TRIAGE_SUMMARY.1)
}

/// Refuses a parameter that none of `queries` declares.
pub fn check_declared(values: &BTreeMap<String, String>, queries: &[&Detection]) -> Result<()> {
    for name in values.keys() {
        if !queries.iter().any(|q| q.params.iter().any(|p| &p.name == name)) {
            let mut known: Vec<&str> = queries.iter().flat_map(|q| q.params.iter().map(|p| p.name.as_str())).collect();
            known.sort();
            known.dedup();
            return Err(Error::Parameter {
                name: name.clone(),
                message: format!("no such parameter (declared: {})", known.join(", ")),
            });
        }
    }
    Ok(())
}

impl Detection {
    /// Parses a detection file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Detection> {
        let fail = |message: String| Error::Detection { name: file.to_string(), message };
        let mut fields: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("-- @") else { continue };
            let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            fields.entry(key).or_default().push(value.trim());
        }
        let single = |key: &str| -> Result<String> {
            match fields.get(key).map(Vec::as_slice) {
                Some([value]) if !value.is_empty() => Ok(value.to_string()),
                _ => Err(fail(format!("the header needs exactly one non-empty @{key} line"))),
            }
        };
        let many = |key: &str| -> Vec<String> {
            fields.get(key).into_iter().flatten().map(|v| v.to_string()).collect()
        };
        let output_columns: Vec<String> = many("output")
            .iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let params = many("param")
            .iter()
            .map(|line| ParamSpec::parse(line).map_err(|m| fail(format!("@param {line}: {m}"))))
            .collect::<Result<Vec<_>>>()?;
        for key in fields.keys() {
            if !["name", "title", "description", "mitre", "output", "param"].contains(key) {
                return Err(fail(format!("unknown header key @{key}")));
            }
        }
        Ok(Detection {
            view: file.trim_end_matches(".sql").to_string(),
            name: single("name")?,
            title: single("title")?,
            description: many("description").join(" "),
            mitre: many("mitre"),
            output_columns,
            params,
            sql: text.to_string(),
        })
    }

    /// Every declared parameter bound to its default, overridden by `values` (name → text).
    /// Unknown names and unparsable values are errors.
    pub fn bind(&self, values: &BTreeMap<String, String>) -> Result<HashMap<String, ScalarValue>> {
        check_declared(values, &[self])?;
        self.bind_declared(values)
    }

    /// As [`Detection::bind`], ignoring values for parameters this query does not declare
    /// (they belong to another query of the same run).
    pub fn bind_declared(&self, values: &BTreeMap<String, String>) -> Result<HashMap<String, ScalarValue>> {
        self.params
            .iter()
            .map(|spec| {
                let text = values.get(&spec.name).map(String::as_str).or(spec.default.as_deref());
                Ok((spec.name.clone(), spec.value(text)?))
            })
            .collect()
    }
}

impl ParamSpec {
    /// Parses `NAME TYPE DEFAULT | MEANING`, where DEFAULT is `null` or a value of TYPE.
    fn parse(line: &str) -> std::result::Result<ParamSpec, String> {
        let (decl, meaning) = line.split_once(" | ").ok_or("expected `NAME TYPE DEFAULT | MEANING`")?;
        let parts: Vec<&str> = decl.split_whitespace().collect();
        let [name, kind, default] = parts.as_slice() else {
            return Err("expected `NAME TYPE DEFAULT | MEANING`".into());
        };
        let kind = match *kind {
            "timestamp" => ParamKind::Timestamp,
            "bigint" => ParamKind::BigInt,
            "text" => ParamKind::Text { choices: vec![] },
            other => match other.strip_prefix("text(").and_then(|c| c.strip_suffix(')')) {
                Some(choices) => ParamKind::Text { choices: choices.split('|').map(str::to_string).collect() },
                None => return Err(format!("unknown type {other}")),
            },
        };
        let spec = ParamSpec {
            name: name.to_string(),
            kind,
            default: (*default != "null").then(|| default.to_string()),
            meaning: meaning.trim().to_string(),
        };
        spec.value(spec.default.as_deref()).map_err(|e| format!("bad default: {e}"))?;
        Ok(spec)
    }

    /// Parses `text` (None: NULL) as a value of this parameter.
    pub fn value(&self, text: Option<&str>) -> Result<ScalarValue> {
        let invalid = |message: String| Error::Parameter { name: self.name.clone(), message };
        Ok(match (&self.kind, text) {
            (ParamKind::Timestamp, None) => ScalarValue::TimestampNanosecond(None, None),
            (ParamKind::Timestamp, Some(text)) => {
                ScalarValue::TimestampNanosecond(Some(parse_rfc3339_nanos(text).map_err(invalid)?), None)
            }
            (ParamKind::BigInt, None) => ScalarValue::Int64(None),
            (ParamKind::BigInt, Some(text)) => {
                let n: i64 = text
                    .parse()
                    .map_err(|_| invalid(format!("{text:?} is not a whole number")))?;
                if n < 0 {
                    return Err(invalid(format!("{n} is negative")));
                }
                ScalarValue::Int64(Some(n))
            }
            (ParamKind::Text { .. }, None) => ScalarValue::Utf8(None),
            (ParamKind::Text { choices }, Some(text)) => {
                if !choices.is_empty() && !choices.iter().any(|c| c == text) {
                    return Err(invalid(format!("{text:?} is not one of {}", choices.join(", "))));
                }
                ScalarValue::Utf8(Some(text.to_string()))
            }
        })
    }
}

/// Parses RFC 3339 text (any offset, 0–9 fractional digits) to nanoseconds since the epoch, UTC.
pub fn parse_rfc3339_nanos(text: &str) -> std::result::Result<i64, String> {
    let time = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time like 2026-11-02T10:00:00Z ({e})"))?;
    time.timestamp_nanos_opt()
        .ok_or_else(|| format!("{text:?} is outside the years 1677–2262 that nanosecond timestamps cover"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_headers_parse_and_declare_every_placeholder() {
        let mut queries = catalog().unwrap();
        queries.push(base_set().unwrap());
        queries.push(pairs().unwrap());
        queries.push(triage_summary().unwrap());
        for detection in queries {
            let body: String = detection
                .sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut used: Vec<&str> = body
                .split('$')
                .skip(1)
                .map(|rest| rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap())
                .collect();
            used.sort();
            used.dedup();
            let mut declared: Vec<&str> = detection.params.iter().map(|p| p.name.as_str()).collect();
            declared.sort();
            assert_eq!(used, declared, "{}", detection.name);
        }
    }

    #[test]
    fn v1_declares_the_23_output_columns() {
        let v1 = find("v1").unwrap();
        assert_eq!(v1.output_columns.len(), 23);
        assert_eq!(v1.output_columns[18], "SeconIncomingTokenType");
    }

    #[test]
    fn binding_refuses_unknown_names_and_bad_values() {
        let v1 = find("v1").unwrap();
        let bind = |k: &str, v: &str| v1.bind(&BTreeMap::from([(k.to_string(), v.to_string())]));
        assert!(matches!(bind("nope", "1"), Err(Error::Parameter { .. })));
        assert!(bind("since", "2026-11-02T00:00:00Z").is_err(), "the window belongs to the base set");
        assert!(bind("max_time_diff", "ninety").is_err());
        assert!(bind("max_time_diff", "-1").is_err());
        assert!(bind("cli_tuning", "Global-Admin").is_err());
        assert!(bind("since", "yesterday").is_err());
        let bound = bind("max_time_diff", "90").unwrap();
        assert_eq!(bound["max_time_diff"], ScalarValue::Int64(Some(90)));
        assert_eq!(bound["cli_tuning"], ScalarValue::Utf8(Some("off".into())));
        let window = base_set().unwrap().bind_declared(&BTreeMap::new()).unwrap();
        assert_eq!(window["since"], ScalarValue::TimestampNanosecond(None, None));
    }

    #[test]
    fn selection_expands_all_and_keeps_each_once() {
        let names = |v: &[&str]| -> Vec<String> {
            select(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap().into_iter().map(|d| d.name).collect()
        };
        assert_eq!(names(&["v2", "v1", "v2"]), ["v2", "v1"]);
        assert_eq!(names(&["all"]), ["v1", "v2"]);
        assert_eq!(find("v2").unwrap().output_columns.len(), 25);
    }

    #[test]
    fn rfc3339_keeps_nanoseconds_and_offsets() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00.000000001Z"), Ok(1));
        assert_eq!(parse_rfc3339_nanos("1970-01-01T01:00:00+01:00"), Ok(0));
        assert!(parse_rfc3339_nanos("2026-11-02 10:00").is_err());
    }
}
