//! The nccrs database, and the conventions its writers and readers share.
//!
//! This crate is the only one that knows SQL. Writers hand over one translation unit's
//! facts at a time ([`TuFacts`]); readers get plain structs back. It also owns what the
//! indexer and the navigator must agree on: the trees stored paths are relative to
//! ([`Trees`], [`Root`]), the pending directory ([`pending`]) and the meta keys.
#![forbid(unsafe_code)]

mod id_list;
mod migrations;
pub mod pending;
mod read;
mod types;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use migrations::APPLICATION_ID;
pub use read::DumpVisitor;
pub use types::*;
pub use write::{chunk_hashes, KnownChunk};

/// Highest schema version this build knows.
pub const SCHEMA_VERSION: i64 = migrations::MIGRATIONS.len() as i64;

/// A unit's command as its arguments joined by NUL bytes (as stored before schema 8),
/// from `tus t` of schema 8 on, where it is stored as the ids of its arguments.
pub(crate) const COMMAND_TEXT: &str =
    "coalesce((SELECT group_concat(a.text, char(0) ORDER BY j.key)
     FROM json_each(id_seq_json(t.command)) j JOIN arguments a ON a.id = j.value), '')";

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
    /// A database an older nccrs wrote during a kernel build it did not recognise
    /// (Linux 6.2 and later), with the kernel's paths stored absolute. Writers start it
    /// afresh; readers refuse it.
    #[error(
        "{}: written by an older nccrs, which stored this kernel build's paths as absolute; remove it and build again",
        .0.display()
    )]
    OldLayout(PathBuf),
    /// A writer of another build: the database's paths are relative to other trees.
    #[error(
        "{}: holds the facts of {}, not of {}; remove it or set NCCRS_DB to index this build",
        path.display(), describe(recorded), describe(this)
    )]
    OtherTrees {
        path: PathBuf,
        recorded: Trees,
        this: Trees,
    },
    /// A directory was given as the database, and neither it nor a directory above it
    /// holds one.
    #[error(
        "{}: a directory, with no {} in it or in a directory above it; name the database file",
        .0.display(), DATABASE_NAMES.join(" or ")
    )]
    NoDatabaseIn(PathBuf),
    /// Anything else SQLite reports, said in words, with SQLite's own message.
    #[error("{}: {} ({error})", path.display(), sqlite_words(error))]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
}

/// The names nccrs gives a database, the first preferred: `vmlinux.db` in a kernel's
/// output tree, `nccrs.db` elsewhere.
pub const DATABASE_NAMES: [&str; 2] = ["vmlinux.db", "nccrs.db"];

/// The database `path` names: the file itself, or for a directory the first of
/// [`DATABASE_NAMES`] found in it or, failing that, in the nearest directory above it
/// that has one (a subdirectory of a kernel build names the build's database).
pub fn find_database(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_owned());
    }
    // The real directory: `build/../other` looks in `other` and above it.
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    for dir in real.ancestors() {
        for name in DATABASE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(Error::NoDatabaseIn(path.to_owned()))
}

/// What an error SQLite reports means for a reader of the database.
fn sqlite_words(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode as C;
    match error.sqlite_error_code() {
        Some(C::NotADatabase) => "not an nccrs database",
        Some(C::DatabaseCorrupt) => "the database is damaged; remove it and build again",
        Some(C::DiskFull) => "no space left on the device",
        Some(C::ReadOnly) => "the database cannot be written here",
        Some(C::CannotOpen | C::PermissionDenied) => "the database cannot be opened",
        Some(C::SystemIoFailure) => "the database could not be read (an I/O error)",
        Some(C::DatabaseBusy | C::DatabaseLocked) => "the database is busy",
        Some(C::OutOfMemory) => "out of memory",
        _ => "the database could not be used",
    }
}

/// The trees of a build, in words.
fn describe(t: &Trees) -> String {
    match (&t.srctree, &t.objtree) {
        (Some(s), Some(o)) if s == o => format!("the kernel build in {s}"),
        (Some(s), Some(o)) => format!("the kernel source tree {s} built in {o}"),
        (Some(s), None) => format!("the kernel source tree {s}"),
        (None, Some(o)) => format!("the kernel build in {o}"),
        (None, None) => "a build outside any kernel tree".to_owned(),
    }
}

