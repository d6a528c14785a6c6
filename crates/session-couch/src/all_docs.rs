//! Pages of `_all_docs`: how both layouts read every session, for
//! `all_stream` and `length`, and find every document `clear` deletes.
//!
//! Each row is read on its own, its id kept as the JSON text the server
//! sent: an id no Rust string can hold (a lone surrogate, which the server
//! keeps) spoils only what needs it as a string, never the page.

use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Error, Result};

use crate::{bulk::IdRev, http::Couch};

/// Documents per `_all_docs` page.
pub(crate) const PAGE: usize = 500;

/// Where the next page starts: after this key, as the JSON text the server
/// sent it in; `None` for the first page. Kept as JSON so that paging goes
/// on past an id no Rust string can hold (a lone surrogate, which the
/// server keeps).
pub(crate) type After = Option<String>;

/// A page of `_all_docs`, with the documents or without.
#[derive(Deserialize)]
struct AllDocs<'a> {
    #[serde(borrow)]
    rows: Vec<Row<'a>>,
}

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    #[serde(default)]
    value: Option<Rev>,
    #[serde(borrow, default)]
    doc: Option<&'a RawValue>,
}

/// A row's value: the document's revision.
#[derive(Deserialize)]
struct Rev {
    rev: String,
}

/// One document of a page: its id as the server sent it, and its body.
pub(crate) struct Doc<'a> {
    id: &'a RawValue,
    pub(crate) raw: &'a [u8],
}

impl Doc<'_> {
    /// The document's id.
    ///
    /// # Errors
    /// [`Error::Decode`] for an id no Rust string can hold.
    pub(crate) fn id(&self) -> Result<String> {
        id_string(self.id)
    }
}

/// A document id the server sent, as a string.
///
/// # Errors
/// [`Error::Decode`] for an id no Rust string can hold.
pub(crate) fn id_string(id: &RawValue) -> Result<String> {
    serde_json::from_str(id.get()).map_err(|e| Error::Decode(Box::new(e)))
}

/// The first `limit` documents whose ids start with `prefix`, without their
/// bodies: what `clear` deletes, a round at a time.
pub(crate) async fn first(couch: &Couch, prefix: &str, limit: usize) -> Result<Vec<IdRev>> {
    let body = couch.all_docs(prefix, None, limit, false).await?;
    let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Backend(Box::new(e)))?;
    let found = page.rows.into_iter().filter_map(|row| {
        let rev = row.value?.rev;
        Some(IdRev {
            id: row.id.to_owned(),
            rev,
        })
    });
    Ok(found.collect())
}

/// Calls `each` with every document of the page of `_all_docs` whose ids
/// start with `prefix`, after `after`; returns where the next page starts,
/// if one may follow.
pub(crate) async fn each_doc(
    couch: &Couch,
    prefix: &str,
    after: Option<&str>,
    mut each: impl FnMut(Doc<'_>),
) -> Result<Option<After>> {
    let body = couch.all_docs(prefix, after, PAGE, true).await?;
    let page: AllDocs<'_> = serde_json::from_slice(&body).map_err(|e| Error::Decode(Box::new(e)))?;
    for row in &page.rows {
        if let Some(doc) = row.doc {
            each(Doc {
                id: row.id,
                raw: doc.get().as_bytes(),
            });
        }
    }
    let last = page.rows.last().map(|row| row.id.get().to_owned());
    Ok((page.rows.len() == PAGE).then_some(last))
}

/// How many documents whose ids start with `prefix` `counts` says to count,
/// over every page.
pub(crate) async fn count(
    couch: &Couch,
    prefix: &str,
    mut counts: impl FnMut(Doc<'_>) -> bool,
) -> Result<u64> {
    let mut after: After = None;
    let mut counted = 0;
    loop {
        let next = each_doc(couch, prefix, after.as_deref(), |doc| {
            counted += u64::from(counts(doc));
        })
        .await?;
        match next {
            Some(next) => after = next,
            None => return Ok(counted),
        }
    }
}
