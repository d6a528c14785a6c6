//! The requests the store sends, through the couch_rs client (its base URL,
//! credentials and JSON headers), with status codes turned into outcomes.
//!
//! Raw requests are used where couch_rs' typed calls do not fit: it cannot
//! parse some replies of CouchDB-compatible servers, and the store needs the
//! exact status (201 vs 409) and the raw bytes of `data`. couch_rs puts the
//! whole request URL (the session id, and credentials if the app's client
//! has them in its URL) in a `Referer` header: every request here goes out
//! without it.
//!
//! Every request but the continuous feed carries the store's timeout
//! (reqwest's own, which covers the whole body), so no request outlasts it,
//! whoever sends it: the purge, `clear` and the builder rely on that. Store
//! calls bound their whole run on top.

use std::{collections::HashMap, time::Duration};

use bytes::Bytes;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header::REFERER};
use session_core::Error;

use crate::{
    doc_path::path,
    errors::{from_reqwest, unexpected},
};

/// Outcome of a write that names a revision.
pub(crate) enum PutOutcome {
    /// Stored under this new revision.
    Rev(String),
    /// The revision was not the current one (HTTP 409).
    Conflict,
}

#[derive(Clone)]
pub(crate) struct Couch {
    pub(crate) client: couch_rs::Client,
    pub(crate) db: String,
    pub(crate) timeout: Duration,
}

impl Couch {
    /// A request to `path`, through couch_rs (its base URL, credentials and
    /// JSON headers) but without its `Referer`.
    fn req(
        &self,
        method: Method,
        path: &str,
        query: Option<&HashMap<String, String>>,
    ) -> Result<RequestBuilder, Error> {
        let (client, request) = self.client.req(method, path, query).build_split();
        let mut request = request.map_err(|e| from_reqwest(e, self.timeout))?;
        request.headers_mut().remove(REFERER);
        Ok(RequestBuilder::from_parts(client, request))
    }

