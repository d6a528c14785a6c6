//! The defects a reference store can carry, one per variant.

/// The defect a [`RefStore`](super::RefStore) carries; `None` is the correct store.
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
    /// Keeps the first 16 384 keys of a session, as some parsers and
    /// document stores limit them.
    KeysCappedAt16384,
    /// Cuts data keys to their first 4096 characters.
    TruncatesLongKeys,
    /// Parses floats as digits times a power of ten, both in `f64`.
    NaiveFloatParsing,
    /// Gives back `0.0` for `-0.0`, which `Value` equality cannot see.
    NegativeZeroBecomesZero,
    /// Stores data of any depth.
    AcceptsTooDeep,
    /// Refuses data nested `MAX_DEPTH` levels, one short of the limit.
    DepthLimitOffByOne,
    /// Deletes the old session before finding the new data too deep.
    TooDeepClobbersOld,
    /// Checks the depth in `set` only.
    CreateSkipsDepthCheck,
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
    /// Touch reads the session, lets others run, then writes back what it
    /// read under the new expiry: a racing `set` is lost.
    TouchWritesBackStaleData,
    DestroyKeepsLive,
    DestroyNotIdempotent,
    NoTombstone,
    SilentRefusal,
    TombstoneOnlyIfPresent,
    TombstoneNeverLapses,
    ZeroGraceStillTombstones,
    /// An LRU bound (from `Settings::capacity`) that counts tombstones with
    /// sessions and evicts them like sessions.
    CapacityEvictsTombstones,
    CreateOverwrites,
    CreateStoresNothing,
    ExpiredBlocksCreate,
    CreateKeepsExpired,
    SetChecksThenWrites,
    TouchChecksThenWrites,
    CreateChecksThenWrites,
    DropsPastCapacity,
    TornWrites,
    /// `get` serves what it read within the last few milliseconds, whatever
    /// was written since.
    StaleReadCache,
    TruncatesLongIds,
    DestroyGlobs,
    CaseInsensitiveIds,
    TrimsTrailingPunctuation,
    LengthCountsTombstones,
    LengthCountsExpired,
    /// Above a few dozen records, `length` counts every record, as a table
    /// statistic would: tombstones and expired sessions included.
    ApproximateLength,
    AllMispairsIds,
    AllIncludesExpired,
    /// `all` filters out expired sessions on its first page of 1000 only.
    AllFiltersFirstPageOnly,
    StreamRepeats,
    ClearKeepsTombstones,
    ClearIgnoresNamespace,
    IgnoresNamespace,
    /// Keeps every tombstone in one namespace shared by all stores.
    TombstonesShared,
    /// An `Encode` error that shows the data it refused.
    ErrorsLeakData,
    /// Strips the keys it reserves, and `cookie`, instead of refusing them.
    DropsReservedKeys,
    /// Keeps the first `max_id_len` bytes of a longer id instead of refusing it.
    TruncatesIdsToLimit,
    /// `length` counts one short when the count fills whole pages of
    /// [`ODD_PAGE`](super::ODD_PAGE).
    LengthWrongAtFullPage,
    /// `length` counts one too many when the count fills whole pages of
    /// 500, the page size of this project's SQL and CouchDB stores.
    LengthWrongAtFullPage500,
    /// Hands out versions but `set_if_unchanged` writes whatever it is
    /// given: whole-record last writer wins, undeclared.
    WholeRecordLastWriterWins,
    /// Compares versions, but `update` writes the request's whole session
    /// after a conflict instead of applying its changes to the latest.
    UpdateOverwritesOnConflict,
    /// After a conflict, `update` merges each changed value into the
    /// latest one field by field (arrays appended) instead of replacing it.
    UpdateMergesNestedValues,
    /// `set_if_unchanged` takes a tombstoned or vanished id as unchanged
    /// and writes: a destroyed session comes back.
    ConditionalWriteResurrects,
}
