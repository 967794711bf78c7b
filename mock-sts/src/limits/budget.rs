//! The upload memory budget: bytes of request bodies the server holds at once, reserved as a
//! request's body is read and given back when the request is answered.
//!
//! A reservation never waits: a request that does not fit is refused at once (S3's
//! `SlowDown`), as a waiting request would itself hold a connection and its buffers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server-wide budget.
#[derive(Debug)]
pub(crate) struct UploadBudget {
    limit: u64,
    held: AtomicU64,
}

impl UploadBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> UploadBudget {
        UploadBudget {
            limit,
            held: AtomicU64::new(0),
        }
    }

    /// The bytes reserved now.
    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Reserves `bytes` if they fit under the limit.
    fn try_reserve(&self, bytes: u64) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: u64) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// One request's share of the budget: what it reserved so far, given back when the last holder
/// (the request's body, and the connection task until the response is ready) drops it.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Arc<UploadBudget>,
    bytes: AtomicU64,
}

impl Reservation {
    /// An empty reservation against `budget`.
    pub(crate) fn new(budget: Arc<UploadBudget>) -> Reservation {
        Reservation {
            budget,
            bytes: AtomicU64::new(0),
        }
    }

    /// Adds `bytes` to the reservation; `false` (and nothing reserved) when they do not fit.
    pub(crate) fn grow(&self, bytes: u64) -> bool {
        if bytes == 0 {
            return true;
        }
        if !self.budget.try_reserve(bytes) {
            return false;
        }
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
        true
    }

    /// The bytes reserved.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Acquire)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(*self.bytes.get_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_fit_under_the_limit_and_come_back_when_dropped() {
        let budget = Arc::new(UploadBudget::new(100));
        let a = Reservation::new(budget.clone());
        assert!(a.grow(60));
        let b = Reservation::new(budget.clone());
        assert!(!b.grow(41), "60 + 41 is over 100");
        assert_eq!(b.bytes(), 0);
        assert!(b.grow(40));
        assert!(!a.grow(1));
        assert_eq!(budget.held(), 100);
        drop(a);
        assert_eq!(budget.held(), 40);
        assert!(b.grow(60));
        drop(b);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn a_request_larger_than_the_whole_budget_never_fits() {
        let budget = Arc::new(UploadBudget::new(100));
        assert!(!Reservation::new(budget.clone()).grow(101));
        assert!(!Reservation::new(budget.clone()).grow(u64::MAX));
        assert_eq!(budget.held(), 0);
    }
}