    /// Sends a request made by [`req`](Self::req), bounded by the store's
    /// timeout, and reads its whole body.
    async fn send(&self, request: RequestBuilder) -> Result<(StatusCode, Bytes), Error> {
        let response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| from_reqwest(e, self.timeout))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| from_reqwest(e, self.timeout))?;
        Ok((status, body))
    }

    /// The document `doc_id`, if it exists (deleted documents do not).
    pub(crate) async fn get(&self, doc_id: &str) -> Result<Option<Bytes>, Error> {
        match self
            .send(self.req(Method::GET, &path(&self.db, doc_id), None)?)
            .await?
        {
            (StatusCode::OK, body) => Ok(Some(body)),
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, body) => Err(unexpected("GET document", status, &body, Some(doc_id))),
        }
    }

    /// Every leaf revision of a document, deleted ones included, each with
    /// its body: the JSON array `[{"ok": {...}}, ...]` (`None` when the id
    /// never held a document).
    pub(crate) async fn leaves(&self, doc_id: &str) -> Result<Option<Bytes>, Error> {
        let query = HashMap::from([("open_revs".to_owned(), "all".to_owned())]);
        let request = self
            .req(Method::GET, &path(&self.db, doc_id), Some(&query))?
            // Without it CouchDB answers multipart.
            .header(reqwest::header::ACCEPT, "application/json");
        match self.send(request).await? {
            (StatusCode::OK, body) => Ok(Some(body)),
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, body) => Err(unexpected("GET open_revs", status, &body, Some(doc_id))),
        }
    }

    /// Revision `rev` of a document, deleted or not, with its revision
    /// history (`_revisions`) when `history`; `None` if the server does not
    /// have it.
    pub(crate) async fn revision(
        &self,
        doc_id: &str,
        rev: &str,
        history: bool,
    ) -> Result<Option<Bytes>, Error> {
        let query = HashMap::from([
            ("rev".to_owned(), rev.to_owned()),
            ("revs".to_owned(), history.to_string()),
        ]);
        match self
            .send(self.req(Method::GET, &path(&self.db, doc_id), Some(&query))?)
            .await?
        {
            (StatusCode::OK, body) => Ok(Some(body)),
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, body) => Err(unexpected("GET revision", status, &body, Some(doc_id))),
        }
    }

    /// Up to `limit` entries of the `_changes` feed after `since`, with
    /// the documents (deleted ones with the body they were deleted with).
    pub(crate) async fn changes_page(&self, since: &str, limit: usize) -> Result<Bytes, Error> {
        let query = HashMap::from([
            ("include_docs".to_owned(), "true".to_owned()),
            ("since".to_owned(), since.to_owned()),
            ("limit".to_owned(), limit.to_string()),
        ]);
        let path = format!("/{}/_changes", self.db);
        match self.send(self.req(Method::GET, &path, Some(&query))?).await? {
            (StatusCode::OK, body) => Ok(body),
            (status, body) => Err(unexpected("GET _changes", status, &body, None)),
        }
    }

    /// Writes a document body (which names its `_rev`, if any).
    pub(crate) async fn put(&self, doc_id: &str, body: Vec<u8>) -> Result<PutOutcome, Error> {
        let request = self.req(Method::PUT, &path(&self.db, doc_id), None)?.body(body);
        written(self.send(request).await?, "PUT document", doc_id)
    }

    /// Deletes revision `rev` of a document.
    pub(crate) async fn delete(&self, doc_id: &str, rev: &str) -> Result<PutOutcome, Error> {
        let query = HashMap::from([("rev".to_owned(), rev.to_owned())]);
        let request = self.req(Method::DELETE, &path(&self.db, doc_id), Some(&query))?;
        match self.send(request).await? {
            (StatusCode::NOT_FOUND, _) => Ok(PutOutcome::Conflict),
            other => written(other, "DELETE document", doc_id),
        }
    }

    /// A page of `_all_docs` (with their bodies if `docs`) whose ids start
    /// with `prefix` (every id when it is empty), starting after the key
    /// `after` (exclusive), given as the JSON text the server sent it in.
    pub(crate) async fn all_docs(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        docs: bool,
    ) -> Result<Bytes, Error> {
        // Start at the last key seen and skip it: correct under any collation.
        let mut query = HashMap::from([
            ("include_docs".to_owned(), docs.to_string()),
            ("limit".to_owned(), limit.to_string()),
        ]);
        let start = after
            .map(str::to_owned)
            .or_else(|| (!prefix.is_empty()).then(|| json(prefix)));
        if let Some(start) = start {
            query.insert("startkey".to_owned(), start);
        }
        if !prefix.is_empty() {
            query.insert("endkey".to_owned(), json(&format!("{prefix}\u{fff0}")));
        }
        if after.is_some() {
            query.insert("skip".to_owned(), "1".to_owned());
        }
        let path = format!("/{}/_all_docs", self.db);
        match self.send(self.req(Method::GET, &path, Some(&query))?).await? {
            (StatusCode::OK, body) => Ok(body),
            (status, body) => Err(unexpected("GET _all_docs", status, &body, None)),
        }
    }

    /// POSTs JSON to a database endpoint (`_find`, `_bulk_docs`, `_index`,
    /// `_compact`).
    pub(crate) async fn post(&self, endpoint: &str, body: &impl serde::Serialize) -> Result<Bytes, Error> {
        let path = format!("/{}/{endpoint}", self.db);
        let body = serde_json::to_vec(body).map_err(|e| Error::Encode(Box::new(e)))?;
        let request = self.req(Method::POST, &path, None)?.body(body);
        match self.send(request).await? {
            (status, body) if status.is_success() => Ok(body),
            (status, body) => Err(unexpected(endpoint, status, &body, None)),
        }
    }

    /// Creates the database unless it exists.
    pub(crate) async fn ensure_database(&self) -> Result<(), Error> {
        match self
            .send(self.req(Method::PUT, &format!("/{}", self.db), None)?)
            .await?
        {
            (status, _) if status.is_success() || status == StatusCode::PRECONDITION_FAILED => Ok(()),
            (status, body) => Err(unexpected("PUT database", status, &body, None)),
        }
    }

    /// The database's current `update_seq`, as text (`None` if it is missing).
    pub(crate) async fn update_seq(&self) -> Result<Option<String>, Error> {
        match self
            .send(self.req(Method::GET, &format!("/{}", self.db), None)?)
            .await?
        {
            (StatusCode::OK, body) => {
                let info: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| Error::Backend(Box::new(e)))?;
                Ok(info.get("update_seq").map(|seq| match seq {
                    serde_json::Value::String(seq) => seq.clone(),
                    other => other.to_string(),
                }))
            }
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, body) => Err(unexpected("GET database", status, &body, None)),
        }
    }

    /// Whether the database exists.
    pub(crate) async fn database_exists(&self) -> Result<bool, Error> {
        match self
            .send(self.req(Method::GET, &format!("/{}", self.db), None)?)
            .await?
        {
            (StatusCode::OK, _) => Ok(true),
            (StatusCode::NOT_FOUND, _) => Ok(false),
            (status, body) => Err(unexpected("GET database", status, &body, None)),
        }
    }

    /// Opens the continuous `_changes` feed, with documents, from `since`;
    /// returns once the server has answered (its body streams on).
    pub(crate) async fn changes(&self, since: &str, heartbeat: Duration) -> Result<Response, Error> {
        let query = HashMap::from([
            ("feed".to_owned(), "continuous".to_owned()),
            ("include_docs".to_owned(), "true".to_owned()),
            ("since".to_owned(), since.to_owned()),
            ("heartbeat".to_owned(), heartbeat.as_millis().to_string()),
        ]);
        // Not `send`: the feed stays open for good, so it has no timeout
        // (its caller bounds the opening, and its silences).
        let response = self
            .req(Method::GET, &format!("/{}/_changes", self.db), Some(&query))?
            // A compressed continuous feed can be held back by the server.
            .header(reqwest::header::ACCEPT_ENCODING, "identity")
            .send()
            .await
            .map_err(|e| from_reqwest(e, self.timeout))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        Err(unexpected("GET _changes", status, &body, None))
    }
}

fn written((status, body): (StatusCode, Bytes), what: &str, doc_id: &str) -> Result<PutOutcome, Error> {
    #[derive(serde::Deserialize)]
    struct Reply {
        rev: String,
    }
    match status {
        StatusCode::CREATED | StatusCode::ACCEPTED | StatusCode::OK => serde_json::from_slice::<Reply>(&body)
            .map(|reply| PutOutcome::Rev(reply.rev))
            .map_err(|e| Error::Backend(Box::new(e))),
        StatusCode::CONFLICT => Ok(PutOutcome::Conflict),
        status => Err(unexpected(what, status, &body, Some(doc_id))),
    }
}

fn json(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
