//! A deliberately simple store, correct unless told to carry one defect.
//!
//! All stores share one process-wide "server" (a map of namespaces) so that
//! namespace defects are possible. Locks are never held across an await.

mod bug;
mod data;
mod declared;
mod lru;
mod read_cache;

use std::{
    collections::HashMap,
    fmt,
    sync::{LazyLock, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;
use serde_json::Value;
use session_conformance::{Capabilities, Settings};
use session_core::{
    Changes, Error, Lifetimes, Result, Session, SessionData, SessionId, SessionStream, Store, Version,
    Versioned, backend::check_storable,
};
use time::OffsetDateTime;

pub(crate) use bug::Bug;
use read_cache::ReadCache;

#[derive(Clone)]
enum Slot {
    Live(Session), // always carries Some(expiry)
    Tombstone(OffsetDateTime),
}

type Namespace = HashMap<String, Slot>;

static SERVER: LazyLock<Mutex<HashMap<String, Namespace>>> = LazyLock::new(Mutex::default);

fn server() -> MutexGuard<'static, HashMap<String, Namespace>> {
    SERVER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

const FOREVER: OffsetDateTime = time::macros::datetime!(2200-01-01 0:00 UTC);

/// Above this many records, `Bug::ApproximateLength` stops counting.
const APPROXIMATE_ABOVE: usize = 64;

/// The page size `Bug::AllFiltersFirstPageOnly` filters.
const PAGE: usize = 1000;

/// The page size at which `Bug::LengthWrongAtFullPage` miscounts: none the
/// suite knows of, so only a declared page size finds it.
pub(crate) const ODD_PAGE: usize = 300;

/// The namespace `Bug::TombstonesShared` keeps every tombstone in.
const SHARED_TOMBSTONES: &str = "TombstonesShared/tombstones";

pub(crate) struct RefStore {
    namespace: String,
    lifetimes: Lifetimes,
    capacity: Option<u64>,
    bug: Bug,
    /// What it does where a store may declare otherwise (see `declared`).
    behaviour: Capabilities,
    read_cache: ReadCache,
}

impl RefStore {
    /// A store with `bug` that keeps the whole contract otherwise.
    pub(crate) fn new(settings: Settings, bug: Bug) -> Self {
        Self::behaving(settings, bug, Capabilities::full())
    }

    /// A store with `bug` that does what a store declaring `behaviour` does.
    pub(crate) fn behaving(settings: Settings, bug: Bug, behaviour: Capabilities) -> Self {
        // Each defect's stores live apart from every other defect's, so a
        // defect that reaches across namespaces harms only its own tests.
        let namespace = if bug == Bug::IgnoresNamespace {
            format!("{bug:?}/shared")
        } else {
            format!("{bug:?}/{}", settings.namespace)
        };
        Self {
            namespace,
            lifetimes: settings.lifetimes,
            capacity: settings.capacity,
            bug,
            behaviour,
            read_cache: ReadCache::default(),
        }
    }

    fn with_ns<T>(&self, f: impl FnOnce(&mut Namespace) -> T) -> T {
        f(server().entry(self.namespace.clone()).or_default())
    }

    fn key(&self, id: &SessionId) -> String {
        let id = id.as_str();
        match self.bug {
            Bug::CaseInsensitiveIds => id.to_lowercase(),
            Bug::TruncatesLongIds => id.chars().take(100).collect(),
            Bug::TrimsTrailingPunctuation => id.trim_end_matches(|c: char| c.is_ascii_punctuation()).into(),
            Bug::TruncatesIdsToLimit => id.chars().take(self.behaviour.max_id_len).collect(),
            _ => id.into(),
        }
    }

    fn is(&self, bug: Bug) -> bool {
        self.bug == bug
    }

    /// The session as it will be stored: expiry resolved, data as the defect mangles it.
    fn stored(&self, session: &Session, now: OffsetDateTime) -> Session {
        let mut at = match (session.expires_at(), self.bug) {
            (None, Bug::NoDefaultTtl) => FOREVER,
            _ => self.lifetimes.expiry_of(session, now),
        };
        if matches!(self.bug, Bug::SetKeepsExpired | Bug::CreateKeepsExpired) && at <= now {
            // The naive-TTL defect: a non-positive TTL clamped to one second.
            at = now + Duration::from_secs(1);
        }
        if self.is(Bug::ExpiryInSeconds) {
            at = at.replace_millisecond(0).unwrap_or(at);
        }
        let data = data::as_stored(self.bug, session.data());
        let data = declared::with_numbers(self.behaviour.numbers, data);
        Session::from_data(data).expiring_at(at)
    }

    /// What `set` and `create` refuse before anything else, and the data
    /// they then store: a too-long id, a reserved key.
    fn admit(&self, id: &SessionId, session: &Session) -> Result<Session> {
        declared::id_fits(&self.behaviour, self.bug, id)?;
        let mut data = session.data().clone();
        declared::reserved_keys(&self.behaviour, self.bug, &mut data)?;
        let mut admitted = Session::from_data(data);
        admitted.set_expires_at(session.expires_at());
        Ok(admitted)
    }

    /// Whether `key` is tombstoned, as `Bug::TombstonesShared` sees it: in
    /// one namespace for every store.
    fn shared_tombstone(&self, key: &str, now: OffsetDateTime) -> bool {
        self.is(Bug::TombstonesShared)
            && self.tombstoned(server().get(SHARED_TOMBSTONES).and_then(|ns| ns.get(key)), now)
    }

    /// Rule 8's depth limit, as the defects get it wrong.
    fn check_depth(&self, data: &SessionData) -> Result<()> {
        if self.is(Bug::ErrorsLeakData) {
            return check_storable(data).map_err(|_| Error::Encode(format!("too deep: {data:?}").into()));
        }
        match self.bug {
            Bug::AcceptsTooDeep => Ok(()),
            // Counts the data object as level 0, so refuses one level early.
            Bug::DepthLimitOffByOne => check_storable(&SessionData::from_iter([(
                "wrapped".to_string(),
                Value::Object(data.clone()),
            )])),
            _ => check_storable(data),
        }
    }

    fn tombstoned(&self, slot: Option<&Slot>, now: OffsetDateTime) -> bool {
        matches!(slot, Some(Slot::Tombstone(until)) if *until > now)
    }

    /// What the defects that check, then write, do in between: let others run.
    async fn window(&self, bug: Bug) {
        if self.is(bug) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn put(&self, key: String, session: Session, now: OffsetDateTime) {
        self.with_ns(|ns| self.put_into(ns, key, session, now));
    }

    fn put_into(&self, ns: &mut Namespace, key: String, session: Session, now: OffsetDateTime) {
        if session.is_expired_at(now) {
            if !self.is(Bug::ExpiredSetKeepsOld) {
                ns.remove(&key);
            }
        } else if !(self.is(Bug::DropsPastCapacity) && ns.len() >= 100) {
            self.insert(ns, key, Slot::Live(session));
        }
    }

    /// Every record is written through here, so the capacity defect sees it.
    fn insert(&self, ns: &mut Namespace, key: String, slot: Slot) {
        ns.insert(key.clone(), slot);
        if let (Bug::CapacityEvictsTombstones, Some(capacity)) = (self.bug, self.capacity) {
            lru::written(&self.namespace, ns, &key, capacity);
        }
    }

    /// What `get` finds, before any read cache.
    fn read(&self, key: &str) -> Option<Session> {
        let now = now();
        let slot = self.with_ns(|ns| ns.get(key).cloned());
        match slot {
            Some(Slot::Live(s)) if !s.is_expired_at(now) || self.is(Bug::GetReturnsExpired) => {
                if self.is(Bug::EmptyDataIsMissing) && s.is_empty() {
                    None
                } else if self.is(Bug::GetDropsExpiry) {
                    Some(Session::from_data(s.into_data()))
                } else {
                    Some(s)
                }
            }
            None if self.is(Bug::GetMissingReturnsEmpty) => Some(Session::new().expiring_at(FOREVER)),
            _ => None,
        }
    }
}

impl fmt::Debug for RefStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is(Bug::DebugLeaksData) {
            let dump: Vec<String> = self.with_ns(|ns| {
                ns.iter()
                    .map(|(k, s)| match s {
                        Slot::Live(s) => format!("{k}={:?}", s.data()),
                        Slot::Tombstone(_) => format!("{k}=tombstone"),
                    })
                    .collect()
            });
            return write!(f, "RefStore({dump:?})");
        }
        write!(f, "RefStore({}, {:?})", self.namespace, self.bug)
    }
}

#[async_trait]
impl Store for RefStore {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        let key = self.key(id);
        if !self.is(Bug::StaleReadCache) {
            return Ok(self.read(&key));
        }
        if let Some(recent) = self.read_cache.recent(&key) {
            return Ok(recent);
        }
        let found = self.read(&key);
        self.read_cache.keep(key, found.clone());
        Ok(found)
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let session = &self.admit(id, session)?;
        let (now, key) = (now(), self.key(id));
        if self.shared_tombstone(&key, now) {
            return Err(Error::Destroyed);
        }
        let storable = self.check_depth(session.data());
        if storable.is_err() && self.is(Bug::TooDeepClobbersOld) {
            self.with_ns(|ns| ns.remove(&key));
        }
        storable?;
        let mut stored = self.stored(session, now);
        let (refused, previous) =
            self.with_ns(|ns| (self.tombstoned(ns.get(&key), now), ns.get(&key).cloned()));
        if refused {
            return if self.is(Bug::SilentRefusal) {
                Ok(())
            } else {
                Err(Error::Destroyed)
            };
        }
        if let (Bug::SetMergesData, Some(Slot::Live(old))) = (self.bug, &previous) {
            let mut merged = old.data().clone();
            merged.extend(stored.data().clone());
            stored = Session::from_data(merged).expiring_at(stored.expires_at().unwrap_or(FOREVER));
        }
        if let (Bug::TornWrites, Some(Slot::Live(old))) = (self.bug, &previous) {
            let mut half = old.clone();
            half.data_mut()
                .insert("n".into(), stored.data().get("n").cloned().unwrap_or(Value::Null));
            self.put(key.clone(), half, now);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.window(Bug::SetChecksThenWrites).await;
        self.with_ns(|ns| {
            // The correct store checks again under the lock it writes with.
            if !self.is(Bug::SetChecksThenWrites) && self.tombstoned(ns.get(&key), now) {
                return Err(Error::Destroyed);
            }
            self.put_into(ns, key, stored, now);
            Ok(())
        })
    }

    /// The version is the stored data itself: a write lands only on the
    /// data it read (rule 10).
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        Ok(self.get(id).await?.map(|session| Versioned {
            version: content_version(session.data()),
            session,
        }))
    }

    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        if !self.behaviour.versions || self.is(Bug::WholeRecordLastWriterWins) {
            return self.set(id, session).await;
        }
        let session = &self.admit(id, session)?;
        self.check_depth(session.data())?;
        let (now, key) = (now(), self.key(id));
        let stored = self.stored(session, now);
        self.with_ns(|ns| {
            if self.tombstoned(ns.get(&key), now) && !self.is(Bug::ConditionalWriteResurrects) {
                return Err(Error::Destroyed);
            }
            let unchanged = match ns.get(&key) {
                Some(Slot::Live(current)) if !current.is_expired_at(now) => {
                    content_version(current.data()) == *seen
                }
                _ => self.is(Bug::ConditionalWriteResurrects),
            };
            if !unchanged {
                return Err(Error::Conflict);
            }
            self.put_into(ns, key, stored, now);
            Ok(())
        })
    }

    async fn update(
        &self,
        id: &SessionId,
        session: &Session,
        changes: &Changes,
        read_at: &Version,
    ) -> Result<()> {
        match (self.bug, self.set_if_unchanged(id, session, read_at).await) {
            (Bug::UpdateOverwritesOnConflict, Err(Error::Conflict)) => self.set(id, session).await,
            (Bug::UpdateMergesNestedValues, Err(Error::Conflict)) => {
                let Some(mut latest) = self.get(id).await? else {
                    return self.set(id, session).await;
                };
                for (key, value) in changes.keys() {
                    if let Some(value) = value {
                        merge_nested(
                            latest.data_mut().entry(key.to_owned()).or_insert(Value::Null),
                            value,
                        );
                    }
                }
                self.set(id, &latest).await
            }
            (_, Err(Error::Conflict)) => {
                session_core::Store::update(&Provided(self), id, session, changes, read_at).await
            }
            (_, first) => first,
        }
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        if self.is(Bug::CreateOverwrites) {
            return self.set(id, session).await;
        }
        let session = &self.admit(id, session)?;
        if !self.is(Bug::CreateSkipsDepthCheck) {
            self.check_depth(session.data())?;
        }
        let (now, key) = (now(), self.key(id));
        if self.shared_tombstone(&key, now) {
            return Err(Error::Destroyed);
        }
        let stored = self.stored(session, now);
        let check = |ns: &Namespace| match ns.get(&key) {
            slot if self.tombstoned(slot, now) => Err(Error::Destroyed),
            Some(Slot::Live(s)) if !s.is_expired_at(now) || self.is(Bug::ExpiredBlocksCreate) => {
                Err(Error::AlreadyExists)
            }
            _ => Ok(()),
        };
        if self.is(Bug::CreateChecksThenWrites) {
            self.with_ns(|ns| check(ns))?;
            self.window(Bug::CreateChecksThenWrites).await;
            self.put(key.clone(), stored, now);
            return Ok(());
        }
        self.with_ns(|ns| {
            check(ns)?;
            if !stored.is_expired_at(now) && !self.is(Bug::CreateStoresNothing) {
                self.insert(ns, key.clone(), Slot::Live(stored));
            }
            Ok(())
        })
    }

    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        let (now, key) = (now(), self.key(id));
        let slot = self.with_ns(|ns| ns.get(&key).cloned());
        if self.tombstoned(slot.as_ref(), now) && !self.is(Bug::TouchIgnoresTombstone) {
            return Err(Error::Destroyed);
        }
        let Some(Slot::Live(mut session)) = slot else {
            if self.is(Bug::TouchCreates) {
                self.put(key, self.stored(&Session::new(), now), now);
                return Ok(());
            }
            return Err(Error::NotFound);
        };
        if session.is_expired_at(now) {
            match self.bug {
                Bug::TouchOkOnExpired => return Ok(()),
                Bug::TouchRevivesExpired => {}
                _ => return Err(Error::NotFound),
            }
        }
        let new = match (expires_at, self.bug) {
            (_, Bug::TouchIgnoresExpiry) => session.expires_at(),
            (None, Bug::TouchNoneKeepsExpiry) => session.expires_at(),
            (Some(at), Bug::TouchToPastKeeps) if at <= now => session.expires_at(),
            (at, _) => Some(self.lifetimes.expiry_or_default(at, now)),
        };
        session.set_expires_at(new);
        if self.is(Bug::TouchDropsData) {
            session = Session::new().expiring_at(new.unwrap_or(FOREVER));
        }
        let writes_back_what_it_read = matches!(
            self.bug,
            Bug::TouchChecksThenWrites | Bug::TouchWritesBackStaleData
        );
        self.window(Bug::TouchChecksThenWrites).await;
        self.window(Bug::TouchWritesBackStaleData).await;
        self.with_ns(|ns| {
            if writes_back_what_it_read {
                self.insert(ns, key, Slot::Live(session));
                return Ok(());
            }
            // The correct store decides again under the lock, since a
            // destroy or a set may have landed, and moves only the expiry.
            let current = ns.get(&key).cloned();
            match current {
                slot if self.tombstoned(slot.as_ref(), now) => Err(Error::Destroyed),
                Some(Slot::Live(mut current)) => {
                    current.set_expires_at(new);
                    let touched = if self.is(Bug::TouchDropsData) {
                        session
                    } else {
                        current
                    };
                    self.insert(ns, key, Slot::Live(touched));
                    Ok(())
                }
                _ => Err(Error::NotFound),
            }
        })?;
        if new.is_some_and(|at| at <= now) {
            self.with_ns(|ns| ns.remove(&self.key(id)));
        }
        Ok(())
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let (now, key) = (now(), self.key(id));
        let grace = match self.lifetimes.tombstone_until(now) {
            _ if !self.behaviour.tombstones => None,
            None if self.is(Bug::ZeroGraceStillTombstones) => Some(now + Duration::from_secs(300)),
            _ if self.is(Bug::TombstoneNeverLapses) => Some(FOREVER),
            until => until,
        };
        if let (Bug::TombstonesShared, Some(until)) = (self.bug, grace) {
            server()
                .entry(SHARED_TOMBSTONES.to_string())
                .or_default()
                .insert(key.clone(), Slot::Tombstone(until));
        }
        self.with_ns(|ns| {
            let present = ns.contains_key(&key);
            if self.is(Bug::DestroyNotIdempotent) && !present {
                return Err(Error::NotFound);
            }
            if self.is(Bug::DestroyKeepsLive) && present {
                return Ok(());
            }
            if self.is(Bug::DestroyRemovesAll) {
                ns.clear();
            }
            if self.is(Bug::DestroyGlobs) {
                let prefix = id.as_str().trim_end_matches('*');
                ns.retain(|k, _| !k.starts_with(prefix));
            }
            match grace {
                Some(until)
                    if !self.is(Bug::NoTombstone) && (present || !self.is(Bug::TombstoneOnlyIfPresent)) =>
                {
                    self.insert(ns, key, Slot::Tombstone(until));
                }
                _ => {
                    ns.remove(&key);
                }
            }
            Ok(())
        })
    }

    fn all_stream(&self) -> SessionStream<'_> {
        let now = now();
        let mut sessions: Vec<(SessionId, Session)> = self.with_ns(|ns| {
            ns.iter()
                .enumerate()
                .filter_map(|(index, (k, slot))| match slot {
                    Slot::Live(s)
                        if !s.is_expired_at(now)
                            || self.is(Bug::AllIncludesExpired)
                            || (self.is(Bug::AllFiltersFirstPageOnly) && index >= PAGE) =>
                    {
                        SessionId::parse(k).ok().map(|id| (id, s.clone()))
                    }
                    _ => None,
                })
                .collect()
        });
        if self.is(Bug::AllMispairsIds) && sessions.len() > 1 {
            let first = sessions[0].0.clone();
            let len = sessions.len();
            for i in 0..len - 1 {
                sessions[i].0 = sessions[i + 1].0.clone();
            }
            sessions[len - 1].0 = first;
        }
        if self.is(Bug::StreamRepeats) && !sessions.is_empty() {
            sessions.push(sessions[0].clone());
        }
        Box::pin(futures_util::stream::iter(sessions.into_iter().map(Ok)))
    }

    async fn length(&self) -> Result<u64> {
        let now = now();
        let count = self.with_ns(|ns| {
            if self.is(Bug::ApproximateLength) && ns.len() > APPROXIMATE_ABOVE {
                return ns.len(); // a table statistic: every record, dead or alive
            }
            ns.values()
                .filter(|slot| match slot {
                    Slot::Live(s) => !s.is_expired_at(now) || self.is(Bug::LengthCountsExpired),
                    Slot::Tombstone(_) => self.is(Bug::LengthCountsTombstones),
                })
                .count()
        });
        if self.is(Bug::LengthWrongAtFullPage) && count > 0 && count.is_multiple_of(ODD_PAGE) {
            return Ok(count as u64 - 1);
        }
        if self.is(Bug::LengthWrongAtFullPage500) && count > 0 && count.is_multiple_of(500) {
            return Ok(count as u64 + 1);
        }
        Ok(count as u64)
    }

    async fn clear(&self) -> Result<()> {
        if self.is(Bug::ClearIgnoresNamespace) {
            let family = format!("{:?}/", self.bug);
            server().retain(|name, _| !name.starts_with(&family));
        } else if self.is(Bug::ClearKeepsTombstones) {
            self.with_ns(|ns| ns.retain(|_, slot| matches!(slot, Slot::Tombstone(_))));
        } else {
            self.with_ns(Namespace::clear);
        }
        Ok(())
    }
}

