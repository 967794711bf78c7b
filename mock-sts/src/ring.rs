//! A small bounded cache: entries overwritten round-robin once full, so memory stays fixed
//! whatever the traffic. The per-thread caches of signing keys (`sigv4::key_cache`) and
//! validated session tokens (`credentials::token_cache`) keep their entries in one, and so do
//! the container endpoint's verified Pod Identity tokens (`oidc::VerifiedTokens`).

/// At most `capacity` entries; a new one overwrites the oldest slot once full.
pub(crate) struct Ring<T> {
    entries: Vec<T>,
    capacity: usize,
    /// The slot the next new entry overwrites once the ring is full.
    next: usize,
}

impl<T> Ring<T> {
    /// An empty ring for `capacity` entries (at least one).
    pub(crate) const fn new(capacity: usize) -> Self {
        Ring {
            entries: Vec::new(),
            capacity: if capacity == 0 { 1 } else { capacity },
            next: 0,
        }
    }

    /// The first entry `matches` accepts.
    pub(crate) fn find(&self, matches: impl Fn(&T) -> bool) -> Option<&T> {
        self.entries.iter().find(|e| matches(e))
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds `entry`, overwriting the oldest one when full.
    pub(crate) fn insert(&mut self, entry: T) {
        if self.entries.len() < self.capacity {
            self.entries.push(entry);
        } else {
            self.entries[self.next] = entry;
            self.next = (self.next + 1) % self.capacity;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_overwrites_its_oldest_entry() {
        let mut ring = Ring::new(2);
        ring.insert(1);
        ring.insert(2);
        ring.insert(3);
        assert!(ring.find(|e| *e == 1).is_none());
        assert!(ring.find(|e| *e == 2).is_some() && ring.find(|e| *e == 3).is_some());
        ring.insert(4);
        assert!(ring.find(|e| *e == 2).is_none());
    }
}
