//! JSON sign-in files as a sequence of records with their line numbers: one object per line
//! (NDJSON), wrapped pages on a line (`{"records":[...]}`, `{"value":[...]}`, `[...]`), or one
//! whole multi-line document of the same forms.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use serde_json::Value;

/// One item of a JSON sign-in file.
#[derive(Debug)]
pub enum Item {
    /// A record and the 1-based line it starts on.
    Record { line: u64, value: Value },
    /// Text that is not a usable record: its line, why, and the text.
    Bad { line: u64, message: String, raw: Vec<u8> },
}

/// Reads records from a JSON sign-in file.
pub struct JsonRecords<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
    pending: VecDeque<Item>,
    seen_content: bool,
}

impl<R: BufRead> JsonRecords<R> {
    pub fn new(reader: R) -> JsonRecords<R> {
        JsonRecords { reader, line: 0, buf: Vec::with_capacity(64 * 1024), pending: VecDeque::new(), seen_content: false }
    }

    /// The next record or bad record; `None` at the end of the file.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            self.buf.clear();
            if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            let line = self.line;
            let mut text = trim_line(&self.buf);
            if line == 1 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let first_content = !self.seen_content;
            self.seen_content = true;
            match serde_json::from_slice::<Value>(text) {
                Ok(value) => unwrap_page(line, value, &mut self.pending),
                // The first thing in the file opens a document that spans lines: read it whole.
                Err(e) if first_content && e.is_eof() => {
                    let mut document = text.to_vec();
                    self.reader.read_to_end(&mut document)?;
                    match serde_json::from_slice::<Value>(&document) {
                        Ok(value) => unwrap_page(line, value, &mut self.pending),
                        Err(e) => {
                            let at = line + e.line().saturating_sub(1) as u64;
                            let message = format!("not valid JSON: {e}");
                            self.pending.push_back(Item::Bad { line: at, message, raw: document });
                        }
                    }
                    self.line = u64::MAX;
                }
                Err(e) => {
                    let raw = text.to_vec();
                    self.pending.push_back(Item::Bad { line, message: format!("not valid JSON: {e}"), raw });
                }
            }
        }
    }
}

fn trim_line(buf: &[u8]) -> &[u8] {
    let end = buf.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |i| i + 1);
    &buf[..end]
}

/// Queues the records in `value`: itself, or the elements of a page that wraps records.
fn unwrap_page(line: u64, value: Value, out: &mut VecDeque<Item>) {
    match value {
        Value::Array(records) => out.extend(records.into_iter().map(|value| Item::Record { line, value })),
        Value::Object(mut object) => {
            let key = ["records", "value"].into_iter().find(|k| object.get(*k).is_some_and(Value::is_array));
            match key {
                Some(key) if !is_sign_in_like(&object) => {
                    if let Some(Value::Array(records)) = object.remove(key) {
                        out.extend(records.into_iter().map(|value| Item::Record { line, value }));
                    }
                }
                _ => out.push_back(Item::Record { line, value: Value::Object(object) }),
            }
        }
        other => out.push_back(Item::Record { line, value: other }),
    }
}

/// A record that happens to carry an array field named like a wrapper is still a record.
fn is_sign_in_like(object: &serde_json::Map<String, Value>) -> bool {
    ["TimeGenerated", "time", "createdDateTime"].iter().any(|k| object.contains_key(*k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<(u64, Result<Value, String>)> {
        let mut reader = JsonRecords::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            out.push(match item {
                Item::Record { line, value } => (line, Ok(value)),
                Item::Bad { line, message, .. } => (line, Err(message)),
            });
        }
        out
    }

    #[test]
    fn lines_blank_lines_and_crlf() {
        let got = items("\u{feff}{\"a\":1}\r\n\n  \n{\"a\":2}");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (1, Ok(serde_json::json!({"a": 1}))));
        assert_eq!(got[1], (4, Ok(serde_json::json!({"a": 2}))));
    }

    #[test]
    fn pages_are_unwrapped_on_their_line() {
        let got = items("{\"records\":[{\"a\":1},{\"a\":2}]}\n{\"@odata.context\":\"x\",\"value\":[{\"a\":3}]}\n[{\"a\":4}]\n");
        let lines: Vec<u64> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 1, 2, 3]);
        // A record with an array field named `value` is not a page.
        let got = items("{\"time\":\"t\",\"value\":[1]}\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].1.as_ref().unwrap().get("time").is_some());
    }

    #[test]
    fn a_multi_line_document_is_read_whole() {
        let got = items("{\n  \"value\": [\n    {\"a\": 1},\n    {\"a\": 2}\n  ]\n}\n");
        assert_eq!(got.len(), 2);
        let broken = items("{\n  \"value\": [\n    {\"a\": 1},\n");
        assert_eq!(broken.len(), 1);
        assert!(broken[0].1.as_ref().unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn a_bad_line_is_reported_and_reading_goes_on() {
        let got = items("{\"a\":1}\n{\"a\":\n{\"a\":3}\n");
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.as_ref().unwrap_err().contains("not valid JSON"));
        assert_eq!(got[2], (3, Ok(serde_json::json!({"a": 3}))));
    }
}
