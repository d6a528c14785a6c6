//! The contract's write rules, decided in one place.
//!
//! Every backend turns what it finds under an id into an [`Occupant`], asks
//! [`decide`] what a write does there, and reports the [`Decision`]'s
//! answer. Backends that must check on the server (a Lua script, a guarded
//! SQL statement, a revision-checked PUT) keep that check on the server and
//! still take the answer from here, so every store tells its caller the
//! same thing for the same situation.
//!
//! The table itself is on [`decide`].

use crate::Error;

/// What a write finds under an id at the moment it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occupant {
    /// Nothing that counts: no record, a session past its expiry, or a
    /// tombstone past its grace window.
    Vacant,
    /// A session whose expiry is still ahead.
    Live,
    /// A tombstone still within its grace window.
    Tombstone,
}

impl Occupant {
    /// What a stored record is at `now_ms`: `until_ms` is a session's expiry
    /// or a tombstone's lapse, both in unix milliseconds. A record counts
    /// while `now < until`, never at its own instant.
    ///
    /// ```
    /// use session_core::backend::Occupant;
    ///
    /// assert_eq!(Occupant::of(false, 2_000, 1_999), Occupant::Live);
    /// assert_eq!(Occupant::of(true, 2_000, 1_999), Occupant::Tombstone);
    /// assert_eq!(Occupant::of(false, 2_000, 2_000), Occupant::Vacant);
    /// ```
    pub fn of(tombstone: bool, until_ms: i64, now_ms: i64) -> Self {
        match (until_ms > now_ms, tombstone) {
            (false, _) => Self::Vacant,
            (true, true) => Self::Tombstone,
            (true, false) => Self::Live,
        }
    }
}

/// A write to one id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Write {
    /// [`Store::set`](crate::Store::set): insert or replace.
    Set,
    /// [`Store::create`](crate::Store::create): insert only into a vacant id.
    Create,
    /// [`Store::touch`](crate::Store::touch): move a live session's expiry.
    Touch,
}

impl Write {
    /// Whether the decision can depend on telling a live session from a
    /// vacant id. For `set` it cannot (only a tombstone changes it), so a
    /// store may skip reading the session before a `set`.
    pub fn needs_liveness(self) -> bool {
        !matches!(self, Self::Set)
    }
}

/// What a write does to the stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Store the written session (or, for `touch`, the new expiry).
    Store,
    /// Remove the record: the written expiry is already past.
    Remove,
    /// Leave the record as it is.
    Nothing,
}

/// Why the contract refuses a write: each is an [`Error`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The id is tombstoned: [`Error::Destroyed`].
    Destroyed,
    /// `create` met a live session: [`Error::AlreadyExists`].
    AlreadyExists,
    /// `touch` met no live session: [`Error::NotFound`].
    NotFound,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Destroyed => Self::Destroyed,
            Refusal::AlreadyExists => Self::AlreadyExists,
            Refusal::NotFound => Self::NotFound,
        }
    }
}

/// What one write does, and what its caller is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    /// The change to the stored record.
    pub effect: Effect,
    /// `None` when the write succeeds.
    pub refusal: Option<Refusal>,
}

impl Decision {
    /// The answer for the caller: `Ok(())` or the refusal as an [`Error`].
    ///
    /// # Errors
    /// The refusal, when there is one.
    pub fn answer(self) -> Result<(), Error> {
        self.refusal.map_or(Ok(()), |refusal| Err(refusal.into()))
    }

    fn accept(effect: Effect) -> Self {
        Self {
            effect,
            refusal: None,
        }
    }

    fn refuse(refusal: Refusal) -> Self {
        Self {
            effect: Effect::Nothing,
            refusal: Some(refusal),
        }
    }
}

