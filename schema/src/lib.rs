//! The nccrs database.
//!
//! This crate is the only one that knows SQL. Writers hand over one translation unit's
//! facts at a time ([`TuFacts`]); readers get plain structs back.
#![forbid(unsafe_code)]

mod migrations;
mod read;
mod types;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use migrations::APPLICATION_ID;
pub use read::DumpVisitor;
pub use types::*;

/// Highest schema version this build knows.
pub const SCHEMA_VERSION: i64 = migrations::MIGRATIONS.len() as i64;

/// How long a writer waits for a lock before giving up. Parallel `make -j` writers
/// each hold the lock for one short transaction, so this is generous.
const BUSY_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: no such file", .0.display())]
    Missing(PathBuf),
    #[error("{}: not an nccrs database", .0.display())]
    NotADatabase(PathBuf),
    #[error(
        "{}: written by a newer nccrs (schema version {found}; this one reads up to {known})",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// Anything else SQLite reports; the message says it all, so it is not chained.
    #[error("{}: {error}", path.display())]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An open nccrs database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens an existing database for reading. Never modifies the file.
    pub fn open_readonly(path: &Path) -> Result<Db> {
        if !path.exists() {
            return Err(Error::Missing(path.to_owned()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_err(path, e))?;
        let mut db = Db {
            conn,
            path: path.to_owned(),
        };
        db.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| db.err(e))?;
        let (app, version) = match db.header() {
            Ok(h) => h,
            // A database in WAL mode wants to create its `-shm` file even to be read;
            // where that is not allowed (a read-only directory or mount, another user's
            // build tree), read the file as it is.
            Err(Error::Sqlite { error, .. })
                if matches!(
                    error.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
                ) =>
            {
                let uri = format!("file:{}?immutable=1", uri_escape(path));
                db.conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(|e| sql_err(path, e))?;
                db.header()?
            }
            Err(e) => return Err(e),
        };
        if app != APPLICATION_ID {
            return Err(Error::NotADatabase(path.to_owned()));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        Ok(db)
    }

    /// Opens (creating and migrating when needed) a database for writing.
    pub fn open_writer(path: &Path) -> Result<Db> {
        Db::open_writer_waiting(path, BUSY_TIMEOUT)
    }

    /// Like [`Db::open_writer`], waiting at most `wait` for another writer's lock
    /// (here and in every later write).
    pub fn open_writer_waiting(path: &Path, wait: Duration) -> Result<Db> {
        let conn = Connection::open(path).map_err(|e| sql_err(path, e))?;
        let mut db = Db {
            conn,
            path: path.to_owned(),
        };
        db.conn.busy_timeout(wait).map_err(|e| db.err(e))?;
        let (app, version) = db.header()?;
        if app != APPLICATION_ID && !(app == 0 && version == 0) {
            return Err(Error::NotADatabase(path.to_owned()));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let mode: String = db
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // A file system without shared memory support: still correct, just slower.
            db.conn
                .pragma_update(None, "journal_mode", "DELETE")
                .map_err(|e| db.err(e))?;
        }
        db.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| db.err(e))?;
        db.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(|e| db.err(e))?;
        db.migrate()?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `(application_id, user_version)`; a file that is not SQLite is reported as such.
    fn header(&self) -> Result<(i64, i64)> {
        let read = || -> rusqlite::Result<(i64, i64)> {
            // One read transaction: another writer's migration, which sets both, is seen
            // whole or not at all.
            let tx = self.conn.unchecked_transaction()?;
            let app = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let version = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            // Reading the schema proves the file is a database at all.
            tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            tx.commit()?;
            Ok((app, version))
        };
        read().map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Error::NotADatabase(self.path.clone()),
            _ => self.err(e),
        })
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&path, e))?;
        // Read again under the write lock: another writer may have migrated meanwhile.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql_err(&path, e))?;
        let app: i64 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| sql_err(&path, e))?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| sql_err(&path, e))?;
        // Only an empty file becomes an nccrs database: never another program's.
        if app != APPLICATION_ID && (version != 0 || tables != 0) {
            return Err(Error::NotADatabase(path));
        }
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew {
                path,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(version as usize)
        {
            tx.execute_batch(sql).map_err(|e| sql_err(&path, e))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(|e| sql_err(&path, e))?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| sql_err(&path, e))?;
        tx.commit().map_err(|e| sql_err(&path, e))
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        sql_err(&self.path, e)
    }
}

/// `path` as the path part of an SQLite URI.
fn uri_escape(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sql_err(path: &Path, error: rusqlite::Error) -> Error {
    Error::Sqlite {
        path: path.to_owned(),
        error,
    }
}
