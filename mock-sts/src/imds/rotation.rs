//! Credential rotation for the metadata endpoints: which credential set is current, derived
//! without state from the server key and the rotation epoch.
//!
//! EC2 rotates instance-profile credentials on its own schedule and makes new ones available
//! well before the old ones expire (aws-facts §4.1, §4.4). The mock models that as epochs:
//! epoch `n` begins at `n × rotate_every` after the Unix epoch, and its credentials are issued
//! then and expire `credential_lifetime` later. Everything about epoch `n` (access key id,
//! secret, session token) is a function of the server key, the endpoint, the role, the session
//! name, the rotation settings and `n`, so every request in an epoch gets the same credentials,
//! a restart with the same `--key` serves them again, and an earlier epoch's credentials stay
//! valid until their own expiry because their token carries it.

use std::time::{Duration, SystemTime};

use crate::credentials::{CredentialAuthority, IssuedBy, IssuedCredentials, SessionClaims};
use crate::events::Issued;
use crate::timestamp;
use crate::world::{Role, Rotation};

/// One rotation epoch: when its credentials were issued and when they expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Epoch {
    /// The epoch number, counted from the Unix epoch.
    pub index: u64,
    /// When its credentials appeared (`LastUpdated`).
    pub issued_at: SystemTime,
    /// When they expire.
    pub expires_at: SystemTime,
}

impl Epoch {
    /// The epoch current at `now`: the newest whose credentials have appeared.
    pub(super) fn current(rotation: &Rotation, now: SystemTime) -> Epoch {
        // World files only hold whole seconds of at least 60, so `every` is never zero; the
        // `max` keeps a hand-built `Rotation` from dividing by it.
        let every = rotation.rotate_every.as_secs().max(1);
        let now_seconds = timestamp::unix_millis(now) / 1000;
        let index = now_seconds / every;
        let issued_at = timestamp::from_unix_millis(index.saturating_mul(every) * 1000);
        Epoch {
            index,
            issued_at,
            expires_at: issued_at + Duration::from_secs(rotation.credential_lifetime.as_secs()),
        }
    }
}

/// Who the credentials are for: a role, a session name and the endpoint that serves them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder<'a> {
    /// The role the credentials are a session of.
    pub role: &'a Role,
    /// The session name (an instance id, a task id).
    pub session_name: &'a str,
    /// The endpoint, recorded in the token.
    pub issued_by: IssuedBy,
    /// The rotation schedule.
    pub rotation: &'a Rotation,
}

/// The credentials of `holder` for `epoch`: the same every time for the same server key.
pub(super) fn credentials(
    authority: &CredentialAuthority,
    holder: Holder<'_>,
    epoch: Epoch,
) -> IssuedCredentials {
    let role = holder.role;
    let seed = format!(
        "{}\0{}\0{}\0{}\0{}\0{}",
        holder.issued_by.as_str(),
        role.arn(),
        holder.session_name,
        holder.rotation.credential_lifetime.as_secs(),
        holder.rotation.rotate_every.as_secs(),
        epoch.index
    );
    let access_key_id = authority.derived_access_key_id("rotation", seed.as_bytes());
    authority.issue(SessionClaims {
        access_key_id,
        account_id: role.account_id.clone(),
        principal_arn: format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            role.account_id, role.name, holder.session_name
        ),
        user_id: format!("{}:{}", role.unique_id(), holder.session_name),
        role_arn: Some(role.arn()),
        session_name: Some(holder.session_name.to_string()),
        source_identity: None,
        issued_at_ms: timestamp::unix_millis(epoch.issued_at),
        expires_at_ms: timestamp::unix_millis(epoch.expires_at),
        issued_by: holder.issued_by,
        duration_requested: None,
        chained: false,
    })
}

/// What the event log records about credentials handed out.
pub(super) fn issued_event(issued: &IssuedCredentials) -> Issued {
    let claims = &issued.claims;
    Issued {
        access_key_id: claims.access_key_id.clone(),
        role_arn: claims.role_arn.clone(),
        session_name: claims.session_name.clone(),
        duration_seconds_requested: None,
        duration_seconds_granted: u32::try_from(claims.duration().as_secs()).unwrap_or(u32::MAX),
        max_session_duration: None,
        chained: false,
        expires_at: claims.expires_at(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ServerKey;
    use crate::world::World;

    fn at(seconds_after_start: u64) -> SystemTime {
        crate::clock::default_virtual_start() + Duration::from_secs(seconds_after_start)
    }

    #[test]
    fn epochs_start_every_rotation_and_always_leave_enough_life() {
        let rotation = Rotation::DEFAULT;
        // 2026-01-01T00:00:00Z is a whole hour, so an epoch starts there.
        let first = Epoch::current(&rotation, at(0));
        assert_eq!(first.issued_at, at(0));
        assert_eq!(first.expires_at, at(6 * 3600));
        assert_eq!(Epoch::current(&rotation, at(3599)), first);
        let second = Epoch::current(&rotation, at(3600));
        assert_eq!(second.index, first.index + 1);
        assert_eq!(second.issued_at, at(3600));
        for t in (0..48 * 3600).step_by(337) {
            let epoch = Epoch::current(&rotation, at(t));
            let left = epoch.expires_at.duration_since(at(t)).unwrap();
            assert!(left > Rotation::MIN_LIFE_WHEN_SERVED, "{t}: {left:?}");
            assert!(epoch.issued_at <= at(t));
        }
    }

    #[test]
    fn credentials_are_a_function_of_key_and_epoch() {
        let world = World::default();
        let instance = world.instance.as_ref().unwrap();
        let holder = Holder {
            role: &instance.role,
            session_name: &instance.instance_id,
            issued_by: IssuedBy::InstanceMetadata,
            rotation: &instance.rotation,
        };
        let key = |b| CredentialAuthority::new(ServerKey::from_bytes([b; 32]));
        let epoch = Epoch::current(&instance.rotation, at(10));
        let one = credentials(&key(1), holder, epoch);
        let again = credentials(&key(1), holder, epoch);
        assert_eq!(one.claims, again.claims);
        assert_eq!(one.session_token, again.session_token);
        assert_eq!(one.secret_access_key, again.secret_access_key);
        assert_eq!(
            one.claims.principal_arn,
            "arn:aws:sts::123456789012:assumed-role/instance-role/i-1234567890abcdef0"
        );
        assert!(
            key(1)
                .validate(&one.session_token, &one.claims.access_key_id)
                .is_ok()
        );
        let next = credentials(
            &key(1),
            holder,
            Epoch::current(&instance.rotation, at(3600)),
        );
        assert_ne!(next.claims.access_key_id, one.claims.access_key_id);
        let other_key = credentials(&key(2), holder, epoch);
        assert_ne!(other_key.claims.access_key_id, one.claims.access_key_id);
        let container = Holder {
            issued_by: IssuedBy::ContainerCredentials,
            ..holder
        };
        assert_ne!(
            credentials(&key(1), container, epoch).claims.access_key_id,
            one.claims.access_key_id
        );
    }
}