/// The rule table: what `write` does to an id holding `found`, when the
/// expiry it writes is `expired` (at or before now).
///
/// | write | [`Vacant`](Occupant::Vacant) | [`Live`](Occupant::Live) | [`Tombstone`](Occupant::Tombstone) |
/// |---|---|---|---|
/// | `set`, expiry ahead | store | store | refuse: `Destroyed` |
/// | `set`, expiry past | remove | remove | refuse: `Destroyed` |
/// | `create`, expiry ahead | store | refuse: `AlreadyExists` | refuse: `Destroyed` |
/// | `create`, expiry past | nothing | refuse: `AlreadyExists` | refuse: `Destroyed` |
/// | `touch`, expiry ahead | refuse: `NotFound` | store | refuse: `Destroyed` |
/// | `touch`, expiry past | refuse: `NotFound` | remove | refuse: `Destroyed` |
///
/// `destroy` is not in the table: it always succeeds and writes a tombstone
/// (or removes the record when the grace window is zero), whatever is there.
///
/// ```
/// use session_core::backend::{Effect, Occupant, Write, decide};
/// use session_core::Error;
///
/// let late_save = decide(Write::Set, Occupant::Tombstone, false);
/// assert_eq!(late_save.effect, Effect::Nothing);
/// assert!(matches!(late_save.answer(), Err(Error::Destroyed)));
/// assert_eq!(decide(Write::Touch, Occupant::Live, true).effect, Effect::Remove);
/// ```
pub fn decide(write: Write, found: Occupant, expired: bool) -> Decision {
    use {Effect::*, Occupant::*, Write::*};
    let writes = if expired { Remove } else { Store };
    match (write, found) {
        (_, Tombstone) => Decision::refuse(Refusal::Destroyed),
        (Set, Vacant | Live) | (Touch, Live) => Decision::accept(writes),
        (Create, Live) => Decision::refuse(Refusal::AlreadyExists),
        (Create, Vacant) => Decision::accept(if expired { Nothing } else { Store }),
        (Touch, Vacant) => Decision::refuse(Refusal::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a write does to one occupant: its effect, and the refusal if any.
    type Outcome = (Effect, Option<Refusal>);
    /// A write, whether it is already expired, and its outcome against a
    /// vacant, a live and a tombstoned slot.
    type Row = (Write, bool, [Outcome; 3]);

    /// The table on `decide`, row by row.
    #[test]
    fn the_table_as_documented() {
        use {Effect::*, Occupant::*, Write::*};
        let rows: [Row; 6] = [
            (
                Set,
                false,
                [(Store, None), (Store, None), (Nothing, Some(Refusal::Destroyed))],
            ),
            (
                Set,
                true,
                [
                    (Remove, None),
                    (Remove, None),
                    (Nothing, Some(Refusal::Destroyed)),
                ],
            ),
            (
                Create,
                false,
                [
                    (Store, None),
                    (Nothing, Some(Refusal::AlreadyExists)),
                    (Nothing, Some(Refusal::Destroyed)),
                ],
            ),
            (
                Create,
                true,
                [
                    (Nothing, None),
                    (Nothing, Some(Refusal::AlreadyExists)),
                    (Nothing, Some(Refusal::Destroyed)),
                ],
            ),
            (
                Touch,
                false,
                [
                    (Nothing, Some(Refusal::NotFound)),
                    (Store, None),
                    (Nothing, Some(Refusal::Destroyed)),
                ],
            ),
            (
                Touch,
                true,
                [
                    (Nothing, Some(Refusal::NotFound)),
                    (Remove, None),
                    (Nothing, Some(Refusal::Destroyed)),
                ],
            ),
        ];
        for (write, expired, expected) in rows {
            for (found, (effect, refusal)) in [Vacant, Live, Tombstone].into_iter().zip(expected) {
                assert_eq!(
                    decide(write, found, expired),
                    Decision { effect, refusal },
                    "{write:?} on {found:?}, expired {expired}"
                );
            }
        }
    }

    #[test]
    fn set_never_depends_on_liveness() {
        for expired in [false, true] {
            assert_eq!(
                decide(Write::Set, Occupant::Vacant, expired),
                decide(Write::Set, Occupant::Live, expired)
            );
        }
        assert!(!Write::Set.needs_liveness());
        assert!(Write::Create.needs_liveness() && Write::Touch.needs_liveness());
    }

    #[test]
    fn refusals_are_the_contract_errors() {
        assert!(matches!(Error::from(Refusal::Destroyed), Error::Destroyed));
        assert!(matches!(
            Error::from(Refusal::AlreadyExists),
            Error::AlreadyExists
        ));
        assert!(matches!(Error::from(Refusal::NotFound), Error::NotFound));
        assert!(decide(Write::Set, Occupant::Vacant, false).answer().is_ok());
    }

    #[test]
    fn occupants_lapse_at_their_own_instant() {
        assert_eq!(Occupant::of(true, 10, 10), Occupant::Vacant);
        assert_eq!(Occupant::of(true, 10, 9), Occupant::Tombstone);
        assert_eq!(Occupant::of(false, i64::MIN, 0), Occupant::Vacant);
    }
}
