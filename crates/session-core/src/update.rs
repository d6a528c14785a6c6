//! [`Store::update`](crate::Store::update) for every store: read the
//! latest session with its version, apply the request's changes, write it
//! back only if nobody wrote in between, and try again when someone did.

use std::time::Duration;

use crate::{Changes, Error, Result, Session, SessionId, Store, Version, Versioned};

/// How often an update reads again after a conflict before it gives up
/// with [`Error::Conflict`]: enough for 64 requests of one session at once,
/// one of which lands per round.
pub(crate) const UPDATE_ATTEMPTS: u32 = 100;

/// The longest pause between two tries.
const MOST_PAUSE: Duration = Duration::from_millis(20);

/// Writes `session` (the request's session: what it read at `read_at`,
/// with `changes`) if `id` is still at `read_at`: one conditional write,
/// the common case. When someone wrote in between, applies `changes` onto
/// what `id` holds now, keeping `session`'s expiry and express cookie, and
/// tries again; stores `session` when nothing live is held (it expired or
/// was never saved).
pub(crate) async fn update<S: Store + ?Sized>(
    store: &S,
    id: &SessionId,
    session: &Session,
    changes: &Changes,
    read_at: &Version,
) -> Result<()> {
    match store.set_if_unchanged(id, session, read_at).await {
        Err(Error::Conflict) => {}
        first => return first,
    }
    for attempt in 0..UPDATE_ATTEMPTS {
        pause(attempt).await;
        let written = match store.get_versioned(id).await? {
            Some(Versioned {
                session: latest,
                version,
            }) => {
                let merged = merged(&latest, session, changes);
                store.set_if_unchanged(id, &merged, &version).await
            }
            None => store.create(id, session).await,
        };
        match written {
            Err(Error::Conflict | Error::AlreadyExists) => {}
            other => return other,
        }
    }
    Err(Error::Conflict)
}

/// The latest data with the changes, under the writer's expiry and cookie.
fn merged(latest: &Session, writer: &Session, changes: &Changes) -> Session {
    let mut merged = writer.clone();
    *merged.data_mut() = latest.data().clone();
    changes.apply(merged.data_mut());
    merged
}

/// A short, spread-out pause, so that writers who met do not meet again at
/// once (without the `tokio` feature, none: the next read is the pause).
async fn pause(attempt: u32) {
    #[cfg(feature = "tokio")]
    {
        let most = MOST_PAUSE.min(Duration::from_micros(250) * 2_u32.saturating_pow(attempt.min(8)));
        let spread = u64::from(rand_below(u32::try_from(most.as_micros()).unwrap_or(u32::MAX)));
        tokio::time::sleep(Duration::from_micros(spread)).await;
    }
    #[cfg(not(feature = "tokio"))]
    {
        let _ = (attempt, MOST_PAUSE);
    }
}

/// A number below `bound` (0 for 0). Only spreads pauses: if the OS's
/// random source fails, every writer waits the longest, which is still
/// correct.
#[cfg(feature = "tokio")]
fn rand_below(bound: u32) -> u32 {
    let mut bytes = [0_u8; 4];
    if bound == 0 || getrandom::fill(&mut bytes).is_err() {
        return bound.saturating_sub(1);
    }
    u32::from_le_bytes(bytes) % bound
}
