//! The loop behind every backend's `all_stream`: fetch a page, yield its
//! sessions one by one, fetch the next, stop at the end or at an error.

use std::collections::VecDeque;

use futures_util::stream;

use crate::{Result, Session, SessionId, SessionStream};

/// One page of a bulk read.
#[derive(Debug)]
pub struct Page<C> {
    /// The page's sessions (or per-session errors), in the order to yield them.
    pub items: Vec<Result<(SessionId, Session)>>,
    /// Where the next page starts; `None` when this page was the last.
    pub next: Option<C>,
}

impl<C> Page<C> {
    /// The page after the last one: nothing more to yield.
    pub fn end() -> Self {
        Self {
            items: Vec::new(),
            next: None,
        }
    }
}

/// Streams sessions page by page: `fetch(cursor)` reads one page starting at
/// `cursor`. Only one page is held at a time; an error is yielded once and
/// ends the stream.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use futures_util::StreamExt as _;
/// use session_core::{Session, SessionId, backend::{Page, paged}};
///
/// // Three pages of two sessions, the cursor being the page number.
/// let stream = paged(0u32, |page| async move {
///     let items = (0..2)
///         .map(|i| Ok((SessionId::parse(&format!("p{page}-{i}")).unwrap(), Session::new())))
///         .collect();
///     Ok(Page { items, next: (page < 2).then_some(page + 1) })
/// });
/// assert_eq!(stream.count().await, 6);
/// # }
/// ```
pub fn paged<'a, C, F, Fut>(first: C, fetch: F) -> SessionStream<'a>
where
    C: Send + 'a,
    F: FnMut(C) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<C>>> + Send + 'a,
{
    let state = (Some(first), VecDeque::new(), fetch);
    Box::pin(stream::unfold(
        state,
        |(mut cursor, mut batch, mut fetch)| async move {
            loop {
                if let Some(item) = batch.pop_front() {
                    return Some((item, (cursor, batch, fetch)));
                }
                match fetch(cursor.take()?).await {
                    Ok(page) => {
                        batch = page.items.into();
                        cursor = page.next;
                    }
                    Err(error) => return Some((Err(error), (None, batch, fetch))),
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use futures_util::StreamExt as _;

    #[tokio::test]
    async fn empty_pages_are_skipped_and_errors_end_the_stream() {
        let stream = paged(0u32, |page| async move {
            match page {
                0 | 1 => Ok(Page {
                    items: Vec::new(),
                    next: Some(page + 1),
                }),
                2 => Ok(Page {
                    items: vec![Ok((SessionId::generate(), Session::new()))],
                    next: Some(3),
                }),
                _ => Err(Error::Backend("down".into())),
            }
        });
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok() && matches!(items[1], Err(Error::Backend(_))));
    }
}
