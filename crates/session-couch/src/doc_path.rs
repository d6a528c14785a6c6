//! Where a document lives in the server's URL space. Kept apart from the
//! requests so that error scrubbing can name an id as the server echoes it
//! without depending on the HTTP layer.

/// A document id as one percent-encoded path segment.
pub(crate) fn encode_id(doc_id: &str) -> String {
    percent_encoding::utf8_percent_encode(doc_id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The path of a document: the database, then the percent-encoded id.
pub(crate) fn path(db: &str, doc_id: &str) -> String {
    format!("/{db}/{}", encode_id(doc_id))
}
