//! A page of `_all_docs` with the documents: how both layouts read every
//! session, for `all_stream` and `length`.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Documents per `_all_docs` page.
pub(crate) const PAGE: usize = 500;

/// Where the next page starts: after this key; `None` for the first page.
pub(crate) type After = Option<String>;

/// A page of `_all_docs` with the documents.
#[derive(Deserialize)]
pub(crate) struct AllDocs<'a> {
    #[serde(borrow)]
    pub(crate) rows: Vec<Row<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct Row<'a> {
    pub(crate) id: String,
    #[serde(borrow, default)]
    pub(crate) doc: Option<&'a RawValue>,
}

impl AllDocs<'_> {
    /// Where the page after this one starts, if one may follow.
    pub(crate) fn next(&self) -> Option<After> {
        let last = self.rows.last().map(|row| row.id.clone());
        (self.rows.len() == PAGE).then_some(last)
    }
}
