//! JSON sign-in files as a sequence of texts with their line numbers: one JSON value per line
//! (NDJSON), or one whole multi-line document. What each text holds (a record, a page of them,
//! an array) is the decoder's business; this only splits, numbers and checks for UTF-8.

use std::io::{self, Read};

use serde::de::IgnoredAny;

/// One item of a JSON sign-in file, borrowed until the next is read.
#[derive(Debug)]
pub enum Item<'a> {
    /// The JSON text of a line (or of the whole document) and the 1-based line it starts on.
    Text { line: u64, text: &'a str },
    /// Bytes that are not text: their line, why, and the bytes.
    Bad { line: u64, message: String, raw: &'a [u8] },
    /// An item the caller said it did not want, unchecked: its line.
    Skipped { line: u64 },
}

/// Reads the JSON texts of a sign-in file.
pub struct JsonRecords<R> {
    reader: R,
    line: u64,
    /// Items returned so far.
    items: u64,
    /// Lines are handed out as slices of this buffer, not copied: `buf[consumed..filled]` is
    /// read and not yet handed out.
    buf: Vec<u8>,
    consumed: usize,
    filled: usize,
    at_eof: bool,
    seen_content: bool,
    finished: bool,
}

/// Bytes asked of the reader at a time.
const READ_SIZE: usize = 1 << 20;

impl<R: Read> JsonRecords<R> {
    pub fn new(reader: R) -> JsonRecords<R> {
        JsonRecords { reader, line: 0, items: 0, buf: Vec::new(), consumed: 0, filled: 0, at_eof: false, seen_content: false, finished: false }
    }

    /// The next text; `None` at the end of the file.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        self.next_item_where(|_| true)
    }

    /// The next item, [`Item::Skipped`] unless `wanted` says yes to its ordinal (0 for the
    /// file's first item). The same file always yields the same items in the same order.
    pub fn next_item_where(&mut self, wanted: impl FnOnce(u64) -> bool) -> io::Result<Option<Item<'_>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let Some((mut start, line_stop)) = self.next_line()? else { return Ok(None) };
            self.line += 1;
            let mut end = start + line_end(&self.buf[start..line_stop]);
            if self.line == 1 && self.buf[start..end].starts_with(b"\xEF\xBB\xBF") {
                start += 3;
            }
            if self.buf[start..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let first_content = !self.seen_content;
            self.seen_content = true;
            // The first thing in the file opens a document that spans lines: read it whole.
            if first_content && serde_json::from_slice::<IgnoredAny>(&self.buf[start..end]).is_err_and(|e| e.is_eof()) {
                self.buf.copy_within(start..self.filled, 0);
                self.buf.truncate(self.filled - start);
                self.reader.read_to_end(&mut self.buf)?;
                (start, end) = (0, self.buf.len());
                (self.consumed, self.filled) = (end, end);
                self.finished = true;
            }
            let line = self.line;
            let ordinal = self.items;
            self.items += 1;
            if !wanted(ordinal) {
                return Ok(Some(Item::Skipped { line }));
            }
            let bytes = &self.buf[start..end];
            return Ok(Some(match std::str::from_utf8(bytes) {
                Ok(text) => Item::Text { line, text },
                Err(e) => Item::Bad { line, message: format!("not UTF-8 text ({e})"), raw: bytes },
            }));
        }
    }

    /// Where the next line lies in `buf` (up to its `\n`, or to the end of the file), reading
    /// more as needed; `None` at the end of the file.
    fn next_line(&mut self) -> io::Result<Option<(usize, usize)>> {
        let mut searched = self.consumed;
        loop {
            if let Some(newline) = memchr::memchr(b'\n', &self.buf[searched..self.filled]) {
                let (start, stop) = (self.consumed, searched + newline);
                self.consumed = stop + 1;
                return Ok(Some((start, stop)));
            }
            searched = self.filled;
            if self.at_eof {
                let start = self.consumed;
                self.consumed = self.filled;
                return Ok((start < self.filled).then_some((start, self.filled)));
            }
            // The line so far moves to the front; the buffer grows only for a line longer
            // than it.
            if self.consumed > 0 {
                self.buf.copy_within(self.consumed..self.filled, 0);
                searched -= self.consumed;
                self.filled -= self.consumed;
                self.consumed = 0;
            }
            if self.buf.len() - self.filled < READ_SIZE {
                self.buf.resize(self.filled + READ_SIZE, 0);
            }
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.at_eof = true,
                Ok(read) => self.filled += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Where the line ends, without its line ending.
fn line_end(buf: &[u8]) -> usize {
    buf.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[u8]) -> Vec<(u64, Result<String, String>)> {
        let mut reader = JsonRecords::new(text);
        let mut out = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            out.push(match item {
                Item::Text { line, text } => (line, Ok(text.to_string())),
                Item::Bad { line, message, .. } => (line, Err(message)),
                Item::Skipped { line } => (line, Err("skipped".into())),
            });
        }
        out
    }

    #[test]
    fn lines_blank_lines_bom_and_crlf() {
        let got = items("\u{feff}{\"a\":1}\r\n\n  \n{\"a\":2}".as_bytes());
        assert_eq!(got, [(1, Ok("{\"a\":1}".to_string())), (4, Ok("{\"a\":2}".to_string()))]);
    }

    #[test]
    fn unwanted_items_are_skipped_by_ordinal_unchecked() {
        let mut reader = JsonRecords::new(b"{\"a\":1}\n\n\xff\n{\"a\":3}\n".as_slice());
        let mut seen = Vec::new();
        while let Some(item) = reader.next_item_where(|ordinal| ordinal == 2).unwrap() {
            seen.push(match item {
                Item::Skipped { line } => format!("skipped {line}"),
                Item::Text { line, text } => format!("{line}: {text}"),
                Item::Bad { line, .. } => format!("bad {line}"),
            });
        }
        // Blank lines are not items; bytes that are not text are, and go unchecked if unwanted.
        assert_eq!(seen, ["skipped 1", "skipped 3", "4: {\"a\":3}"]);
    }

    /// Hands out at most `step` bytes per read, so that lines cross reads everywhere.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.text.len());
            out[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_that_cross_reads_or_outgrow_the_buffer_come_out_whole() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(3 * READ_SIZE));
        let text = format!("{{\"a\":1}}\r\n{long}\n\n{{\"a\":2}}\n{{\"a\":3}}");
        for step in [7, 4096, READ_SIZE] {
            let mut reader = JsonRecords::new(Trickle { text: text.as_bytes(), step });
            let mut got = Vec::new();
            while let Some(item) = reader.next_item().unwrap() {
                match item {
                    Item::Text { line, text } => got.push((line, text.len())),
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(got, [(1, 7), (2, long.len()), (4, 7), (5, 7)], "reads of {step} bytes");
        }
    }

    #[test]
    fn a_multi_line_document_is_read_whole() {
        let got = items(b"{\n  \"value\": [\n    {\"a\": 1},\n    {\"a\": 2}\n  ]\n}\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.as_ref().unwrap().contains("\"a\": 2"));
    }

    #[test]
    fn broken_lines_are_passed_on_and_bytes_that_are_not_text_are_bad() {
        let got = items(b"{\"a\":1}\n{\"a\":\n\xff\xfe\n{\"a\":3}\n");
        assert_eq!(got.len(), 4);
        assert_eq!(got[1], (2, Ok("{\"a\":".to_string())));
        assert!(got[2].1.as_ref().unwrap_err().contains("not UTF-8"));
        assert_eq!(got[3].0, 4);
    }
}
