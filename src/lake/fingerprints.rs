//! Fingerprints of each JSON record's session id, taken by the scan that parses and checks every
//! record, so that a later scan asking for a few sessions skips the other records unread.
//!
//! The prefilter's second stage wants the rows of a few hundred sessions out of millions. Without
//! fingerprints it looks for the candidates' ids in every record's text (`value_filter`), a pass
//! over every byte that cost about as much as parsing them. With them it looks up one number per
//! record, kept from the first scan, and reads only the records whose number is a candidate's.
//!
//! A fingerprint belongs to an *item* of a file (`json_text`): its ordinal among the file's
//! texts. An item holding anything but exactly one well-read record (a page, an array, a bad
//! line) gets [`UNKNOWN`] and is always read. Fingerprints are kept only for files read whole,
//! and used only once every record of the run was checked (the `validated` flag of the scans),
//! so a skipped record is one whose problems, if any, were already reported.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The fingerprint of an item that must be read whatever is asked.
pub const UNKNOWN: u32 = 0;
/// The fingerprint of a record without a session id (or a null one).
const ABSENT: u32 = 1;

/// How many fingerprints (4 bytes each) a run keeps at most: 128 MiB, about 30M records or 140
/// GB of Sentinel-shaped NDJSON. Files beyond it fall back to the text search.
const MOST_KEPT: usize = 32 << 20;

/// The fingerprint of a record whose session field holds `value` (decoded text).
pub fn of_value(value: Option<&[u8]>) -> u32 {
    let Some(bytes) = value else { return ABSENT };
    // FNV-1a: a stable hash, computed once per record, needs no seed or dependency.
    let hash = bytes.iter().fold(0x811c_9dc5u32, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193));
    clear_of_reserved(hash)
}

fn clear_of_reserved(hash: u32) -> u32 {
    if hash <= ABSENT { hash + 2 } else { hash }
}

/// The fingerprints of the files read whole so far, by URL.
#[derive(Debug, Default)]
pub struct FingerprintStore {
    files: Mutex<HashMap<String, Arc<[u32]>>>,
    kept: AtomicUsize,
}

impl FingerprintStore {
    /// Keeps the fingerprints of every item of `url`, unless that would pass the run's limit.
    pub fn keep(&self, url: &str, prints: Vec<u32>) {
        let mut files = self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if files.contains_key(url) || self.kept.load(Ordering::Relaxed) + prints.len() > MOST_KEPT {
            return;
        }
        self.kept.fetch_add(prints.len(), Ordering::Relaxed);
        files.insert(url.to_string(), prints.into());
    }

    pub fn of_file(&self, url: &str) -> Option<Arc<[u32]>> {
        self.files.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(url).cloned()
    }
}

/// The fingerprints of the values a filter accepts.
#[derive(Debug)]
pub struct Wanted(HashSet<u32>);

impl Wanted {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Wanted {
        Wanted(values.into_iter().map(|v| of_value(Some(v))).collect())
    }

    /// Whether the item with fingerprint `print` may hold a wanted record: `false` is certain.
    pub fn may_hold(&self, print: u32) -> bool {
        print == UNKNOWN || self.0.contains(&print)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_other_values_are_ruled_out() {
        let wanted = Wanted::new([b"s-1".as_slice(), b"s-2".as_slice()]);
        assert!(wanted.may_hold(of_value(Some(b"s-1"))) && wanted.may_hold(of_value(Some(b"s-2"))));
        assert!(!wanted.may_hold(of_value(Some(b"s-3"))));
        assert!(!wanted.may_hold(of_value(None)), "no session is no candidate's");
        assert!(wanted.may_hold(UNKNOWN));
    }

    #[test]
    fn no_value_takes_a_reserved_fingerprint() {
        // Hashes that land on a reserved value are rare: the mapping is checked on them directly.
        assert_eq!([clear_of_reserved(UNKNOWN), clear_of_reserved(ABSENT), clear_of_reserved(7)], [2, 3, 7]);
        assert_ne!(of_value(Some(b"s-1")), of_value(Some(b"s-2")));
    }

    #[test]
    fn a_file_is_kept_once_and_within_the_limit() {
        let store = FingerprintStore::default();
        store.keep("file:///a", vec![5, 6]);
        store.keep("file:///a", vec![7]);
        assert_eq!(store.of_file("file:///a").as_deref(), Some([5, 6].as_slice()));
        store.keep("file:///big", vec![UNKNOWN; MOST_KEPT]);
        assert!(store.of_file("file:///big").is_none());
        assert!(store.of_file("file:///b").is_none());
    }
}
