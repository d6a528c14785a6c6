//! Rule 6 at every page edge: `length` and `all` stay exact one short of,
//! at, and one past each page or batch size, and `clear` empties a store
//! that spans several pages.

use std::collections::{BTreeSet, HashSet};

use session_core::{SessionId, Store};

use crate::harness::*;

/// The page and batch sizes of this project's backends: Redis' `SCAN`
/// count (100), SQL's and CouchDB's pages (500), PouchDbStore's clear (1000).
pub(crate) const PAGE_SIZES: [usize; 3] = [100, 500, 1000];

/// Every count one short of, at and one past each page size, ascending.
fn edges(declared: &[usize]) -> BTreeSet<usize> {
    PAGE_SIZES
        .iter()
        .chain(declared)
        .filter(|&&size| size >= 2)
        .flat_map(|&size| [size - 1, size, size + 1])
        .collect()
}

pub(crate) async fn length_and_all_exact_at_page_edges(ctx: Ctx) -> Outcome {
    let store = ctx.store().await;
    let store: &dyn Store = &*store;
    let mut written: Vec<SessionId> = Vec::new();
    for edge in edges(&ctx.capabilities().page_sizes) {
        let more: Vec<SessionId> = (written.len()..edge).map(|_| id()).collect();
        concurrently(more.clone(), |id| async move {
            store.set(&id, &tagged(&id)).await.ok_or_fail("set")
        })
        .await?;
        written.extend(more);
        let expected: HashSet<&SessionId> = written.iter().collect();
        expect_exactly(store, &expected, &format!("{edge} sessions")).await?;
    }
    store.clear().await.ok_or_fail("clear")?;
    expect_length(store, 0, &format!("after clearing {} sessions", written.len())).await?;
    ensure!(
        store.all().await.ok_or_fail("all")?.is_empty(),
        "all() after clearing {} sessions is not empty",
        written.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_surround_every_page_size_once() {
        let edges: Vec<usize> = edges(&[250, 500, 1]).into_iter().collect();
        assert_eq!(
            edges,
            [99, 100, 101, 249, 250, 251, 499, 500, 501, 999, 1000, 1001]
        );
    }
}