impl Error {
    /// Whether writing to this database will never work: it is another program's,
    /// a newer nccrs's, or another build's (as opposed to busy or out of space).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Error::NotADatabase(_)
                | Error::TooNew { .. }
                | Error::OldLayout(_)
                | Error::OtherTrees { .. }
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An open nccrs database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
    /// The schema version of the file as opened (readers do not migrate).
    version: i64,
}

/// Keys of the `meta` table.
pub(crate) mod meta_key {
    /// The kernel source tree the `src` paths are relative to (absolute).
    pub const SRCTREE: &str = "srctree";
    /// The kernel build tree the `obj` paths are relative to (absolute).
    pub const OBJTREE: &str = "objtree";
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
            version: 0,
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
        known_version(path, version)?;
        id_list::register(&db.conn).map_err(|e| db.err(e))?;
        db.version = version;
        if version < migrations::KBUILD_AWARE && db.old_layout().map_err(|e| db.err(e))? {
            return Err(Error::OldLayout(path.to_owned()));
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
            version: 0,
        };
        db.conn.busy_timeout(wait).map_err(|e| db.err(e))?;
        id_list::register(&db.conn).map_err(|e| db.err(e))?;
        let (app, version) = db.header()?;
        if app != APPLICATION_ID && !(app == 0 && version == 0) {
            return Err(Error::NotADatabase(path.to_owned()));
        }
        known_version(path, version)?;
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
        // Foreign keys are checked from here on, not while a migration remakes a table
        // (SQLite as bundled checks them by default).
        db.conn
            .pragma_update(None, "foreign_keys", false)
            .map_err(|e| db.err(e))?;
        db.migrate()?;
        db.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(|e| db.err(e))?;
        db.version = SCHEMA_VERSION;
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
        // Migration 6 computes each symbol's key (migration 8's functions are registered
        // on every connection: `id_list::register`).
        self.conn
            .create_scalar_function(
                "usr_key",
                1,
                rusqlite::functions::FunctionFlags::SQLITE_UTF8
                    | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
                |ctx| Ok(symbol_key(&ctx.get::<String>(0)?)),
            )
            .map_err(|e| sql_err(&path, e))?;
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
        known_version(&path, version)?;
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(version as usize)
        {
            // A database whose kernel paths were stored absolute cannot be joined with
            // relative ones: it starts afresh.
            if i as i64 + 1 == migrations::KBUILD_AWARE
                && old_layout(&tx).map_err(|e| sql_err(&path, e))?
            {
                tx.execute_batch(migrations::FORGET_ALL)
                    .map_err(|e| sql_err(&path, e))?;
            }
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

    fn old_layout(&self) -> rusqlite::Result<bool> {
        old_layout(&self.conn)
    }
}

/// Whether a database older than [`migrations::KBUILD_AWARE`] holds kernel compiles
/// (`-D__KERNEL__`) without the source tree they are relative to: an nccrs that did
/// not recognise the kernel build stored their paths absolute.
fn old_layout(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM meta WHERE key = ?1)
            AND EXISTS (SELECT 1 FROM tus WHERE instr(command, '-D__KERNEL__') > 0)",
        [meta_key::SRCTREE],
        |r| r.get(0),
    )
}

