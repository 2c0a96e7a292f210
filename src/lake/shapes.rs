//! The export shapes (Sentinel rows, diagnostic-settings records, Graph sign-ins): their SQL
//! files under `sql/shapes/`, the JSON fields each reads, and telling a record's shape.
//!
//! A shape file's header names the raw fields (`-- @field PATH time|text`, `/` between nested
//! keys) and how to recognise a record (`-- @detect KEY+KEY ...`); its body is the SQL view that
//! renames the raw columns, read from the table `<shape>_records`, to the canonical columns.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// `--shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ShapeChoice {
    /// Told per file from the first record's field names.
    #[default]
    Auto,
    Sentinel,
    Diagnostic,
    Graph,
}

impl ShapeChoice {
    /// The forced shape's name, `None` for auto.
    pub fn forced(self) -> Option<&'static str> {
        match self {
            ShapeChoice::Auto => None,
            ShapeChoice::Sentinel => Some("sentinel"),
            ShapeChoice::Diagnostic => Some("diagnostic"),
            ShapeChoice::Graph => Some("graph"),
        }
    }
}

/// How a raw field is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A sign-in time: text in one of the export forms, parsed to UTC nanoseconds.
    Time,
    /// Text; numbers and booleans as their text, objects and arrays as their JSON text as written.
    Text,
}

/// One raw field a shape reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The raw column's name: the path as written in the header.
    pub column: String,
    pub path: Vec<String>,
    pub kind: FieldKind,
}

/// One export shape, loaded from its SQL file.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub title: String,
    pub description: String,
    /// Alternatives; a record matches when it has every key of one of them.
    pub detect: Vec<Vec<String>>,
    pub fields: Vec<FieldSpec>,
    /// The view body (reads `<name>_records`, yields the canonical columns).
    pub sql: String,
}

impl Shape {
    /// The table of raw fields the view reads.
    pub fn records_table(&self) -> String {
        format!("{}_records", self.name)
    }

    /// The view of canonical rows over the records table.
    pub fn view_name(&self) -> String {
        format!("signin_logs_{}", self.name)
    }

    /// The session id's field: the text field named `SessionId` in any case (a path's last key).
    pub fn session_field(&self) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.kind == FieldKind::Text && f.path.last().is_some_and(|key| key.eq_ignore_ascii_case("SessionId")))
    }

    /// The time field (every shape has exactly one; checked on load).
    pub fn time_field(&self) -> usize {
        self.fields.iter().position(|f| f.kind == FieldKind::Time).unwrap_or(0)
    }

    fn matches_exactly(&self, has: &dyn Fn(&str) -> bool) -> bool {
        self.detect.iter().any(|keys| keys.iter().all(|k| has(k)))
    }

    fn has_any_field(&self, has: &dyn Fn(&str) -> bool) -> bool {
        self.fields.iter().any(|f| has(&f.path[0]))
    }

    fn parse(file: &str, text: &str) -> Result<Shape> {
        let fail = |message: String| Error::Detection { name: format!("shape {file}"), message };
        let (mut name, mut title, mut description) = (String::new(), String::new(), Vec::new());
        let (mut detect, mut fields) = (Vec::new(), Vec::new());
        for line in text.lines().map_while(|l| l.strip_prefix("--")) {
            let line = line.trim();
            let Some(rest) = line.strip_prefix('@') else { continue };
            let (tag, value) = rest.split_once(' ').unwrap_or((rest, ""));
            let value = value.trim();
            match tag {
                "shape" => name = value.to_string(),
                "title" => title = value.to_string(),
                "description" => description.push(value.to_string()),
                "detect" => detect.extend(value.split_whitespace().map(|alt| alt.split('+').map(str::to_string).collect())),
                "field" => {
                    let (column, kind) = value.split_once(' ').ok_or_else(|| fail(format!("@field {value:?} needs PATH KIND")))?;
                    let kind = match kind.trim() {
                        "time" => FieldKind::Time,
                        "text" => FieldKind::Text,
                        other => return Err(fail(format!("@field {column}: kind {other:?} is not time or text"))),
                    };
                    let path = column.split('/').map(str::to_string).collect();
                    fields.push(FieldSpec { column: column.to_string(), path, kind });
                }
                other => return Err(fail(format!("unknown header tag @{other}"))),
            }
        }
        if name.is_empty() || detect.is_empty() {
            return Err(fail("the header needs @shape and @detect".into()));
        }
        if fields.iter().filter(|f| f.kind == FieldKind::Time).count() != 1 {
            return Err(fail("exactly one @field must be of kind time".into()));
        }
        Ok(Shape { name, title, description: description.join(" "), detect, fields, sql: text.to_string() })
    }
}

