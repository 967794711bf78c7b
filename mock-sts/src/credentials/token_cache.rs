//! A per-thread cache of session tokens this server has already validated: their claims and
//! derived secret, keyed by the server key, the token and its access key id.
//!
//! A client sends the same token with every request until it refreshes, and validating it
//! (base64, an HMAC over the claims, JSON, and the HMAC that derives the secret) costs as much
//! as the rest of a signature check. The claims are sealed in the token, so a token that
//! validated once validates again with the same claims under the same key: caching changes no
//! answer (expiry and revocation are judged per request, by the caller). Per thread, so the
//! request path takes no lock; small and overwritten round-robin, so memory stays fixed.

use std::cell::RefCell;

use super::SessionClaims;
use crate::ring::Ring;

/// Tokens a thread keeps: more than the sessions a replay uses at once.
const CAPACITY: usize = 32;

struct Entry {
    server_key: [u8; 32],
    token: String,
    access_key_id: String,
    claims: SessionClaims,
    secret: String,
}

thread_local! {
    static CACHE: RefCell<Ring<Entry>> = const { RefCell::new(Ring::new(CAPACITY)) };
}

/// The claims and secret of `token` for `access_key_id` under `server_key`, when this thread
/// validated it before.
pub(super) fn get(
    server_key: &[u8; 32],
    token: &str,
    access_key_id: &str,
) -> Option<(SessionClaims, String)> {
    CACHE.with(|cache| {
        cache
            .borrow()
            .find(|e| {
                e.access_key_id == access_key_id && e.token == token && &e.server_key == server_key
            })
            .map(|e| (e.claims.clone(), e.secret.clone()))
    })
}

/// Remembers a token that validated.
pub(super) fn put(
    server_key: &[u8; 32],
    token: &str,
    access_key_id: &str,
    claims: &SessionClaims,
    secret: &str,
) {
    CACHE.with(|cache| {
        cache.borrow_mut().insert(Entry {
            server_key: *server_key,
            token: token.to_owned(),
            access_key_id: access_key_id.to_owned(),
            claims: claims.clone(),
            secret: secret.to_owned(),
        });
    });
}

#[cfg(test)]
pub(super) fn len() -> usize {
    CACHE.with(|c| c.borrow().len())
}
