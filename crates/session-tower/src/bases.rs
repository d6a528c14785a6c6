//! What each `load` read, so that a `save` can land only the keys its
//! request changed (rule 10 of [`Store`](session_core::Store)).
//!
//! tower-sessions hands `save` the whole record and nothing to say which
//! `load` it came from. So the adapter remembers, per id, the last few
//! states it loaded (with their versions) for a while, and a `save` takes
//! as its base the remembered state from which the record differs in the
//! fewest keys: the state its request read, unless two loaded states are
//! as near to the record as each other. The changes from that base then
//! go through [`Store::update`](session_core::Store::update), which keeps
//! what concurrent requests wrote to other keys.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use moka::sync::Cache;
use session_core::{Changes, SessionData, SessionId, Version};

/// States remembered per id: more parallel requests than this that loaded
/// *different* states fall back to the nearest one remembered.
const PER_ID: usize = 8;

/// Ids remembered at once; the least recently loaded are forgotten first.
const IDS: u64 = 100_000;

/// How long a loaded state is remembered: longer than a request lasts.
const REMEMBERED_FOR: Duration = Duration::from_secs(300);

/// One state a `load` read.
#[derive(Debug)]
struct Base {
    data: SessionData,
    version: Version,
}

/// The states recently loaded, per id. A `save` whose id has none (it was
/// forgotten: a long request, or many ids loaded since) replaces the whole session, as
/// tower-sessions itself does.
#[derive(Debug, Clone)]
pub(crate) struct Bases {
    loaded: Cache<SessionId, Arc<Mutex<Vec<Base>>>>,
}

impl Default for Bases {
    fn default() -> Self {
        Self {
            loaded: Cache::builder()
                .max_capacity(IDS)
                .time_to_idle(REMEMBERED_FOR)
                .build(),
        }
    }
}

impl Bases {
    /// Remembers that `id` was read as `data` at `version` (once per version).
    pub(crate) fn loaded(&self, id: &SessionId, data: &SessionData, version: Version) {
        if version.token().is_none() {
            return; // a store that cannot compare: nothing to update against
        }
        let states = self.loaded.get_with_by_ref(id, Arc::default);
        let mut states = states.lock().unwrap_or_else(PoisonError::into_inner);
        if states.iter().any(|base| base.version == version) {
            return;
        }
        if states.len() == PER_ID {
            states.remove(0);
        }
        states.push(Base {
            data: data.clone(),
            version,
        });
    }

    /// What a save of `record` changed, and the version it was read at:
    /// from the remembered state nearest to it; `None` when `id` has none.
    pub(crate) fn changes_to(&self, id: &SessionId, record: &SessionData) -> Option<(Changes, Version)> {
        let states = self.loaded.get(id)?;
        let states = states.lock().unwrap_or_else(PoisonError::into_inner);
        states
            .iter()
            .rev() // on a tie, the newest state
            .map(|base| (Changes::between(&base.data, record), &base.version))
            .min_by_key(|(changes, _)| changes.keys().count())
            .map(|(changes, version)| (changes, version.clone()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(pairs: &[(&str, i64)]) -> SessionData {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect()
    }

    #[test]
    fn a_save_is_measured_from_the_state_nearest_to_it() {
        let (bases, id) = (Bases::default(), SessionId::generate());
        bases.loaded(&id, &data(&[("a", 1)]), Version::from_token([1]));
        bases.loaded(
            &id,
            &data(&[("a", 1), ("b", 2), ("c", 3)]),
            Version::from_token([2]),
        );
        let (changes, version) = bases
            .changes_to(&id, &data(&[("a", 1), ("x", 9)]))
            .expect("remembered");
        assert_eq!(version, Version::from_token([1]));
        assert_eq!(changes.keys().collect::<Vec<_>>(), vec![("x", Some(&json!(9)))]);
    }

    #[test]
    fn unversioned_loads_and_unknown_ids_give_no_base() {
        let (bases, id) = (Bases::default(), SessionId::generate());
        bases.loaded(&id, &data(&[("a", 1)]), Version::unversioned());
        assert!(bases.changes_to(&id, &data(&[])).is_none());
        assert!(bases.changes_to(&SessionId::generate(), &data(&[])).is_none());
    }

    #[test]
    fn each_id_keeps_a_bounded_number_of_states() {
        let (bases, id) = (Bases::default(), SessionId::generate());
        for n in 0..=PER_ID {
            let token = u8::try_from(n).unwrap_or(u8::MAX);
            bases.loaded(
                &id,
                &data(&[("n", i64::from(token))]),
                Version::from_token([token]),
            );
        }
        let kept = bases
            .loaded
            .get(&id)
            .map(|states| states.lock().map(|s| s.len()).unwrap_or(0));
        assert_eq!(kept, Some(PER_ID));
        // The first state is forgotten: a save from it is measured from the nearest kept.
        let (_, version) = bases.changes_to(&id, &data(&[("n", 0)])).expect("remembered");
        assert_ne!(version, Version::from_token([0]));
    }
}
