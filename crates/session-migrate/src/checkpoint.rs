//! A checkpoint kept in a file, so a migration killed midway resumes in a
//! new process without asking the target about what it already settled.

use std::{
    collections::HashSet,
    fmt,
    fs::{File, OpenOptions},
    io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _},
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use session_core::{Error, Result, SessionId, migrate::Checkpoint};
use sha2::{Digest as _, Sha256};

/// The file's first bytes: what it is, and its format's version.
const MAGIC: &[u8; 8] = b"SMCKPT01";
/// Bytes of the job fingerprint after the magic.
const JOB_LEN: usize = 32;
/// Bytes per settled session.
const MARK_LEN: usize = 16;
/// Marks buffered before they are written out, so a killed process loses
/// at most this many (each costing the resume one refused `create`).
const WRITE_EVERY: usize = 256;

/// A [`Checkpoint`] in a file: a header naming the migration, then one
/// 16-byte mark per settled session.
///
/// * **No ids on disk.** A mark is the first 16 bytes of SHA-256 over the
///   migration's fingerprint and the id: it tells whether an id was settled,
///   but an id cannot be read back from it. (16 bytes make two ids sharing
///   a mark, which would skip one, vanishingly unlikely: about 10⁻²⁶ at a
///   million sessions.)
/// * **One migration per file.** The header holds a fingerprint of the
///   `job` string given to [`open`](Self::open) (the CLI passes both sides'
///   URLs and namespaces); opening the file for another job is refused
///   instead of skipping sessions that were never copied there.
/// * **Memory.** The marks are held in a set: about 40 bytes per settled
///   session (40 MB at a million), the price of the skip; without a
///   checkpoint a resume simply asks the target.
/// * **Crashes.** Marks are written every 256 sessions and when the run
///   ends; a partial mark left by a kill is dropped when the file is opened.
pub struct FileCheckpoint {
    path: PathBuf,
    job: [u8; JOB_LEN],
    state: Mutex<State>,
}

struct State {
    done: HashSet<[u8; MARK_LEN]>,
    file: BufWriter<File>,
    unwritten: usize,
}

impl fmt::Debug for FileCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCheckpoint")
            .field("path", &self.path)
            .field("done", &self.len())
            .finish()
    }
}

impl FileCheckpoint {
    /// Opens the checkpoint at `path` for `job`, creating it if missing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the file belongs to another job or is not
    /// a checkpoint; [`Error::Backend`] when it cannot be read or written.
    ///
    /// ```
    /// use session_core::{SessionId, migrate::Checkpoint};
    /// use session_migrate::FileCheckpoint;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-{}.ckpt", std::process::id()));
    /// let id = SessionId::generate();
    /// let checkpoint = FileCheckpoint::open(&path, "redis://a -> postgres://b")?;
    /// checkpoint.mark_done(&id)?;
    /// checkpoint.flush()?;
    /// drop(checkpoint);
    /// assert!(FileCheckpoint::open(&path, "redis://a -> postgres://b")?.is_done(&id));
    /// assert!(FileCheckpoint::open(&path, "redis://a -> mysql://c").is_err());
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn open(path: &Path, job: &str) -> Result<Self> {
        let io = |e: std::io::Error| Error::Backend(format!("checkpoint {}: {e}", path.display()).into());
        let job_print: [u8; JOB_LEN] = Sha256::digest(job.as_bytes()).into();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let header = MAGIC.len() + JOB_LEN;
        let mut done = HashSet::new();
        if bytes.is_empty() {
            file.write_all(MAGIC).map_err(io)?;
            file.write_all(&job_print).map_err(io)?;
        } else if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::InvalidInput(format!(
                "{} is not a session-migrate checkpoint",
                path.display()
            )));
        } else if bytes[MAGIC.len()..header] != job_print {
            return Err(Error::InvalidInput(format!(
                "the checkpoint {} belongs to another migration (other source or target): \
                 give another file, or delete it (a rerun without it is safe, only slower)",
                path.display()
            )));
        } else {
            let marks = &bytes[header..];
            let whole = marks.len() - marks.len() % MARK_LEN;
            if whole < marks.len() {
                // A mark cut short by a kill: drop it so later marks line up.
                file.set_len((header + whole) as u64).map_err(io)?;
                file.seek(SeekFrom::End(0)).map_err(io)?;
            }
            for mark in marks[..whole].chunks_exact(MARK_LEN) {
                let mut entry = [0; MARK_LEN];
                entry.copy_from_slice(mark);
                done.insert(entry);
            }
        }
        Ok(Self {
            path: path.to_owned(),
            job: job_print,
            state: Mutex::new(State {
                done,
                file: BufWriter::new(file),
                unwritten: 0,
            }),
        })
    }

    /// How many sessions are marked done.
    pub fn len(&self) -> usize {
        self.lock().done.len()
    }

    /// Whether no session is marked done.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn mark(&self, id: &SessionId) -> [u8; MARK_LEN] {
        let digest = Sha256::new()
            .chain_update(self.job)
            .chain_update(id.as_str().as_bytes())
            .finalize();
        let mut mark = [0; MARK_LEN];
        mark.copy_from_slice(&digest[..MARK_LEN]);
        mark
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves at worst an unwritten mark.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::Backend(format!("checkpoint {}: {e}", self.path.display()).into())
    }
}

