//! Append-only list of migrations, keyed by `PRAGMA user_version`.
//! Never edit an entry that has shipped: add a new one.

/// `PRAGMA application_id` of every nccrs database ("nccr").
pub const APPLICATION_ID: i64 = 0x6e63_6372;

/// The first version written by an nccrs that recognises every kbuild (and stores
/// the kernel's paths relative to its trees).
pub const KBUILD_AWARE: i64 = 3;

/// Empties a database, keeping its tables.
pub const FORGET_ALL: &str = "
DELETE FROM uses; DELETE FROM stores; DELETE FROM calls; DELETE FROM definitions;
DELETE FROM tu_chunks; DELETE FROM chunks; DELETE FROM tus; DELETE FROM symbols;
DELETE FROM files; DELETE FROM meta;
";

pub const MIGRATIONS: &[&str] = &[
    // 1: files, symbols, definitions, calls, translation units, and the chunks that
    // say which translation units each fact came from.
    r#"
CREATE TABLE files(
    id   INTEGER PRIMARY KEY,
    root TEXT NOT NULL CHECK (root IN ('src', 'obj', 'abs')),
    path TEXT NOT NULL,
    UNIQUE (root, path)
);

CREATE TABLE symbols(
    id      INTEGER PRIMARY KEY,
    usr     TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    scope   TEXT,
    kind    TEXT NOT NULL,
    linkage TEXT NOT NULL
);
CREATE INDEX symbols_by_name ON symbols(name);

CREATE TABLE tus(
    id        INTEGER PRIMARY KEY,
    object    TEXT NOT NULL UNIQUE,
    source    INTEGER REFERENCES files(id),
    directory TEXT NOT NULL,
    command   TEXT NOT NULL,
    module    INTEGER NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
    reason    TEXT
);

-- The facts one file contributed to a translation unit, named by their hash: a
-- header that reads the same in a thousand translation units is one chunk.
CREATE TABLE chunks(
    id   INTEGER PRIMARY KEY,
    file INTEGER NOT NULL REFERENCES files(id),
    hash TEXT NOT NULL,
    UNIQUE (file, hash)
);

CREATE TABLE tu_chunks(
    tu    INTEGER NOT NULL REFERENCES tus(id),
    chunk INTEGER NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (tu, chunk)
) WITHOUT ROWID;
CREATE INDEX tu_chunks_by_chunk ON tu_chunks(chunk);

CREATE TABLE definitions(
    symbol     INTEGER NOT NULL REFERENCES symbols(id),
    file       INTEGER NOT NULL REFERENCES files(id),
    line       INTEGER NOT NULL,
    col        INTEGER NOT NULL,
    macro      TEXT,
    definition INTEGER NOT NULL,
    chunk      INTEGER NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (symbol, file, line, col, chunk)
) WITHOUT ROWID;
CREATE INDEX definitions_by_chunk ON definitions(chunk);

CREATE TABLE calls(
    id       INTEGER PRIMARY KEY,
    caller   INTEGER NOT NULL REFERENCES symbols(id),
    callee   INTEGER NOT NULL REFERENCES symbols(id),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    indirect INTEGER NOT NULL,
    macro    TEXT,
    chunk    INTEGER NOT NULL REFERENCES chunks(id),
    UNIQUE (caller, file, line, col, callee, chunk)
);
CREATE INDEX calls_by_callee ON calls(callee);
CREATE INDEX calls_by_chunk ON calls(chunk);

CREATE TABLE meta(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 2: functions and pointers stored into pointers (`.read_iter = f`, `p->cb = q->cb`,
    // a function passed as an argument), and the uses of globals and fields.
    r#"
CREATE TABLE stores(
    target INTEGER NOT NULL REFERENCES symbols(id),
    value  INTEGER NOT NULL REFERENCES symbols(id),
    file   INTEGER NOT NULL REFERENCES files(id),
    line   INTEGER NOT NULL,
    col    INTEGER NOT NULL,
    macro  TEXT,
    chunk  INTEGER NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (target, value, file, line, col, chunk)
) WITHOUT ROWID;
CREATE INDEX stores_by_value ON stores(value);
CREATE INDEX stores_by_chunk ON stores(chunk);

CREATE TABLE uses(
    symbol   INTEGER NOT NULL REFERENCES symbols(id),
    function INTEGER NOT NULL REFERENCES symbols(id),
    access   TEXT NOT NULL CHECK (access IN ('read', 'write', 'addr')),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    macro    TEXT,
    chunk    INTEGER NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (symbol, function, access, file, line, col, chunk)
) WITHOUT ROWID;
-- No index by function: "what does F use" reads the table (a few tens of ms on a
-- kernel), which saves a full copy of it.
CREATE INDEX uses_by_chunk ON uses(chunk);
"#,
    // 3: external modules (`make M=DIR`) get a root of their own: `ext`, with the
    // module's directory as the file's `base`; and each unit's module name
    // (`KBUILD_MODNAME` of a `-DMODULE` compile). SQLite cannot change a CHECK, so
    // `files` is made anew (foreign keys are off while migrations run).
    r#"
CREATE TABLE files_v3(
    id   INTEGER PRIMARY KEY,
    root TEXT NOT NULL CHECK (root IN ('src', 'obj', 'abs', 'ext')),
    base TEXT NOT NULL DEFAULT '' CHECK ((root = 'ext') = (base != '')),
    path TEXT NOT NULL,
    UNIQUE (root, base, path)
);
INSERT INTO files_v3(id, root, path) SELECT id, root, path FROM files;
DROP TABLE files;
ALTER TABLE files_v3 RENAME TO files;
ALTER TABLE tus ADD COLUMN modname TEXT;
"#,
    // 4: the units compiled from a file, for `def`'s "which module" (without it, a
    // definition in a header that thousands of units include costs a join with each);
    // and the units by status, for the failures every reader is told about.
    r#"
CREATE INDEX tus_by_source ON tus(source);
CREATE INDEX tus_by_status ON tus(status);
"#,
    // 5: the name of the facts recorded for each unit (the facts cache's key), so that
    // a rebuild that gives the same facts writes nothing.
    r#"
ALTER TABLE tus ADD COLUMN facts TEXT;
"#,
    // 6: a symbol is found by a 64-bit hash of its USR (`usr_key`, see
    // `crate::symbol_key`) instead of the USR itself: USRs made file-specific are long,
    // and with their unique index were a third of a kernel's database. Nothing reads
    // a USR back.
    r#"
CREATE TABLE symbols_v6(
    id      INTEGER PRIMARY KEY,
    key     INTEGER NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    scope   TEXT,
    kind    TEXT NOT NULL,
    linkage TEXT NOT NULL
);
INSERT INTO symbols_v6(id, key, name, scope, kind, linkage)
    SELECT id, usr_key(usr), name, scope, kind, linkage FROM symbols;
DROP TABLE symbols;
ALTER TABLE symbols_v6 RENAME TO symbols;
CREATE INDEX symbols_by_name ON symbols(name);
"#,
    // 7: the function (or the variable's initializer) each store is written in, for
    // the references of a name. Stores recorded before stay without it until their
    // unit is indexed again.
    r#"
ALTER TABLE stores ADD COLUMN within INTEGER; -- a symbol's id
"#,
    // 8: a definition or declaration is one row however many chunks hold it. Each chunk
    // lists the ids of its own (`chunks.definitions`, see `crate::id_list`) and each
    // row counts the chunks that list it (`chunks`). The
    // declarations of what a unit calls or uses belong to its main file, so before this
    // `_printk`'s declaration was a row for every unit that calls it: 432,391 of the
    // 602,900 rows of a Linux 6.12 UML database, for 8,161 symbols. And each chunk
    // counts the units that link it (`units`), in place of an index of `tu_chunks` by
    // chunk. A unit's command is the list of its arguments' ids (`arguments`): the
    // kernel's commands, some 100 arguments of which a few differ between units, were
    // 2.6 MB of the same database.
    r#"
CREATE TABLE definitions_v8(
    id         INTEGER PRIMARY KEY,
    symbol     INTEGER NOT NULL REFERENCES symbols(id),
    file       INTEGER NOT NULL REFERENCES files(id),
    line       INTEGER NOT NULL,
    col        INTEGER NOT NULL,
    macro      TEXT,
    definition INTEGER NOT NULL,
    chunks     INTEGER NOT NULL, -- how many chunks list it
    UNIQUE (symbol, file, line, col, definition)
);
INSERT INTO definitions_v8(symbol, file, line, col, macro, definition, chunks)
    SELECT symbol, file, line, col, max(macro), definition, count(*) FROM definitions
    GROUP BY symbol, file, line, col, definition ORDER BY symbol, file, line, col, definition;
ALTER TABLE chunks ADD COLUMN definitions BLOB;
ALTER TABLE chunks ADD COLUMN units INTEGER NOT NULL DEFAULT 0;
UPDATE chunks SET
    definitions = (SELECT id_set(group_concat(n.id))
                   FROM definitions d JOIN definitions_v8 n USING (symbol, file, line, col, definition)
                   WHERE d.chunk = chunks.id),
    units = (SELECT count(*) FROM tu_chunks WHERE chunk = chunks.id);
DROP TABLE definitions;
ALTER TABLE definitions_v8 RENAME TO definitions;
DROP INDEX tu_chunks_by_chunk;
CREATE TABLE arguments(
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO arguments(text)
    SELECT j.value FROM tus, json_each(command_words(tus.command)) j ORDER BY tus.id, j.key;
UPDATE tus SET command = (
    SELECT id_seq(json_group_array(a.id ORDER BY j.key))
    FROM json_each(command_words(tus.command)) j JOIN arguments a ON a.text = j.value);
"#,
    // 9: calls written in code this configuration never runs (an arm a constant
    // condition never takes, `_Generic`'s other associations). Calls recorded before
    // are live until their unit is indexed again.
    r#"
ALTER TABLE calls ADD COLUMN dead INTEGER NOT NULL DEFAULT 0;
"#,
    // 10: each file as it was indexed: size, modification time (nanoseconds since the
    // epoch) and a hash of its content, so that a reader can tell a file edited since.
    // Unknown for the files recorded before, until a unit that reads them is written.
    r#"
ALTER TABLE files ADD COLUMN size INTEGER;
ALTER TABLE files ADD COLUMN mtime INTEGER;
ALTER TABLE files ADD COLUMN hash BLOB;
"#,
    // 11: aliases (`sys_read`, declared `__attribute__((alias("__se_sys_read")))`): a
    // call from the alias to its target at the alias's declaration, marked so. Units
    // recorded before have none until they are indexed again. And the definitions a
    // macro's expansions made (`DEFINE_SPINLOCK`'s locks), by the macro: one in nine
    // definitions names one. And where function-like macros are expanded, as uses of
    // the macro by the function whose body expands it (`expand`: SQLite cannot change
    // a CHECK, so `uses` is made anew).
    r#"
ALTER TABLE calls ADD COLUMN alias INTEGER NOT NULL DEFAULT 0;
CREATE INDEX definitions_by_macro ON definitions(macro) WHERE macro IS NOT NULL;
CREATE TABLE uses_v11(
    symbol   INTEGER NOT NULL REFERENCES symbols(id),
    function INTEGER NOT NULL REFERENCES symbols(id),
    access   TEXT NOT NULL CHECK (access IN ('read', 'write', 'addr', 'expand')),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    macro    TEXT,
    chunk    INTEGER NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (symbol, function, access, file, line, col, chunk)
) WITHOUT ROWID;
INSERT INTO uses_v11 SELECT symbol, function, access, file, line, col, macro, chunk FROM uses;
DROP TABLE uses;
ALTER TABLE uses_v11 RENAME TO uses;
CREATE INDEX uses_by_chunk ON uses(chunk);
"#,
    // 12: the lines each chunk's units skipped in its file (`#ifdef CONFIG_FOO` not
    // taken), as a set of ids (see `crate::id_list`): each range's first and last line.
    // Every file a unit entered has a chunk from now on, facts or none, so that a line
    // counts as skipped only when every unit that read the file skipped it. `NULL` for
    // the chunks recorded before (nothing known skipped).
    r#"
ALTER TABLE chunks ADD COLUMN skipped BLOB;
"#,
    // 13: symbols of kind `result` (`pick::return`: what a function that returns
    // functions returns). No table changes; the version tells an older nccnav that it
    // cannot read the kind. Units recorded before have none until indexed again.
    r#"
-- symbols.kind takes 'result'
"#,
    // 14: uses in a table with row ids, with two small indexes (by symbol, by chunk:
    // the indexed column and the row id) in place of a primary key over every column
    // and an index by chunk that copied it: the two were a third of a Linux 6.12
    // x86_64 defconfig database (37.2 and 30.6 of 215.6 MB). A use several chunks
    // hold was already a row for each; a chunk's uses are written once, when the
    // chunk is new, and the writer leaves out repeats within it.
    r#"
CREATE TABLE uses_v14(
    id       INTEGER PRIMARY KEY,
    chunk    INTEGER NOT NULL REFERENCES chunks(id),
    symbol   INTEGER NOT NULL REFERENCES symbols(id),
    function INTEGER NOT NULL REFERENCES symbols(id),
    access   TEXT NOT NULL CHECK (access IN ('read', 'write', 'addr', 'expand')),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    macro    TEXT
);
INSERT INTO uses_v14(chunk, symbol, function, access, file, line, col, macro)
    SELECT chunk, symbol, function, access, file, line, col, macro FROM uses
    ORDER BY chunk, file, line, col, symbol, function, access;
DROP TABLE uses;
ALTER TABLE uses_v14 RENAME TO uses;
CREATE INDEX uses_by_symbol ON uses(symbol);
CREATE INDEX uses_by_chunk ON uses(chunk);
"#,
    // 15: calls without the unique constraint over (caller, place, callee, chunk),
    // whose index copied the table (14.2 of a Linux 6.12 x86_64 defconfig database's
    // 215.6 MB): the writer leaves out repeats within a chunk itself, and the calls a
    // function makes are found by an index of callers (the column and the row id).
    // SQLite cannot drop a constraint, so `calls` is made anew, with its row ids.
    r#"
CREATE TABLE calls_v15(
    id       INTEGER PRIMARY KEY,
    caller   INTEGER NOT NULL REFERENCES symbols(id),
    callee   INTEGER NOT NULL REFERENCES symbols(id),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    indirect INTEGER NOT NULL,
    macro    TEXT,
    chunk    INTEGER NOT NULL REFERENCES chunks(id),
    dead     INTEGER NOT NULL DEFAULT 0,
    alias    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO calls_v15(id, caller, callee, file, line, col, indirect, macro, chunk, dead, alias)
    SELECT id, caller, callee, file, line, col, indirect, macro, chunk, dead, alias FROM calls;
DROP TABLE calls;
ALTER TABLE calls_v15 RENAME TO calls;
CREATE INDEX calls_by_caller ON calls(caller);
CREATE INDEX calls_by_callee ON calls(callee);
CREATE INDEX calls_by_chunk ON calls(chunk);
"#,
];