/// `Bug::UpdateMergesNestedValues`: objects merged key by key, arrays
/// appended, anything else replaced.
fn merge_nested(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge_nested(into.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (Value::Array(into), Value::Array(from)) => into.extend(from.iter().cloned()),
        (into, from) => *into = from.clone(),
    }
}

/// The version of data as the reference store compares it: the data itself.
fn content_version(data: &SessionData) -> Version {
    Version::from_token(serde_json::to_vec(data).unwrap_or_default())
}

/// The reference store with the provided `update`, so that the correct
/// store runs exactly the algorithm every store inherits.
#[derive(Debug)]
struct Provided<'a>(&'a RefStore);

#[async_trait]
impl Store for Provided<'_> {
    async fn get(&self, id: &SessionId) -> Result<Option<Session>> {
        self.0.get(id).await
    }
    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.0.set(id, session).await
    }
    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        self.0.create(id, session).await
    }
    async fn touch(&self, id: &SessionId, expires_at: Option<OffsetDateTime>) -> Result<()> {
        self.0.touch(id, expires_at).await
    }
    async fn destroy(&self, id: &SessionId) -> Result<()> {
        self.0.destroy(id).await
    }
    fn all_stream(&self) -> SessionStream<'_> {
        self.0.all_stream()
    }
    async fn length(&self) -> Result<u64> {
        self.0.length().await
    }
    async fn clear(&self) -> Result<()> {
        self.0.clear().await
    }
    async fn get_versioned(&self, id: &SessionId) -> Result<Option<Versioned>> {
        self.0.get_versioned(id).await
    }
    async fn set_if_unchanged(&self, id: &SessionId, session: &Session, seen: &Version) -> Result<()> {
        self.0.set_if_unchanged(id, session, seen).await
    }
}