const SHAPE_FILES: [(&str, &str); 3] = [
    ("sentinel.sql", include_str!("../../sql/shapes/sentinel.sql")),
    ("diagnostic.sql", include_str!("../../sql/shapes/diagnostic.sql")),
    ("graph.sql", include_str!("../../sql/shapes/graph.sql")),
];

/// Every shape, in detection order.
pub fn all() -> Result<&'static [Shape]> {
    static SHAPES: OnceLock<std::result::Result<Vec<Shape>, String>> = OnceLock::new();
    let loaded = SHAPES.get_or_init(|| {
        SHAPE_FILES.iter().map(|(file, text)| Shape::parse(file, text).map_err(|e| e.to_string())).collect()
    });
    loaded.as_deref().map_err(|message| Error::Detection { name: "shapes".into(), message: message.clone() })
}

/// The shape named `name`.
pub fn named(name: &str) -> Result<&'static Shape> {
    all()?.iter().find(|s| s.name == name).ok_or_else(|| Error::Usage(format!("no shape named {name}")))
}

/// The shape of one record: the first whose `@detect` keys it has, else the first that reads any
/// of its top-level keys (a Sentinel row may lack TimeGenerated and still be a Sentinel row).
/// `has` tells whether the record has a top-level key.
pub fn detect<'a>(shapes: &'a [Shape], has: &dyn Fn(&str) -> bool) -> Option<&'a Shape> {
    shapes.iter().find(|s| s.matches_exactly(has)).or_else(|| shapes.iter().find(|s| s.has_any_field(has)))
}

/// Checks that `record` belongs in a file of `shape`: it must not carry another shape's keys,
/// and must carry `shape`'s detect keys or at least one field `shape` reads.
pub fn check_fits(shape: &Shape, shapes: &[Shape], has: &dyn Fn(&str) -> bool) -> std::result::Result<(), String> {
    match shapes.iter().find(|s| s.matches_exactly(has)) {
        Some(other) if other.name != shape.name => {
            Err(format!("a {}-shaped record in a file whose first record is {}-shaped", other.name, shape.name))
        }
        Some(_) => Ok(()),
        None if shape.has_any_field(has) => Ok(()),
        None => Err(unknown_shape_message(shapes)),
    }
}

/// What a record that matches no shape is told.
pub fn unknown_shape_message(shapes: &[Shape]) -> String {
    let keys: Vec<String> = shapes.iter().flat_map(|s| s.detect.iter().map(|alt| alt.join("+"))).collect();
    format!("not a sign-in record of any known shape (none of the keys {})", keys.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn shape_files_load_with_one_time_field_each() {
        let shapes = all().unwrap();
        let names: Vec<&str> = shapes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sentinel", "diagnostic", "graph"]);
        assert_eq!(shapes[1].fields[shapes[1].time_field()].column, "time");
        assert_eq!(shapes[1].fields.iter().find(|f| f.column == "properties/appId").unwrap().path, ["properties", "appId"]);
        let sessions: Vec<&str> = shapes.iter().map(|s| s.fields[s.session_field().unwrap()].column.as_str()).collect();
        assert_eq!(sessions, ["SessionId", "properties/sessionId", "sessionId"]);
    }

    #[test]
    fn records_are_told_by_their_keys() {
        let shapes = all().unwrap();
        let name = |v: Value| {
            let object = v.as_object().unwrap().clone();
            detect(shapes, &|k| object.contains_key(k)).map(|s| s.name.clone())
        };
        assert_eq!(name(json!({"TimeGenerated": "x", "AppId": "a"})).as_deref(), Some("sentinel"));
        assert_eq!(name(json!({"AppId": "a"})).as_deref(), Some("sentinel"));
        // Diagnostic records carry Level, a Sentinel column too: the exact keys win.
        assert_eq!(name(json!({"time": "x", "Level": 4, "properties": {}})).as_deref(), Some("diagnostic"));
        assert_eq!(name(json!({"time": "x", "category": "SignInLogs"})).as_deref(), Some("diagnostic"));
        assert_eq!(name(json!({"createdDateTime": "x", "appId": "a"})).as_deref(), Some("graph"));
        assert_eq!(name(json!({"hello": 1})), None);
    }

    #[test]
    fn a_bad_header_is_refused() {
        assert!(Shape::parse("x.sql", "-- @shape x\nSELECT 1").is_err());
        let two_times = "-- @shape x\n-- @detect a\n-- @field a time\n-- @field b time\nSELECT 1";
        assert!(Shape::parse("x.sql", two_times).unwrap_err().to_string().contains("exactly one"));
        let bad_kind = "-- @shape x\n-- @detect a\n-- @field a number\nSELECT 1";
        assert!(Shape::parse("x.sql", bad_kind).unwrap_err().to_string().contains("number"));
    }
}