/// How the database finds a symbol: the first 8 bytes of the BLAKE3 hash of its USR.
/// Two of a kernel's half a million symbols share one with a probability of about
/// 10^-8.
pub fn symbol_key(usr: &str) -> i64 {
    let hash = blake3::hash(usr.as_bytes());
    let mut first = [0; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    i64::from_le_bytes(first)
}

/// The preprocessor directive a source line starts (`if`, `ifdef`, `ifndef`, `elif`,
/// `elifdef`, `elifndef`, `else`, `endif`, `define`, ...): the word after `#`, spaces
/// allowed on both sides of it (`#   define`). The one reading of directives that
/// the indexer (where skipped lines end) and the navigator (what skipped them) share.
pub fn directive(line: &[u8]) -> Option<&[u8]> {
    let t = line
        .trim_ascii_start()
        .strip_prefix(b"#")?
        .trim_ascii_start();
    let end = t
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .unwrap_or(t.len());
    (end > 0).then(|| &t[..end])
}

/// The `#if`, `#ifdef` or `#ifndef` (its line, 1-based) that the directive at line `a`
/// of `lines` belongs to: itself, or for an `#elif`/`#else` the one it continues.
pub fn opening(lines: &[&[u8]], a: u32) -> Option<u32> {
    let line = |n: u32| lines.get(n as usize - 1).copied().unwrap_or_default();
    match directive(line(a))? {
        b"if" | b"ifdef" | b"ifndef" => return Some(a),
        b"elif" | b"elifdef" | b"elifndef" | b"else" => {}
        _ => return None,
    }
    let mut depth = 0;
    for n in (1..a).rev() {
        match directive(line(n)) {
            Some(b"endif") => depth += 1,
            Some(b"if" | b"ifdef" | b"ifndef") if depth == 0 => return Some(n),
            Some(b"if" | b"ifdef" | b"ifndef") => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Whether a source line continues on the next (ends with a backslash).
pub fn continues(line: &[u8]) -> bool {
    line.trim_ascii_end().ends_with(b"\\")
}

/// Whether a stored path is an assembly source (`.S`, `.s`, `.sx`): the facts written
/// there are read from the object its assembler wrote, and a call written there is a
/// call from assembly.
pub fn is_assembly(path: &str) -> bool {
    [".S", ".s", ".sx"].iter().any(|e| path.ends_with(e))
}

/// How a file's content is known (schema 10): the first 16 bytes of its BLAKE3 hash.
pub fn content_hash(content: &[u8]) -> [u8; 16] {
    let mut first = [0; 16];
    first.copy_from_slice(&blake3::hash(content).as_bytes()[..16]);
    first
}

/// A file's size and modification time (nanoseconds since the epoch), as recorded
/// when a unit that read it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub size: i64,
    pub mtime: i64,
}

impl FileStamp {
    /// The file at `path` now.
    pub fn of(path: &Path) -> Option<FileStamp> {
        let m = std::fs::metadata(path).ok()?;
        let since = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(FileStamp {
            size: i64::try_from(m.len()).ok()?,
            mtime: i64::try_from(since.as_nanos()).ok()?,
        })
    }
}

/// Refuses a database written by a newer nccrs.
fn known_version(path: &Path, version: i64) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(Error::TooNew {
            path: path.to_owned(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// `path` as the path part of a URI (SQLite's `file:`, the editor's `file://`): bytes
/// other than letters, digits and `/-_.~` percent-encoded.
pub fn uri_escape(path: &Path) -> String {
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

impl Error {
    /// SQLite said "database is locked" (or busy) rather than waiting: a writer may
    /// try again on a fresh connection.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Sqlite { error, .. } if matches!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        ))
    }
}

fn sql_err(path: &Path, error: rusqlite::Error) -> Error {
    Error::Sqlite {
        path: path.to_owned(),
        error,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A database as nccrs wrote it at schema version 2, with one unit compiled with
    /// `command`, and the source tree recorded or not.
    fn version_2(path: &Path, command: &str, srctree: Option<&str>) {
        let conn = Connection::open(path).unwrap();
        for sql in &migrations::MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO files(id, root, path) VALUES (1, 'abs', '/k/linux/fs/dcache.c');
             INSERT INTO symbols(id, usr, name, kind, linkage)
                 VALUES (1, 'c:@F@d_alloc', 'd_alloc', 'function', 'external');
             INSERT INTO chunks(id, file, hash) VALUES (1, 1, 'h');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO tus(id, object, source, directory, command, module, status)
             VALUES (1, '/k/b/fs/dcache.o', 1, '/k/b', ?1, 0, 'ok')",
            [command],
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO tu_chunks(tu, chunk) VALUES (1, 1);
             INSERT INTO definitions(symbol, file, line, col, definition, chunk)
                 VALUES (1, 1, 10, 5, 1, 1);
             INSERT INTO symbols(id, usr, name, kind, linkage)
                 VALUES (2, 'c:@v', 'v', 'variable', 'external');
             INSERT INTO chunks(id, file, hash) VALUES (2, 1, 'h2');
             INSERT INTO uses(symbol, function, access, file, line, col, chunk)
                 VALUES (2, 1, 'read', 1, 11, 3, 1), (2, 1, 'read', 1, 11, 3, 2);",
        )
        .unwrap();
        if let Some(s) = srctree {
            conn.execute("INSERT INTO meta(key, value) VALUES ('srctree', ?1)", [s])
                .unwrap();
        }
    }

    #[test]
    fn version_2_is_read_as_it_is_and_upgraded_by_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        // A 6.1 build: the source tree was recorded, paths are relative.
        version_2(&path, "gcc\0-D__KERNEL__\0-c", Some("/k/linux"));
        let before = std::fs::read(&path).unwrap();
        let db = Db::open_readonly(&path).unwrap();
        let files = db.files().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].base, None);
        assert_eq!(db.tus().unwrap()[0].modname, None);
        drop(db);
        assert_eq!(std::fs::read(&path).unwrap(), before, "a reader wrote");

        let db = Db::open_writer(&path).unwrap();
        assert_eq!(db.version, SCHEMA_VERSION);
        let key: i64 = db
            .conn
            .query_row("SELECT key FROM symbols WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(key, symbol_key("c:@F@d_alloc"));
        assert_eq!(db.symbol(SymbolId(1)).unwrap().name, "d_alloc");
        let f = db.file(FileId(1)).unwrap();
        assert_eq!(
            (f.root, f.path.as_str()),
            (Root::Abs, "/k/linux/fs/dcache.c")
        );
        // Schema 8: the command as the ids of its arguments, the definition as one row
        // its chunk lists.
        assert_eq!(db.tus().unwrap()[0].command, ["gcc", "-D__KERNEL__", "-c"]);
        let defs = db.definitions(SymbolId(1)).unwrap();
        assert_eq!(defs.len(), 1);
        assert!(db.defined_in(&defs[0]).unwrap().builtin);
        // Schema 14: the use two chunks hold, a row each and one answer.
        assert_eq!(db.uses_of(SymbolId(2)).unwrap().len(), 1);
        let rows: i64 = db
            .conn
            .query_row("SELECT count(*) FROM uses", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
        assert!(db
            .named_in_file(FileId(1))
            .unwrap()
            .contains(&(11, 3, SymbolId(2))));
        let broken: i64 = db
            .conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0, "the remade files table lost its references");
        // The new root is accepted now.
        db.conn
            .execute(
                "INSERT INTO files(root, base, path) VALUES ('ext', '/m/hello', 'hello.c')",
                [],
            )
            .unwrap();
        assert!(db
            .conn
            .execute("INSERT INTO files(root, path) VALUES ('ext', 'x.c')", [])
            .is_err());
    }

    #[test]
    fn kernel_paths_stored_absolute_are_never_mixed_with_relative_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        // A 6.12 build indexed by an nccrs that did not recognise it.
        version_2(&path, "gcc\0-D__KERNEL__\0-c", None);
        let before = std::fs::read(&path).unwrap();
        match Db::open_readonly(&path) {
            Err(e @ Error::OldLayout(_)) => {
                assert!(e.to_string().contains("remove it and build again"), "{e}")
            }
            other => panic!("read an old-layout database: {:?}", other.err()),
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "a reader wrote");
        // A writer starts it afresh.
        let db = Db::open_writer(&path).unwrap();
        assert!(db.tus().unwrap().is_empty());
        assert!(db.files().unwrap().is_empty());

        // Outside a kernel build, absolute paths are what nccrs always stored.
        let plain = dir.path().join("plain.db");
        version_2(&plain, "gcc\0-O2\0-c", None);
        assert_eq!(Db::open_readonly(&plain).unwrap().tus().unwrap().len(), 1);
        assert_eq!(Db::open_writer(&plain).unwrap().tus().unwrap().len(), 1);
    }

    #[test]
    fn another_builds_writers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let kernel = Trees {
            srctree: Some("/k/linux".into()),
            objtree: Some("/k/build".into()),
        };
        let mut db = Db::open_writer(&path).unwrap();
        db.claim_trees(&kernel).unwrap();
        // Nothing recorded yet: another build may still take the database over.
        db.claim_trees(&Trees::default()).unwrap();
        db.claim_trees(&kernel).unwrap();
        db.write_tu_record(&TuRecord {
            object: "/k/build/a.o".into(),
            source: Some(NewFile::new(Root::Src, "a.c")),
            directory: "/k/build".into(),
            command: vec!["gcc".into()],
            module: false,
            modname: None,
            status: TuStatus::Failed,
            reason: Some("r".into()),
            facts: None,
        })
        .unwrap();
        db.claim_trees(&kernel).unwrap();
        for other in [
            Trees::default(),
            Trees {
                srctree: Some("/k/linux".into()),
                objtree: Some("/k/build2".into()),
            },
            Trees {
                srctree: Some("/k/linux-next".into()),
                objtree: Some("/k/build".into()),
            },
        ] {
            match db.claim_trees(&other) {
                Err(e @ Error::OtherTrees { .. }) => {
                    assert!(e.is_permanent());
                    assert!(e.to_string().contains("remove it or set NCCRS_DB"), "{e}");
                }
                r => panic!("{other:?} was let in: {r:?}"),
            }
        }
        assert_eq!(db.trees().unwrap(), kernel);
    }
}