impl Checkpoint for FileCheckpoint {
    fn is_done(&self, id: &SessionId) -> bool {
        let mark = self.mark(id);
        self.lock().done.contains(&mark)
    }

    fn mark_done(&self, id: &SessionId) -> Result<()> {
        let mark = self.mark(id);
        let mut state = self.lock();
        if !state.done.insert(mark) {
            return Ok(());
        }
        state.file.write_all(&mark).map_err(|e| self.io(e))?;
        state.unwritten += 1;
        if state.unwritten >= WRITE_EVERY {
            state.file.flush().map_err(|e| self.io(e))?;
            state.unwritten = 0;
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        let mut state = self.lock();
        state.file.flush().map_err(|e| self.io(e))?;
        state.file.get_ref().sync_data().map_err(|e| self.io(e))?;
        state.unwritten = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("session-migrate-{name}-{}.ckpt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn marks_survive_reopening_and_a_torn_mark_is_dropped() {
        let path = temp("torn");
        let ids: Vec<SessionId> = (0..600).map(|_| SessionId::generate()).collect();
        {
            let checkpoint = FileCheckpoint::open(&path, "job").unwrap();
            for id in &ids {
                checkpoint.mark_done(id).unwrap();
            }
            checkpoint.flush().unwrap();
        }
        // A kill in the middle of a write.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[1, 2, 3]).unwrap();
        drop(file);

        let checkpoint = FileCheckpoint::open(&path, "job").unwrap();
        assert_eq!(checkpoint.len(), 600);
        assert!(ids.iter().all(|id| checkpoint.is_done(id)));
        let late = SessionId::generate();
        checkpoint.mark_done(&late).unwrap();
        checkpoint.flush().unwrap();
        drop(checkpoint);
        let checkpoint = FileCheckpoint::open(&path, "job").unwrap();
        assert!(checkpoint.is_done(&late), "marks after the torn one line up");
        assert_eq!(checkpoint.len(), 601);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn no_id_is_written_and_other_files_are_refused() {
        let path = temp("secret");
        let id = SessionId::generate();
        let checkpoint = FileCheckpoint::open(&path, "job").unwrap();
        checkpoint.mark_done(&id).unwrap();
        checkpoint.flush().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(8).any(|w| w == &id.as_str().as_bytes()[..8]));
        assert!(!format!("{checkpoint:?}").contains(id.as_str()));
        assert!(FileCheckpoint::open(&path, "another job").is_err());
        std::fs::write(&path, b"not a checkpoint at all, just text").unwrap();
        assert!(FileCheckpoint::open(&path, "job").is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
