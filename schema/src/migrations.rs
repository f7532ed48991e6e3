//! Append-only list of migrations, keyed by `PRAGMA user_version`.
//! Never edit an entry that has shipped: add a new one.

/// `PRAGMA application_id` of every nccrs database ("nccr").
pub const APPLICATION_ID: i64 = 0x6e63_6372;

pub const MIGRATIONS: &[&str] = &[
    // 1: files, symbols, definitions, calls, translation units.
    r#"
CREATE TABLE files(
    id      INTEGER PRIMARY KEY,
    root    TEXT NOT NULL CHECK (root IN ('src', 'obj', 'abs')),
    path    TEXT NOT NULL,
    -- content version (mtime and size) the recorded facts of this file come from
    version TEXT,
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

CREATE TABLE definitions(
    symbol     INTEGER NOT NULL REFERENCES symbols(id),
    file       INTEGER NOT NULL REFERENCES files(id),
    line       INTEGER NOT NULL,
    col        INTEGER NOT NULL,
    macro      TEXT,
    definition INTEGER NOT NULL,
    owner      INTEGER NOT NULL REFERENCES files(id),
    PRIMARY KEY (symbol, file, line, col)
) WITHOUT ROWID;
CREATE INDEX definitions_by_owner ON definitions(owner);

CREATE TABLE calls(
    id       INTEGER PRIMARY KEY,
    caller   INTEGER NOT NULL REFERENCES symbols(id),
    callee   INTEGER NOT NULL REFERENCES symbols(id),
    file     INTEGER NOT NULL REFERENCES files(id),
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    indirect INTEGER NOT NULL,
    macro    TEXT,
    owner    INTEGER NOT NULL REFERENCES files(id),
    UNIQUE (caller, file, line, col, callee)
);
CREATE INDEX calls_by_callee ON calls(callee);
CREATE INDEX calls_by_owner ON calls(owner);

-- (file, flavor) pairs whose facts are recorded for the file's current version
CREATE TABLE recorded(
    file   INTEGER NOT NULL REFERENCES files(id),
    flavor TEXT NOT NULL,
    PRIMARY KEY (file, flavor)
) WITHOUT ROWID;

CREATE TABLE tus(
    id         INTEGER PRIMARY KEY,
    object     TEXT NOT NULL UNIQUE,
    source     INTEGER REFERENCES files(id),
    directory  TEXT NOT NULL,
    command    TEXT NOT NULL,
    module     INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
    reason     TEXT
);

CREATE TABLE meta(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
];
