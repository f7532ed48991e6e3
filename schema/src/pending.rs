//! The pending directory of a database, `DB.pending/`: one file per compile whose facts
//! are not recorded yet. The indexer writes and claims them (`indexer::pending`); a
//! reader counts them to tell how complete the database is. Job files are named
//! `OWNER.job`, and `OWNER.job.CLAIMER` once claimed.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The pending directory of database `db`.
pub fn dir(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or(OsStr::new("nccrs.db")).to_owned();
    name.push(".pending");
    db.with_file_name(name)
}

/// Whether a file of the pending directory is a job (rather than the drainer's lock,
/// its warnings, or a registration not finished).
pub fn is_job(name: &str) -> bool {
    name.contains(".job")
}

/// How many compiles into `db` are not recorded yet: compiling, waiting for an
/// indexer, or being indexed.
pub fn count(db: &Path) -> usize {
    std::fs::read_dir(dir(db)).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(is_job))
            .count()
    })
}

/// Counts one compile registered since the counting began (a byte each: appends of
/// one byte are atomic, so `make -j` writers need no lock).
pub const COMPILED: &str = "compiled";
/// Counts one compile whose outcome (facts or failure) was recorded since.
pub const INDEXED: &str = "indexed";

/// How far the indexing of a build has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Compiles registered since the counting began: the build's compiles so far.
    pub compiled: u64,
    /// Of those, the ones whose outcome is recorded.
    pub indexed: u64,
    /// Compiles not recorded yet, counted or not (an interrupted build's included).
    pub pending: usize,
}

impl Progress {
    /// Whether anything is left to do.
    pub fn busy(&self) -> bool {
        self.pending > 0
    }

    /// Recorded and to do, as a reader wants them: never more recorded than
    /// compiled, and the jobs of an earlier, interrupted build count as compiled.
    pub fn done_of(&self) -> (u64, u64) {
        let total = self.compiled.max(self.indexed + self.pending as u64);
        (total - self.pending as u64, total)
    }
}

/// How far the indexing into `db` has got. The counters start again when a compile is
/// registered after the directory has been idle (see `indexer::pending`).
pub fn progress(db: &Path) -> Progress {
    let dir = dir(db);
    let size = |name| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    Progress {
        compiled: size(COMPILED),
        indexed: size(INDEXED),
        pending: count(db),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_never_counts_more_done_than_compiled() {
        let p = |compiled, indexed, pending| Progress {
            compiled,
            indexed,
            pending,
        };
        assert_eq!(p(10, 4, 6).done_of(), (4, 10));
        // Two leftovers of an interrupted build besides this build's three.
        assert_eq!(p(3, 0, 5).done_of(), (0, 5));
        // A count lost to a race: what is done is never more than what is known.
        assert_eq!(p(3, 4, 0).done_of(), (4, 4));
        assert!(!p(3, 3, 0).busy());
    }
}
