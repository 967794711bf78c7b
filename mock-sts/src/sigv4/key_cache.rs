//! A per-thread cache of signing keys, keyed by (secret, date, region, service), as AWS's own
//! front ends keep them: `kSigning` changes once a day per credential and scope, while deriving
//! it costs four HMACs, as much as the rest of a request's signature check. A client signing
//! hundreds of requests a day with one credential needs it derived once.
//!
//! Per thread, so the request path takes no lock; small and overwritten round-robin, so a
//! server seeing many credentials (a fuzzer, a world of thousands of sessions) holds a fixed
//! amount of memory and simply derives again. Keys are never logged (no `Debug`).

use std::cell::RefCell;

use crate::ring::Ring;

/// How many signing keys a thread keeps: more than the credentials a replay uses at once
/// (every worker's session, its source keys, IMDS and the container endpoint).
const CAPACITY: usize = 64;

/// One cached key and what it was derived from.
struct Entry {
    secret: String,
    date: String,
    region: String,
    service: String,
    key: [u8; 32],
}

thread_local! {
    static CACHE: RefCell<Ring<Entry>> = const { RefCell::new(Ring::new(CAPACITY)) };
}

/// The signing key for the scope, from this thread's cache or derived by `derive` (and then
/// cached).
pub(super) fn get_or_derive(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    derive: impl FnOnce() -> [u8; 32],
) -> [u8; 32] {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(e) = cache.find(|e| {
            e.date == date && e.service == service && e.region == region && e.secret == secret
        }) {
            return e.key;
        }
        let key = derive();
        let entry = Entry {
            secret: secret.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            key,
        };
        cache.insert(entry);
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_derived_once_per_scope_and_the_cache_stays_bounded() {
        use std::cell::Cell;
        let derived = Cell::new(0u32);
        let get = |secret: &str, date: &str| {
            get_or_derive(secret, date, "us-east-1", "s3", || {
                derived.set(derived.get() + 1);
                [derived.get() as u8; 32]
            })
        };
        let first = get("s1", "20260101");
        assert_eq!(get("s1", "20260101"), first);
        assert_eq!(derived.get(), 1);
        // Another day, another secret: derived again.
        assert_ne!(get("s1", "20260102"), first);
        get("s2", "20260101");
        assert_eq!(derived.get(), 3);
        for i in 0..CAPACITY * 2 {
            get(&format!("many-{i}"), "20260101");
        }
        CACHE.with(|c| assert_eq!(c.borrow().len(), CAPACITY));
        // The first entries were overwritten: derived anew.
        let before = derived.get();
        get("s1", "20260101");
        assert_eq!(derived.get(), before + 1);
    }
}
