//! `all_stream`, `length` and `clear`: a SCAN of every primary, page by
//! page, then single-key commands for each page (pipelined by fred). What
//! each key counts as is [`slot`]'s rule; `length` counts the very items
//! `all_stream` yields, so the two always agree.

use bytes::Bytes;
use fred::{interfaces::KeysInterface, types::Key};
use session_core::{
    InvalidId, Result, SessionId, SessionStream,
    backend::{Page, paged},
};

use crate::{
    Layout, RedisStore, error,
    scan::CheckedScan,
    slot::{self, Item},
};

pub(crate) fn all_stream(store: &RedisStore) -> SessionStream<'_> {
    let connection = &store.settings().connection;
    paged(None::<CheckedScan>, move |scan| async move {
        let mut scan = match scan {
            Some(scan) => scan,
            None => start(store).await?,
        };
        let Some(keys) = scan.next_page(connection).await? else {
            return Ok(Page::end());
        };
        let items = items(store, &keys).await?;
        Ok(Page {
            items,
            next: Some(Some(scan)),
        })
    })
}

/// A scan of every key of the namespace, of any Redis type: a key of
/// another type counts too (see [`slot`]).
async fn start(store: &RedisStore) -> Result<CheckedScan> {
    let settings = store.settings();
    CheckedScan::start(
        &settings.connection,
        settings.namespace.pattern(),
        None,
        settings.scan_count,
        settings.timeout,
    )
    .await
}

/// The items of one page of keys: a session, or an error for a record that
/// counts but cannot be read, for every key [`slot::item`] counts.
async fn items(store: &RedisStore, keys: &[Key]) -> Result<Vec<Item>> {
    let settings = store.settings();
    let (keys, names) = own(store, keys);
    let client = settings.connection.client();
    let values: Vec<Result<Option<Bytes>>> = store
        .call()
        .each_key(&keys, |key| async move { error::per_key(client.get(key).await) })
        .await?;
    let ttls: Vec<i64> = match settings.layout {
        // The native expiry is in the value.
        Layout::Native => vec![0; keys.len()],
        _ => store.call().each_key(&keys, |key| client.pttl(key)).await?,
    };
    let now = settings.clock.now();
    let default_ttl = settings.lifetimes.default_ttl();
    let judge = |value: Option<Bytes>, ttl| match value {
        Some(value) => settings
            .layout
            .session(&*settings.codec, &value, ttl, now, default_ttl),
        None => Ok(None),
    };
    Ok(names
        .into_iter()
        .zip(values)
        .zip(ttls)
        .filter_map(|((name, value), ttl)| slot::item(name, value.and_then(|value| judge(value, ttl))))
        .collect())
}

pub(crate) async fn length(store: &RedisStore) -> Result<u64> {
    let mut scan = start(store).await?;
    let connection = &store.settings().connection;
    let mut counted = 0;
    while let Some(keys) = scan.next_page(connection).await? {
        counted += items(store, &keys).await?.len() as u64;
    }
    Ok(counted)
}

/// Removes every key of the namespace: each is a session, a tombstone, an
/// expired record or one that counts unread (see [`slot`]).
pub(crate) async fn clear(store: &RedisStore) -> Result<()> {
    let mut scan = start(store).await?;
    let connection = &store.settings().connection;
    let client = connection.client();
    while let Some(keys) = scan.next_page(connection).await? {
        let (keys, _) = own(store, &keys);
        store
            .call()
            .each_key::<(), _>(&keys, |key| client.unlink(key))
            .await?;
    }
    Ok(())
}

/// The keys that belong to this namespace (SCAN's pattern can match more),
/// with their names.
fn own(store: &RedisStore, keys: &[Key]) -> (Vec<Key>, Vec<std::result::Result<SessionId, InvalidId>>) {
    let namespace = &store.settings().namespace;
    keys.iter()
        .filter_map(|key| Some((key.clone(), namespace.name_of(key)?)))
        .unzip()
}
