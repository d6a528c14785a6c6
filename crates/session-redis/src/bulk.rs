//! `all_stream`, `length` and `clear`: a SCAN of every primary, page by
//! page, then single-key commands for each page (pipelined by fred).

use bytes::Bytes;
use fred::{interfaces::KeysInterface, types::Key};
use session_core::{
    Result, Session, SessionId, SessionStream,
    backend::{Page, paged},
};

use crate::{Layout, RedisStore, record, scan::CheckedScan};

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
        let items = sessions(store, &keys).await?;
        Ok(Page {
            items,
            next: Some(Some(scan)),
        })
    })
}

async fn start(store: &RedisStore) -> Result<CheckedScan> {
    let settings = store.settings();
    CheckedScan::start(
        &settings.connection,
        settings.namespace.pattern(),
        settings.scan_count,
        settings.timeout,
    )
    .await
}

/// The live sessions among `keys`, paired with their ids. Keys of other
/// namespaces and values this store did not write are skipped; a record of
/// ours that does not decode is an error item.
async fn sessions(store: &RedisStore, keys: &[Key]) -> Result<Vec<Result<(SessionId, Session)>>> {
    let settings = store.settings();
    let client = settings.connection.client();
    let values: Vec<Option<Bytes>> = store.call().each_key(keys, |key| client.get(key)).await?;
    let ttls: Vec<i64> = match settings.layout {
        // The native expiry is in the value.
        Layout::Native => vec![0; keys.len()],
        _ => store.call().each_key(keys, |key| client.pttl(key)).await?,
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
    let mut scan = start(store).await?;
    let connection = &store.settings().connection;
    let client = connection.client();
    let mut live = 0;
    while let Some(keys) = scan.next_page(connection).await? {
        let keys = own(store, keys);
        let headers: Vec<Bytes> = store
            .call()
            .each_key(&keys, |key| client.getrange(key, 0, record::HEADER_LEN - 1))
            .await?;
        let now = store.settings().clock.now();
        live += headers
            .iter()
            .filter(|header| record::is_live_at(header, now))
            .count() as u64;
    }
    Ok(live)
}

pub(crate) async fn clear(store: &RedisStore) -> Result<()> {
    let mut scan = start(store).await?;
    let connection = &store.settings().connection;
    let client = connection.client();
    while let Some(keys) = scan.next_page(connection).await? {
        let keys = own(store, keys);
        let layout = store.settings().layout;
        // The native kind byte is enough; Node's values are read whole.
        let heads: Vec<Option<Bytes>> = match layout {
            Layout::Native => {
                store
                    .call()
                    .each_key(&keys, |key| client.getrange(key, 0, 0))
                    .await?
            }
            _ => store.call().each_key(&keys, |key| client.get(key)).await?,
        };
        let ours: Vec<Key> = keys
            .into_iter()
            .zip(heads)
            .filter(|(_, head)| head.as_deref().is_some_and(|head| layout.is_ours(head)))
            .map(|(key, _)| key)
            .collect();
        store
            .call()
            .each_key::<(), _>(&ours, |key| client.unlink(key))
            .await?;
    }
    Ok(())
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
