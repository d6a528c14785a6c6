//! The end of a request: what to write to the store, and what the cookie
//! should become — express-session's rules with `resave: false` and
//! `saveUninitialized: false`.

use session_core::Error;
use time::OffsetDateTime;

use crate::{
    config::{Config, CookieUpdate},
    state::{Current, State},
};

/// How many fresh ids a new session tries before giving up. The store
/// refusing a freshly generated 192-bit id even once means it is broken or
/// the random number generator is; a few tries tell the two apart.
const CREATE_ATTEMPTS: usize = 3;

/// Saves, touches or leaves the session as the request left it.
///
/// # Errors
/// The store's error, when a write fails for any reason other than the
/// session having been destroyed meanwhile (by a logout in another request,
/// say), which leaves it destroyed.
pub(crate) async fn commit(config: &Config, state: State) -> Result<CookieUpdate, Error> {
    let State::Ready(mut current) = state else {
        return Ok(CookieUpdate::Keep); // never used: nothing to do
    };
    let expires_at = config.max_age.map(|age| config.clock.now().saturating_add(age));
    let changed = current.changed();
    if current.stored.is_none() {
        return if changed {
            current.session.set_expires_at(expires_at);
            create(config, current, expires_at).await
        } else if current.destroyed {
            Ok(CookieUpdate::Clear)
        } else {
            Ok(CookieUpdate::Keep) // an untouched new session is not saved
        };
    }

    let written = if changed {
        current.session.set_expires_at(expires_at);
        config.store.set(&current.id, &current.session).await
    } else if config.touch && !touched_lately(config, &current, expires_at) {
        config.store.touch(&current.id, expires_at).await
    } else {
        Ok(())
    };
    match written {
        // A changed session's cookie follows its new expiry; a browser-session
        // cookie has none to follow.
        Ok(()) if config.rolling || (changed && expires_at.is_some()) => Ok(CookieUpdate::Send {
            id: current.id,
            expires_at,
        }),
        Ok(()) => Ok(CookieUpdate::Keep),
        // Destroyed meanwhile: it stays destroyed, and no cookie goes out,
        // since it could overwrite a newer one the other request sent.
        Err(error) if error.is_refusal() => {
            tracing::debug!(session = %current.id.redacted(), %error, "session ended during the request");
            Ok(CookieUpdate::Keep)
        }
        Err(error) => Err(error),
    }
}

/// Whether a touch to `expires_at` would move the stored expiry by less
/// than [`touch_after`](crate::SessionLayerBuilder::touch_after).
fn touched_lately(config: &Config, current: &Current, expires_at: Option<OffsetDateTime>) -> bool {
    match (config.touch_after, current.session.expires_at(), expires_at) {
        (Some(after), Some(stored), Some(new)) => new - stored < after,
        _ => false,
    }
}

/// Saves a new session with the store's atomic create, so it can never
/// overwrite a session it did not load.
async fn create(
    config: &Config,
    mut current: Current,
    expires_at: Option<OffsetDateTime>,
) -> Result<CookieUpdate, Error> {
    let mut attempt = 1;
    loop {
        match config.store.create(&current.id, &current.session).await {
            Ok(()) => {
                return Ok(CookieUpdate::Send {
                    id: current.id,
                    expires_at,
                });
            }
            Err(error) if error.is_refusal() && attempt < CREATE_ATTEMPTS => {
                tracing::warn!(%error, "the store refused a fresh session id; trying another");
                current.id = config.generate_id.next();
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
