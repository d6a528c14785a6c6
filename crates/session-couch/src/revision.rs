//! CouchDB's revision ids, `<generation>-<hash>`: the generation orders the
//! revisions of one document, for the cache (never go back to an older
//! one) and for telling which leaf wins.

/// The generation of a revision (`3-abc...` is 3; 0 if it does not read).
pub(crate) fn generation(rev: &str) -> u64 {
    rev.split_once('-').and_then(|(n, _)| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_parse() {
        assert_eq!(generation("12-abc"), 12);
        assert_eq!(generation("garbage"), 0);
    }
}
