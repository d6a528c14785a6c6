//! The `Store` trait: the contract every backend implements.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use futures_core::stream::BoxStream;
use time::OffsetDateTime;

use crate::{Changes, Error, Result, Session, SessionId, Version, Versioned};

/// A stream of the live sessions of a store, as returned by
/// [`Store::all_stream`]. Items are yielded as they are read, so memory stays
/// bounded however many sessions there are.
pub type SessionStream<'a> = BoxStream<'a, Result<(SessionId, Session)>>;

/// A session store.
///
/// Usable generically, as `dyn Store`, `Box<dyn Store>` and `Arc<dyn Store>`.
/// Every backend in this project passes the `session-conformance` suite, which
/// tests each rule below.
///
/// # Definitions
///
/// * A session is **live** while `now < expiry`, where `now` is the
///   application's clock and the expiry is the session's own or, if it has
///   none, the store's default TTL counted from the write (see
///   [`Lifetimes`](crate::Lifetimes)). Expiries are kept to the millisecond.
/// * A **tombstone** marks an id destroyed within the last
///   `tombstone_grace` (a store option; zero turns tombstones off).
/// * A store sees only its own **namespace** (a key prefix, a table, a
///   database): two stores on one server with different namespaces never see
///   or change each other's sessions.
///
/// # Rules
///
/// 1. [`get`](Store::get) returns `None` for a missing, expired or destroyed
///    session. It never returns an expired one, even if the backend has not
///    evicted it yet.
/// 2. [`set`](Store::set) inserts or replaces. A session whose expiry is
///    already past is not kept, and any live session under that id is removed.
/// 3. [`touch`](Store::touch) moves the expiry of a live session and leaves its
///    data alone. On a missing or expired id it creates nothing and returns
///    [`Error::NotFound`](crate::Error::NotFound).
/// 4. [`destroy`](Store::destroy) is idempotent and always succeeds for a valid
///    id. It leaves a tombstone for the grace window; until that lapses, `set`,
///    `touch` and `create` of the id store nothing and return
///    [`Error::Destroyed`](crate::Error::Destroyed), even when they race with
///    the destroy. A write that raced and landed first is removed by the
///    destroy; either way the session does not come back.
/// 5. [`create`](Store::create) inserts only if no live session has the id, in
///    one atomic step: of many concurrent creates of one id exactly one
///    succeeds, the others get [`Error::AlreadyExists`](crate::Error::AlreadyExists)
///    and the winner's data is untouched. An expired session counts as absent.
///    A tombstoned id is refused with `Destroyed`. Creating an already expired
///    session stores nothing.
/// 6. [`all_stream`](Store::all_stream), [`all`](Store::all),
///    [`length`](Store::length) see exactly the live sessions of this
///    namespace: never expired sessions, never tombstones. Sessions written or
///    removed while a stream runs may or may not be seen, but no session is
///    yielded twice and every id is paired with its own data. A record the
///    store holds but cannot read (data another program wrote that this
///    codec or layout cannot hold) counts as live: `get` answers
///    [`Error::Decode`](crate::Error::Decode), `length` counts it, and
///    `all_stream` yields it as one `Decode` (or
///    [`InvalidId`](crate::Error::InvalidId)) item and goes on, so the
///    items, errors included, add up to `length`; `all` skips it and logs
///    how many it skipped. No such record stops a bulk read.
/// 7. [`clear`](Store::clear) removes every session and tombstone of this
///    namespace and nothing else. It is an administrative reset: a request that
///    was in flight before the clear may save its session again afterwards.
/// 8. **What is stored comes back exactly.** `set` and `create` refuse data
///    nested deeper than [`MAX_DEPTH`](crate::backend::MAX_DEPTH) (100) levels
///    of arrays and objects with [`Error::Encode`](crate::Error::Encode),
///    storing nothing. Everything they accept, `get` and `all` give back
///    exactly: every finite `f64` bit for bit (`-0.0` and subnormals
///    included), integers up to `u64::MAX` and down to `i64::MIN`, any
///    string (`\u{0}` included), any number of keys. A store may also refuse
///    data larger than its server accepts; that refusal is an error too
///    (see each backend), and nothing is written.
/// 9. **Read your writes.** A write that returned `Ok` is seen by the very
///    next call on the same store, from any task: no cache may serve older
///    data.
/// 10. **No lost updates.** [`update`](Store::update) applies one request's
///    [`Changes`](crate::Changes) onto the session as stored when it lands:
///    changes that concurrent updates make to *different* keys are all
///    kept, a key one removes never comes back through another's write,
///    and for the *same* key the update that lands later wins, with its
///    whole value. `destroy` still wins over every update (rule 4: an
///    update of a destroyed id answers `Destroyed`). It is built on
///    [`get_versioned`](Store::get_versioned) and
///    [`set_if_unchanged`](Store::set_if_unchanged), which stores only if
///    the session is still at the version read and answers
///    [`Error::Conflict`](crate::Error::Conflict) otherwise; `update` then
///    reads again, a bounded number of times, and answers `Conflict` when
///    the bound is hit, never overwriting silently. A store that cannot
///    compare keeps the provided `set_if_unchanged`, a plain `set`, and
///    declares so to the suite: concurrent updates then lose each other's
///    keys (last writer wins).
///
/// Rules 2 to 5 form one table, written once in
/// [`backend::decide`](crate::backend::decide); every backend takes its
/// answers from it.
///
/// Every method validates nothing beyond what the types already guarantee:
/// a [`SessionId`] is valid by construction. Errors never corrupt other
/// sessions.
///
/// # Example
///
/// ```
/// use session_core::{Error, Session, SessionId, Store};
///
/// async fn login(store: &dyn Store, user: &str) -> Result<SessionId, Error> {
///     loop {
///         let id = SessionId::generate();
///         let mut session = Session::new();
///         session.insert("user", user)?;
///         match store.create(&id, &session).await {
///             Ok(()) => return Ok(id),
///             Err(Error::AlreadyExists) => continue, // astronomically rare
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// The live session under `id`, or `None` (rule 1).
    async fn get(&self, id: &SessionId) -> Result<Option<Session>>;

    /// Inserts or replaces the session under `id` (rules 2 and 4).
    ///
    /// # Errors
    /// [`Destroyed`](crate::Error::Destroyed) when the id is tombstoned.
    async fn set(&self, id: &SessionId, session: &Session) -> Result<()>;

    /// Inserts the session only if `id` has no live session (rule 5).
    ///
    /// # Errors
    /// [`AlreadyExists`](crate::Error::AlreadyExists) when a live session
    /// has the id; [`Destroyed`](crate::Error::Destroyed) when it is tombstoned.
    async fn create(&self, id: &SessionId, session: &Session) -> Result<()>;

    /// Moves the expiry of the live session `id` to `expires_at`, or to now
    /// plus the default TTL when `None` (rule 3). An expiry already past ends
    /// the session.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound) when no live session has the id;
    /// [`Destroyed`](crate::Error::Destroyed) when it is tombstoned.
    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()>;

    /// Removes the session and leaves a tombstone for the grace window (rule 4).
    async fn destroy(&self, id: &SessionId) -> Result<()>;

    /// Streams every live session of this namespace (rule 6), in no
    /// particular order, holding only a bounded batch in memory.
    fn all_stream(&self) -> SessionStream<'_>;

    /// Every live session of this namespace, collected; records the store
    /// cannot read are skipped, and their number logged (rule 6). Prefer
    /// [`all_stream`](Store::all_stream) when there may be many.
    ///
    /// # Errors
    /// The first error of the stream other than an unreadable record.
    async fn all(&self) -> Result<Vec<(SessionId, Session)>> {
        let mut stream = self.all_stream();
        let mut sessions = Vec::new();
        let mut unreadable = 0_u64;
        while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            match item {
                Ok(session) => sessions.push(session),
                Err(Error::Decode(_) | Error::InvalidId(_)) => unreadable += 1,
                Err(error) => return Err(error),
            }
        }
        if unreadable > 0 {
            tracing::warn!(unreadable, "all() skipped stored sessions it cannot read");
        }
        Ok(sessions)
    }

    /// The number of live sessions in this namespace (rule 6), exactly.
    async fn length(&self) -> Result<u64>;

    /// Removes every session and tombstone of this namespace (rule 7).
    async fn clear(&self) -> Result<()>;

    /// The live session under `id` and the version it is at (rules 1 and
    /// 10). The provided method reads with [`get`](Store::get) and hands
    /// out [`Version::unversioned`](crate::Version::unversioned).
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        Ok(self.get(id).await?.map(|session| Versioned {
            session,
            version: Version::unversioned(),
        }))
    }

    /// Replaces the session under `id` only if it is still at `seen`, as
    /// [`get_versioned`](Store::get_versioned) read it (rule 10); otherwise
    /// as [`set`](Store::set) (rules 2 and 4). The provided method is a
    /// plain `set`: a store that cannot compare.
    ///
    /// # Errors
    /// [`Conflict`](crate::Error::Conflict) when the session changed, was
    /// removed or expired since; [`Destroyed`](crate::Error::Destroyed)
    /// when the id is tombstoned.
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        let _ = seen;
        self.set(id, session).await
    }

    /// Saves one request's `changes` to the session `id` (rule 10).
    /// `session` is the request's session: what it read at `read_at` (from
    /// [`get_versioned`](Store::get_versioned)) with the changes made. If
    /// nobody wrote since, it is stored in one conditional write; otherwise
    /// the changes are applied onto the session as stored now, under
    /// `session`'s expiry and express cookie, and written again. Where
    /// nothing live is stored any more, `session` is created. Concurrent
    /// updates keep each other's keys.
    ///
    /// ```
    /// use serde_json::json;
    /// use session_core::{Changes, SessionId, Store};
    ///
    /// async fn add_to_cart(store: &dyn Store, id: &SessionId) -> session_core::Result<()> {
    ///     let Some(read) = store.get_versioned(id).await? else { return Ok(()) };
    ///     let (mut session, mut changes) = (read.session, Changes::new());
    ///     session.insert("cart", json!(["book"]))?;
    ///     changes.set("cart", json!(["book"]));
    ///     store.update(id, &session, &changes, &read.version).await
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Conflict`](crate::Error::Conflict) when other writers kept landing
    /// first more often than its bound; [`Destroyed`](crate::Error::Destroyed)
    /// when the id is tombstoned; any error of the calls it makes.
    async fn update(
        &self,
        id: &SessionId,
        session: &Session,
        changes: &Changes,
        read_at: &Version,
    ) -> Result<()> {
        crate::update::update(self, id, session, changes, read_at).await
    }
}

/// Forwards every call, so `Arc<dyn Store>` and `Arc<MyStore>` are stores too.
macro_rules! forward_store {
    ($($pointer:ty),+) => {$(
        #[async_trait]
        impl<S: Store + ?Sized> Store for $pointer {
            async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
                (**self).get(id).await
            }
            async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
                (**self).set(id, session).await
            }
            async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
                (**self).create(id, session).await
            }
            async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
                (**self).touch(id, expires_at).await
            }
            async fn destroy(&self, id: &SessionId) -> Result<()> {
                (**self).destroy(id).await
            }
            fn all_stream(&self) -> SessionStream<'_> {
                (**self).all_stream()
            }
            async fn all(&self) -> Result<Vec<(SessionId, Session)>> {
                (**self).all().await
            }
            async fn length(&self) -> Result<u64> {
                (**self).length().await
            }
            async fn clear(&self) -> Result<()> {
                (**self).clear().await
            }
            async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
                (**self).get_versioned(id).await
            }
            async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
                (**self).set_if_unchanged(id, session, seen).await
            }
            async fn update(
                &self,
                id: &SessionId,
                session: &Session,
                changes: &Changes,
                read_at: &Version,
            ) -> Result<()> {
                (**self).update(id, session, changes, read_at).await
            }
        }
    )+};
}

forward_store!(Arc<S>, Box<S>, &S);

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;

    /// A store whose bulk read yields `items`; nothing else is used.
    #[derive(Debug)]
    struct Yielding(fn() -> Vec<Result<(SessionId, Session)>>);

    fn unused<T>() -> Result<T> {
        Err(Error::Backend("not used by these tests".into()))
    }

    #[async_trait]
    impl Store for Yielding {
        async fn get(&self, _: &SessionId) -> Result<Option<Session>> {
            unused()
        }
        async fn set(&self, _: &SessionId, _: &Session) -> Result<()> {
            unused()
        }
        async fn create(&self, _: &SessionId, _: &Session) -> Result<()> {
            unused()
        }
        async fn touch(&self, _: &SessionId, _: Option<OffsetDateTime>) -> Result<()> {
            unused()
        }
        async fn destroy(&self, _: &SessionId) -> Result<()> {
            unused()
        }
        fn all_stream(&self) -> SessionStream<'_> {
            Box::pin(stream::iter((self.0)()))
        }
        async fn length(&self) -> Result<u64> {
            unused()
        }
        async fn clear(&self) -> Result<()> {
            unused()
        }
    }

    fn session(n: u64) -> Result<(SessionId, Session)> {
        let mut session = Session::new();
        session.insert("n", n)?;
        Ok((SessionId::parse(&format!("id-{n}"))?, session))
    }

    #[tokio::test]
    async fn all_skips_unreadable_records_and_stops_at_other_errors() {
        let readable = Yielding(|| {
            vec![
                session(1),
                Err(Error::Decode("a lone surrogate".into())),
                session(2),
                Err(Error::InvalidId(SessionId::parse("").unwrap_err())),
                session(3),
            ]
        });
        let found = readable.all().await.unwrap();
        let numbers: Vec<u64> = found.iter().map(|(_, s)| s.get("n").unwrap().unwrap()).collect();
        assert_eq!(numbers, [1, 2, 3]);

        let broken = Yielding(|| vec![session(1), Err(Error::Unavailable("down".into())), session(2)]);
        assert!(matches!(broken.all().await, Err(Error::Unavailable(_))));
    }
}
