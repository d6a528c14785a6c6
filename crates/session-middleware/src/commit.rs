//! The end of a request: what to write to the store, and what the cookie
//! should become — express-session's rules with `resave: false` and
//! `saveUninitialized: false`.

use session_core::{Changes, Error, SessionData, backend::SessionParts};
use time::{Duration, OffsetDateTime};

use crate::{
    config::{Config, CookieUpdate},
    node_cookie,
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
    // Node's rule where Node set one: the session's own lifetime.
    let lifetime = node_cookie::lifetime(&current.session, config.max_age);
    let now = config.clock.now();
    let expiry = lifetime.map(|age| (now.saturating_add(age), age));
    let expires_at = expiry.map(|(at, _)| at);
    let changed = current.changed();
    if current.stored.is_none() {
        return if changed {
            current.session.set_expires_at(expires_at);
            if current.session.express_cookie().is_none() {
                let cookie = node_cookie::object(&config.cookie, lifetime);
                current.session.set_express_cookie(Some(cookie));
            }
            create(config, current, expiry).await
        } else if current.destroyed {
            Ok(CookieUpdate::Clear)
        } else {
            Ok(CookieUpdate::Keep) // an untouched new session is not saved
        };
    }

    let written = if changed {
        current.session.set_expires_at(expires_at);
        // Only the keys this request changed land, on the session as stored
        // now: concurrent requests keep each other's changes (rule 10).
        let nothing = SessionData::new();
        let read = current.stored.as_deref().unwrap_or(&nothing);
        let changes = Changes::between(read, current.session.data());
        config
            .store
            .update(&current.id, &current.session, &changes, &current.version)
            .await
    } else if config.touch && !touched_lately(config, &current, expiry) {
        config.store.touch(&current.id, expires_at).await
    } else {
        Ok(())
    };
    match written {
        // A changed session's cookie follows its new expiry; a browser-session
        // cookie has none to follow.
        Ok(()) if config.rolling || (changed && expires_at.is_some()) => Ok(CookieUpdate::Send {
            id: current.id,
            expiry,
        }),
        Ok(()) => Ok(CookieUpdate::Keep),
        // Other requests kept landing first: the changes are not saved, and
        // the request says so rather than overwriting anyone's.
        Err(Error::Conflict) => Err(Error::Conflict),
        // Destroyed meanwhile: it stays destroyed, and no cookie goes out,
        // since it could overwrite a newer one the other request sent.
        Err(error) if error.is_refusal() => {
            tracing::debug!(session = %current.id.redacted(), %error, "session ended during the request");
            Ok(CookieUpdate::Keep)
        }
        Err(error) => Err(error),
    }
}

/// Whether a touch to `expiry` would move the stored expiry by less than
/// [`touch_after`](crate::SessionLayerBuilder::touch_after), or by less than
/// half the session's own lifetime when that is shorter: a short-lived
/// session must be touched while it is in use, or it lapses.
fn touched_lately(config: &Config, current: &Current, expiry: Option<(OffsetDateTime, Duration)>) -> bool {
    match (config.touch_after, current.session.expires_at(), expiry) {
        (Some(after), Some(stored), Some((new, lifetime))) => new - stored < after.min(lifetime / 2),
        _ => false,
    }
}

/// Saves a new session with the store's atomic create, so it can never
/// overwrite a session it did not load.
async fn create(
    config: &Config,
    mut current: Current,
    expiry: Option<(OffsetDateTime, Duration)>,
) -> Result<CookieUpdate, Error> {
    let mut attempt = 1;
    loop {
        match config.store.create(&current.id, &current.session).await {
            Ok(()) => {
                return Ok(CookieUpdate::Send {
                    id: current.id,
                    expiry,
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
