//! `all_stream`, `length` and `clear`: a SCAN of every primary, page by
//! page, then single-key commands for each page (pipelined by fred).

use bytes::Bytes;
use fred::{error::Error as FredError, interfaces::KeysInterface, types::Key};
use futures_util::future::try_join_all;
use session_core::{
    Result, Session, SessionId, SessionStream,
    backend::{Page, paged},
};

use crate::{Layout, RedisStore, record, scan::KeyScan, topology::SlotLayout};

/// Where a streamed scan stands: its key scan, and the slot layout it began with.
struct Cursor {
    scan: KeyScan,
    slots: SlotLayout,
}

pub(crate) fn all_stream(store: &RedisStore) -> SessionStream<'_> {
    paged(None::<Cursor>, move |cursor| async move {
        let Cursor { mut scan, slots } = match cursor {
            Some(cursor) => cursor,
            None => start(store).await?,
        };
        let Some(keys) = scan.next_page().await? else {
            slots.still_holds(scan.client(), &store.call()).await?;
            return Ok(Page::end());
        };
        let items = sessions(store, &keys).await?;
        Ok(Page {
            items,
            next: Some(Some(Cursor { scan, slots })),
        })
    })
}

async fn start(store: &RedisStore) -> Result<Cursor> {
    let settings = store.settings();
    let scan = KeyScan::new(
        settings.connection.client().clone(),
        settings.namespace.pattern(),
        settings.scan_count,
        settings.timeout,
    )?;
    let slots = SlotLayout::read(scan.client(), &store.call()).await?;
    Ok(Cursor { scan, slots })
}

/// The live sessions among `keys`, paired with their ids. Keys of other
/// namespaces and values this store did not write are skipped; a record of
/// ours that does not decode is an error item.
async fn sessions(store: &RedisStore, keys: &[Key]) -> Result<Vec<Result<(SessionId, Session)>>> {
    let settings = store.settings();
    let client = settings.connection.client();
    let values: Vec<Option<Bytes>> = each_key(store, keys, |key| client.get(key)).await?;
    let ttls: Vec<i64> = match settings.layout {
        // The native expiry is in the value.
        Layout::Native => vec![0; keys.len()],
        _ => each_key(store, keys, |key| client.pttl(key)).await?,
    };
    let now = settings.clock.now();
    let default_ttl = settings.lifetimes.default_ttl();
    Ok(keys
        .iter()
        .zip(values)
        .zip(ttls)
        .filter_map(|((key, value), ttl)| {
            let id = settings.namespace.id_of(key)?;
            let value = value.filter(|value| settings.layout.is_session(value))?;
            let session = settings
                .layout
                .session(&*settings.codec, &value, ttl, now, default_ttl)
                .transpose()?;
            Some(session.map(|session| (id, session)))
        })
        .collect())
}

pub(crate) async fn length(store: &RedisStore) -> Result<u64> {
    if store.settings().layout != Layout::Native {
        return count_all(store).await;
    }
    let Cursor { mut scan, slots } = start(store).await?;
    let client = store.settings().connection.client();
    let mut live = 0;
    while let Some(keys) = scan.next_page().await? {
        let keys = own(store, keys);
        let headers: Vec<Bytes> = each_key(store, &keys, |key| {
            client.getrange(key, 0, record::HEADER_LEN - 1)
        })
        .await?;
        let now = store.settings().clock.now();
        live += headers
            .iter()
            .filter(|header| record::is_live_at(header, now))
            .count() as u64;
    }
    slots.still_holds(scan.client(), &store.call()).await?;
    Ok(live)
}

pub(crate) async fn clear(store: &RedisStore) -> Result<()> {
    let Cursor { mut scan, slots } = start(store).await?;
    let client = store.settings().connection.client();
    while let Some(keys) = scan.next_page().await? {
        let keys = own(store, keys);
        let layout = store.settings().layout;
        // The native kind byte is enough; Node's values are read whole.
        let heads: Vec<Option<Bytes>> = match layout {
            Layout::Native => each_key(store, &keys, |key| client.getrange(key, 0, 0)).await?,
            _ => each_key(store, &keys, |key| client.get(key)).await?,
        };
        let ours: Vec<Key> = keys
            .into_iter()
            .zip(heads)
            .filter(|(_, head)| head.as_deref().is_some_and(|head| layout.is_ours(head)))
            .map(|(key, _)| key)
            .collect();
        each_key::<(), _>(store, &ours, |key| client.unlink(key)).await?;
    }
    slots.still_holds(scan.client(), &store.call()).await
}

/// The live sessions, counted by reading them all (Node's layouts have no
/// header that tells a live session from a glance).
async fn count_all(store: &RedisStore) -> Result<u64> {
    use futures_util::StreamExt as _;
    let mut sessions = all_stream(store);
    let mut live = 0;
    while let Some(item) = sessions.next().await {
        item?;
        live += 1;
    }
    Ok(live)
}

/// The keys that belong to this namespace (SCAN's pattern can match more).
fn own(store: &RedisStore, keys: Vec<Key>) -> Vec<Key> {
    let namespace = &store.settings().namespace;
    keys.into_iter()
        .filter(|key| namespace.id_of(key).is_some())
        .collect()
}

/// Runs `per_key` on every key of a page at once (fred pipelines them),
/// within one call's timeout.
async fn each_key<T, F>(store: &RedisStore, keys: &[Key], per_key: impl Fn(Key) -> F) -> Result<Vec<T>>
where
    F: Future<Output = Result<T, FredError>>,
{
    store
        .call()
        .read(try_join_all(keys.iter().cloned().map(per_key)))
        .await
}
