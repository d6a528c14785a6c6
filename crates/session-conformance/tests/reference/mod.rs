//! A deliberately simple store, correct unless told to carry one defect.
//!
//! All stores share one process-wide "server" (a map of namespaces) so that
//! namespace defects are possible. Locks are never held across an await.

use std::{
    collections::HashMap,
    fmt,
    sync::{LazyLock, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;
use serde_json::Value;
use session_conformance::Settings;
use session_core::{Error, Lifetimes, Result, Session, SessionId, SessionStream, Store};
use time::OffsetDateTime;

/// The defect a [`RefStore`] carries; `None` is the correct store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bug {
    None,
    GetMissingReturnsEmpty,
    GetDropsExpiry,
    SetMergesData,
    DestroyRemovesAll,
    DebugLeaksData,
    MangledUnicode,
    NulTruncates,
    DropsArrays,
    EmptyDataIsMissing,
    DropsLargeValues,
    LossyNumbers,
    KeepsFirstThousandKeys,
    ExpiryInSeconds,
    GetReturnsExpired,
    NoDefaultTtl,
    SetKeepsExpired,
    ExpiredSetKeepsOld,
    TouchIgnoresExpiry,
    TouchDropsData,
    TouchNoneKeepsExpiry,
    TouchToPastKeeps,
    TouchCreates,
    TouchRevivesExpired,
    TouchOkOnExpired,
    TouchIgnoresTombstone,
    DestroyKeepsLive,
    DestroyNotIdempotent,
    NoTombstone,
    SilentRefusal,
    TombstoneOnlyIfPresent,
    TombstoneNeverLapses,
    ZeroGraceStillTombstones,
    CreateOverwrites,
    CreateStoresNothing,
    ExpiredBlocksCreate,
    CreateKeepsExpired,
    SetChecksThenWrites,
    TouchChecksThenWrites,
    CreateChecksThenWrites,
    DropsPastCapacity,
    TornWrites,
    TruncatesLongIds,
    DestroyGlobs,
    CaseInsensitiveIds,
    TrimsTrailingPunctuation,
    LengthCountsTombstones,
    LengthCountsExpired,
    AllMispairsIds,
    AllIncludesExpired,
    StreamRepeats,
    ClearKeepsTombstones,
    ClearIgnoresNamespace,
    IgnoresNamespace,
}

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

pub(crate) struct RefStore {
    namespace: String,
    lifetimes: Lifetimes,
    bug: Bug,
}

impl RefStore {
    pub(crate) fn new(settings: Settings, bug: Bug) -> Self {
        let namespace = if bug == Bug::IgnoresNamespace {
            "shared".into()
        } else {
            settings.namespace
        };
        Self {
            namespace,
            lifetimes: settings.lifetimes,
            bug,
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
        let data = match self.bug {
            Bug::MangledUnicode
            | Bug::NulTruncates
            | Bug::DropsArrays
            | Bug::DropsLargeValues
            | Bug::LossyNumbers => session
                .data()
                .iter()
                .map(|(k, v)| (k.clone(), self.mangle(v.clone())))
                .collect(),
            Bug::KeepsFirstThousandKeys => session
                .data()
                .iter()
                .take(1000)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => session.data().clone(),
        };
        Session::from_data(data).expiring_at(at)
    }

    fn mangle(&self, value: Value) -> Value {
        match (value, self.bug) {
            (Value::String(s), Bug::MangledUnicode) => {
                Value::String(s.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect())
            }
            (Value::String(s), Bug::NulTruncates) => Value::String(s.split('\0').next().unwrap_or("").into()),
            (Value::String(s), Bug::DropsLargeValues) if s.len() > 65_536 => {
                Value::String(s[..65_536].into())
            }
            (Value::Number(n), Bug::LossyNumbers) => n.as_f64().map_or(Value::Null, Value::from),
            (Value::Array(_), Bug::DropsArrays) => Value::Null,
            (Value::Object(map), _) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, self.mangle(v))).collect())
            }
            (Value::Array(items), _) => Value::Array(items.into_iter().map(|v| self.mangle(v)).collect()),
            (other, _) => other,
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
        self.with_ns(|ns| {
            if session.is_expired_at(now) {
                if !self.is(Bug::ExpiredSetKeepsOld) {
                    ns.remove(&key);
                }
            } else if !(self.is(Bug::DropsPastCapacity) && ns.len() >= 100) {
                ns.insert(key, Slot::Live(session));
            }
        });
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
        let now = now();
        let slot = self.with_ns(|ns| ns.get(&self.key(id)).cloned());
        Ok(match slot {
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
        })
    }

    async fn set(&self, id: &SessionId, session: &Session) -> Result<()> {
        let (now, key) = (now(), self.key(id));
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
        if !self.is(Bug::SetChecksThenWrites) && self.with_ns(|ns| self.tombstoned(ns.get(&key), now)) {
            return Err(Error::Destroyed); // the correct store re-checks under the lock
        }
        self.put(key, stored, now);
        Ok(())
    }

    async fn create(&self, id: &SessionId, session: &Session) -> Result<()> {
        if self.is(Bug::CreateOverwrites) {
            return self.set(id, session).await;
        }
        let (now, key) = (now(), self.key(id));
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
                ns.insert(key.clone(), Slot::Live(stored));
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
        self.window(Bug::TouchChecksThenWrites).await;
        self.with_ns(|ns| {
            // The correct store re-checks under the lock: a destroy may have landed.
            if !self.is(Bug::TouchChecksThenWrites) && self.tombstoned(ns.get(&key), now) {
                return Err(Error::Destroyed);
            }
            ns.insert(key, Slot::Live(session));
            Ok(())
        })?;
        if new.is_some_and(|at| at <= now) {
            self.with_ns(|ns| ns.remove(&self.key(id)));
        }
        Ok(())
    }

    async fn destroy(&self, id: &SessionId) -> Result<()> {
        let (now, key) = (now(), self.key(id));
        let grace = match self.lifetimes.tombstone_until(now) {
            None if self.is(Bug::ZeroGraceStillTombstones) => Some(now + Duration::from_secs(300)),
            _ if self.is(Bug::TombstoneNeverLapses) => Some(FOREVER),
            until => until,
        };
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
                    ns.insert(key, Slot::Tombstone(until));
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
                .filter_map(|(k, slot)| match slot {
                    Slot::Live(s) if !s.is_expired_at(now) || self.is(Bug::AllIncludesExpired) => {
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
            ns.values()
                .filter(|slot| match slot {
                    Slot::Live(s) => !s.is_expired_at(now) || self.is(Bug::LengthCountsExpired),
                    Slot::Tombstone(_) => self.is(Bug::LengthCountsTombstones),
                })
                .count()
        });
        Ok(count as u64)
    }

    async fn clear(&self) -> Result<()> {
        if self.is(Bug::ClearIgnoresNamespace) {
            server().clear();
        } else if self.is(Bug::ClearKeepsTombstones) {
            self.with_ns(|ns| ns.retain(|_, slot| matches!(slot, Slot::Tombstone(_))));
        } else {
            self.with_ns(Namespace::clear);
        }
        Ok(())
    }
}
