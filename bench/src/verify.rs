//! The proof before any timing: each subject is filled the way its users
//! fill it, then a sample is read back from every subject and must be the
//! very data written. A subject that holds nothing, errs or returns other
//! data stops the run, named.

use futures_util::{StreamExt as _, stream};

use crate::subject::{Subjects, data};

/// How many writes a fill keeps in flight (a serial fill of CouchDB is slow).
const FILL_CONCURRENCY: usize = 16;
/// How many keys of each subject are read back.
const SAMPLE: usize = 100;

/// Fills every subject with keys `0..keys`.
pub async fn fill(backend: &str, subjects: &Subjects, keys: usize) -> Result<(), String> {
    for (name, subject) in subjects {
        let failures: Vec<String> = stream::iter(0..keys)
            .map(|key| async move { subject.fill(key).await.map_err(|e| format!("key {key}: {e}")) })
            .buffer_unordered(FILL_CONCURRENCY)
            .filter_map(|outcome| std::future::ready(outcome.err()))
            .take(1)
            .collect()
            .await;
        if let Some(failure) = failures.into_iter().next() {
            return Err(format!("{backend} / {name}: the fill failed at {failure}"));
        }
    }
    Ok(())
}

/// Reads a sample of keys back from every subject, through its plain read
/// and through the operation the benchmark times; returns how many reads
/// were checked.
pub async fn check(backend: &str, subjects: &Subjects, keys: usize) -> Result<usize, String> {
    let expected = data();
    let mut checked = 0;
    for (name, subject) in subjects {
        let fail = |key: usize, what: String| format!("{backend} / {name}: key {key}: {what}");
        for key in sample(keys) {
            match subject.read(key).await {
                Ok(Some(got)) if got == expected => {}
                Ok(Some(_)) => return Err(fail(key, "read back other data than was written".into())),
                Ok(None) => return Err(fail(key, "read back nothing".into())),
                Err(e) => return Err(fail(key, format!("the read failed: {e}"))),
            }
            subject
                .get(key)
                .await
                .map_err(|e| fail(key, format!("the timed get failed: {e}")))?;
            subject.after_read(key).map_err(|e| fail(key, e))?;
            checked += 1;
        }
    }
    Ok(checked)
}

/// Up to `SAMPLE` keys spread over `0..keys`, the last one included.
fn sample(keys: usize) -> Vec<usize> {
    let step = keys.div_ceil(SAMPLE).max(1);
    let mut keys: Vec<usize> = (0..keys).step_by(step).chain(keys.checked_sub(1)).collect();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn the_sample_spans_every_key_range() {
        assert_eq!(sample(0), Vec::<usize>::new());
        assert_eq!(sample(1), vec![0]);
        assert_eq!(sample(5), vec![0, 1, 2, 3, 4]);
        let big = sample(10_000);
        assert!(big.len() <= 101 && big.first() == Some(&0) && big.last() == Some(&9_999));
    }
}
