//! Multipart uploads already completed, remembered so that a resent `CompleteMultipartUpload`
//! answers as the first one did.
//!
//! An SDK retries `CompleteMultipartUpload` when the response is lost (a reset, a timeout), and
//! S3 answers the retry with 200 and the same ETag rather than `NoSuchUpload` (adobe/S3Mock#2586
//! shows real S3 doing so; chimera-nas/chimera#489 records the same gap). Only the same part
//! list gets that answer; any other gets `NoSuchUpload`, the mock's answer, since what S3 sends
//! then is not recorded anywhere we could find (README: unconfirmed). How long S3 remembers is
//! not documented either: the mock keeps the last [`REMEMBERED`] completions, in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use super::checksum::Checksum;

/// How many completions are remembered (the oldest is forgotten first).
pub(super) const REMEMBERED: usize = 10_000;

/// What a completed upload answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Completion {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// The parts it was completed with: number and ETag without quotes.
    pub parts: Vec<(u32, String)>,
    /// The object's ETag.
    pub etag: String,
    /// The object's checksum.
    pub checksum: Checksum,
}

/// Completed uploads, by upload id.
#[derive(Debug, Default)]
pub(crate) struct Completed(Mutex<(HashMap<String, Completion>, VecDeque<String>)>);

impl Completed {
    fn lock(&self) -> MutexGuard<'_, (HashMap<String, Completion>, VecDeque<String>)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers that upload `id` completed as `completion`.
    pub(crate) fn insert(&self, id: &str, completion: Completion) {
        let mut guard = self.lock();
        let (by_id, order) = &mut *guard;
        if by_id.insert(id.to_owned(), completion).is_none() {
            order.push_back(id.to_owned());
        }
        while order.len() > REMEMBERED {
            if let Some(old) = order.pop_front() {
                by_id.remove(&old);
            }
        }
    }

    /// The completion of upload `id` of `bucket`/`key`, if it completed with `parts`.
    pub(crate) fn resent(
        &self,
        id: &str,
        bucket: &str,
        key: &str,
        parts: &[(u32, String)],
    ) -> Option<Completion> {
        self.lock()
            .0
            .get(id)
            .filter(|c| c.bucket == bucket && c.key == key && c.parts == parts)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::checksum::Algorithm;

    fn completion(key: &str) -> Completion {
        Completion {
            bucket: "b".into(),
            key: key.into(),
            parts: vec![(1, "e1".into())],
            etag: "\"x-1\"".into(),
            checksum: Checksum::full(Algorithm::Crc64Nvme, b"x"),
        }
    }

    #[test]
    fn only_the_same_parts_of_the_same_object_are_answered_again() {
        let done = Completed::default();
        done.insert("u", completion("k"));
        let parts = [(1, "e1".to_owned())];
        assert_eq!(done.resent("u", "b", "k", &parts), Some(completion("k")));
        assert_eq!(done.resent("u", "b", "other", &parts), None);
        assert_eq!(done.resent("u", "b", "k", &[(1, "e2".to_owned())]), None);
        assert_eq!(done.resent("v", "b", "k", &parts), None);
    }

    #[test]
    fn the_oldest_completions_are_forgotten() {
        let done = Completed::default();
        for i in 0..=REMEMBERED {
            done.insert(&i.to_string(), completion("k"));
        }
        let parts = [(1, "e1".to_owned())];
        assert_eq!(done.resent("0", "b", "k", &parts), None);
        assert!(done.resent("1", "b", "k", &parts).is_some());
        assert!(
            done.resent(&REMEMBERED.to_string(), "b", "k", &parts)
                .is_some()
        );
    }
}
