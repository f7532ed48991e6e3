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
