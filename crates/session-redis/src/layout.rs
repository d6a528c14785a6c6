//! How sessions are laid out in Redis: this crate's own records, or a Node
//! store's, so a Rust service and an Express app share the same sessions.

use bytes::Bytes;
use session_core::{
    Codec, Error, Session,
    backend::express::{self, Flavor},
};
use time::OffsetDateTime;

use crate::{keys::Namespace, record, scripts::Scripts};

/// The stored layout (set with
/// [`RedisStoreBuilder::layout`](crate::RedisStoreBuilder::layout)).
///
/// | | `Native` (default) | `ConnectRedis` | `ConnectRedisSession` |
/// |---|---|---|---|
/// | key | prefix, a space, the id (`sess <id>`) | prefix and id (`sess:<id>`) | prefix and id (`sessions:<id>`) |
/// | value | a kind byte, the expiry, the codec's payload | express-session's JSON: a `cookie` object and the data's keys ([`session_core::backend::express`]) | the same JSON with `cookie.expires` and a top-level `lastModified` in unix ms |
/// | expiry | in the value, judged by the app's clock | the key's TTL | the key's TTL |
/// | logout | a tombstone refuses late writes for the grace window | `DEL`: connect-redis has no tombstones | the value `TOMBSTONE` for the grace window, honoured by both sides |
///
/// ```no_run
/// use session_redis::{Layout, RedisStore};
///
/// # async fn run() -> Result<(), session_core::Error> {
/// // The sessions of an Express app using connect-redis' defaults.
/// let shared = RedisStore::builder()
///     .url("redis://127.0.0.1:6379")
///     .layout(Layout::ConnectRedis) // prefix `sess:` unless given
///     .build()
///     .await?;
/// # let _ = shared; Ok(()) }
/// ```
///
/// With `ConnectRedisSession` every rule of the contract holds (its
/// `TOMBSTONE` is a tombstone both sides respect; Node's default grace is
/// 300 s, so give the Rust side the same `tombstone_grace`). With
/// `ConnectRedis`, what the contract says about tombstones cannot hold:
/// a `destroy` deletes the key, so a late `set` from a slow request (in Rust
/// or in Node) writes the session back, and `create` right after a destroy
/// succeeds. Every other rule holds; its conformance run declares
/// `Capabilities::without_tombstones` and checks that a late write lands. Namespaces are plain prefixes, so a store on
/// `sess:` also sees keys under `sess:admin:` that hold Express sessions.
/// Every key under the prefix is a session's slot: a value a Node layout
/// cannot read (invalid JSON, a lone surrogate such as `"\ud800"`, a
/// missing or malformed `cookie`) counts as a session this store cannot
/// read (see [`RedisStore`](crate::RedisStore)), a name after the prefix
/// that is no session id counts as an `InvalidId` item, and `clear` removes
/// every key under the prefix, as connect-redis' own `clear` does.
/// The near cache works with the native layout only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's own records (see [`RedisStore`](crate::RedisStore)).
    #[default]
    Native,
    /// connect-redis 7 to 10 with its default JSON serializer: keys `sess:` +
    /// id, express-session's JSON, expiry as the key's TTL.
    ConnectRedis,
    /// connect-redis-session 1.0: keys `sessions:` + id, its serializer's
    /// JSON, expiry as the key's TTL, `TOMBSTONE` on logout.
    ConnectRedisSession,
}

/// connect-redis-session's logout marker.
const NODE_TOMBSTONE: &[u8] = b"TOMBSTONE";

impl Layout {
    /// The prefix when the builder is given none.
    pub(crate) fn default_prefix(self) -> &'static str {
        match self {
            Self::Native => "sess",
            Self::ConnectRedis => "sess:",
            Self::ConnectRedisSession => "sessions:",
        }
    }

    pub(crate) fn namespace(self, prefix: &str) -> Result<Namespace, Error> {
        match self {
            Self::Native => Namespace::new(prefix),
            Self::ConnectRedis | Self::ConnectRedisSession => Namespace::joined(prefix),
        }
    }

    pub(crate) fn scripts(self) -> Scripts {
        match self {
            Self::Native => Scripts::new(),
            Self::ConnectRedis | Self::ConnectRedisSession => Scripts::node(),
        }
    }

    /// The value a destroy leaves until `until` (if the grace allows one);
    /// `None` where the layout has no tombstones.
    pub(crate) fn tombstone(self, until: OffsetDateTime) -> Option<Bytes> {
        match self {
            Self::Native => Some(record::tombstone(until)),
            Self::ConnectRedis => None,
            Self::ConnectRedisSession => Some(Bytes::from_static(NODE_TOMBSTONE)),
        }
    }

    /// The JSON flavour of a Node layout.
    fn flavor(self) -> Flavor {
        match self {
            Self::ConnectRedisSession => Flavor::ConnectRedisSession,
            _ => Flavor::Json,
        }
    }

    /// The value `set` and `create` write for `session` until `expires_at`.
    pub(crate) fn value(
        self,
        codec: &dyn Codec,
        session: &Session,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Bytes, Error> {
        match self {
            Self::Native => record::live(codec, session.data(), expires_at),
            _ => express::encode_as(self.flavor(), session, expires_at, now).map(Bytes::from),
        }
    }

    /// The new expiry as `touch` writes it into the value: the 8 header
    /// bytes of a native record; for a Node layout, `cookie.expires` as JSON
    /// (a quoted date, or unix milliseconds and `_expires` as a date).
    pub(crate) fn touch_stamp(self, expires_at: OffsetDateTime) -> Result<Vec<fred::types::Value>, Error> {
        use fred::types::Value;
        let quoted = || express::js_date(expires_at).map(|date| format!("\"{date}\""));
        Ok(match self {
            Self::Native => vec![Value::Bytes(Bytes::copy_from_slice(&record::millis_bytes(
                expires_at,
            )))],
            Self::ConnectRedis => vec![Value::from(quoted()?)],
            Self::ConnectRedisSession => vec![
                Value::from(session_core::backend::unix_millis(expires_at).to_string()),
                Value::from(quoted()?),
            ],
        })
    }

    /// The session in a value read with its TTL (`PTTL`: ms left, -1 none,
    /// -2 missing), at `now`; `None` when there is none, or it is over.
    /// Values of neither layout are [`Error::Decode`]: records the store
    /// cannot read, which count as live (see [`slot`](crate::slot)).
    pub(crate) fn session(
        self,
        codec: &dyn Codec,
        value: &[u8],
        ttl_ms: i64,
        now: OffsetDateTime,
        default_ttl: std::time::Duration,
    ) -> Result<Option<Session>, Error> {
        match self {
            Self::Native => record::session_at(codec, value, now),
            _ if value == NODE_TOMBSTONE => Ok(None),
            _ => {
                let mut session = express::decode_as(self.flavor(), value)?;
                let expires_at = match (ttl_ms, session.expires_at()) {
                    (-2, _) => return Ok(None),
                    // No TTL (connect-redis' `disableTTL`): the cookie's
                    // date, or a default TTL.
                    (-1, cookie) => cookie.unwrap_or(now + default_ttl),
                    (ms, cookie) => express::reconcile_expiry(now + time::Duration::milliseconds(ms), cookie),
                };
                if expires_at <= now {
                    return Ok(None);
                }
                session.set_expires_at(Some(expires_at));
                Ok(Some(session))
            }
        }
    }
}
