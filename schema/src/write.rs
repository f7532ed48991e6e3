//! Writing one translation unit's facts.
//!
//! Ownership: every fact belongs to the file its content comes from (a definition to
//! the file it is written in, a call to the file holding the caller's body). When a
//! translation unit is written:
//!
//! - the facts of its main source file are replaced;
//! - the facts of a header whose version (mtime and size) changed are replaced;
//! - a header already recorded at this version under the same flavor is skipped, so a
//!   header `static inline` seen from a thousand translation units is written once;
//! - anything else is added (`INSERT OR IGNORE`), so headers that expand differently
//!   under different flavors contribute the union of what they define.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use crate::{Db, FileId, Result, SymbolId, TuFacts, TuRecord, WriteStats};

impl Db {
    /// Records one translation unit in a single `IMMEDIATE` transaction, replacing
    /// whatever an earlier build of the same object recorded.
    pub fn write_tu(&mut self, tu: &TuRecord, facts: &TuFacts) -> Result<WriteStats> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| crate::sql_err(&path, e))?;
        let stats = write_facts(&tx, tu, facts).map_err(|e| crate::sql_err(&path, e))?;
        tx.commit().map_err(|e| crate::sql_err(&path, e))?;
        Ok(stats)
    }

    /// Records a translation unit without facts (indexing failed before any were read),
    /// keeping the facts an earlier successful run recorded.
    pub fn write_tu_record(&mut self, tu: &TuRecord) -> Result<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| crate::sql_err(&path, e))?;
        let source = match &tu.source {
            Some(f) => Some(file_id(&tx, f.root, &f.path).map_err(|e| crate::sql_err(&path, e))?),
            None => None,
        };
        upsert_tu(&tx, tu, source).map_err(|e| crate::sql_err(&path, e))?;
        tx.commit().map_err(|e| crate::sql_err(&path, e))
    }

    /// Records where the source and build trees were (absolute paths).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value
                 WHERE value IS NOT excluded.value",
            )
            .and_then(|mut s| s.execute(params![key, value]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

fn file_id(tx: &Transaction<'_>, root: crate::Root, path: &str) -> rusqlite::Result<FileId> {
    let found = tx
        .prepare_cached("SELECT id FROM files WHERE root = ?1 AND path = ?2")?
        .query_row(params![root, path], |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Ok(id),
        None => {
            tx.prepare_cached("INSERT INTO files(root, path) VALUES (?1, ?2)")?
                .execute(params![root, path])?;
            Ok(FileId(tx.last_insert_rowid()))
        }
    }
}

fn upsert_tu(tx: &Transaction<'_>, tu: &TuRecord, source: Option<FileId>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tus(object, source, directory, command, module, status, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(object) DO UPDATE SET
            source = excluded.source, directory = excluded.directory,
            command = excluded.command, module = excluded.module,
            status = excluded.status, reason = excluded.reason",
    )?
    .execute(params![
        tu.object,
        source,
        tu.directory,
        tu.command.join("\0"),
        tu.module,
        tu.status,
        tu.reason,
    ])?;
    Ok(())
}

fn delete_owned(tx: &Transaction<'_>, file: FileId) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM definitions WHERE owner = ?1")?.execute([file])?;
    tx.prepare_cached("DELETE FROM calls WHERE owner = ?1")?.execute([file])?;
    tx.prepare_cached("DELETE FROM recorded WHERE file = ?1")?.execute([file])?;
    Ok(())
}

fn write_facts(tx: &Transaction<'_>, tu: &TuRecord, facts: &TuFacts) -> rusqlite::Result<WriteStats> {
    let mut stats = WriteStats::default();

    // Decide, file by file, whether this translation unit records its facts.
    let mut ids = Vec::with_capacity(facts.files.len());
    let mut record = Vec::with_capacity(facts.files.len());
    for (i, f) in facts.files.iter().enumerate() {
        let id = file_id(tx, f.root, &f.path)?;
        let stored: Option<String> = tx
            .prepare_cached("SELECT version FROM files WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let is_main = facts.main_file == Some(i);
        let changed = stored.as_deref() != Some(f.version.as_str());
        let yes = if is_main || changed {
            delete_owned(tx, id)?;
            if changed {
                tx.prepare_cached("UPDATE files SET version = ?2 WHERE id = ?1")?
                    .execute(params![id, f.version])?;
            }
            true
        } else {
            tx.prepare_cached("SELECT 1 FROM recorded WHERE file = ?1 AND flavor = ?2")?
                .query_row(params![id, facts.flavor], |_| Ok(()))
                .optional()?
                .is_none()
        };
        if yes {
            tx.prepare_cached("INSERT OR IGNORE INTO recorded(file, flavor) VALUES (?1, ?2)")?
                .execute(params![id, facts.flavor])?;
            stats.files_recorded += 1;
        } else {
            stats.files_skipped += 1;
        }
        ids.push(id);
        record.push(yes);
    }

    let mut symbols: HashMap<usize, SymbolId> = HashMap::new();
    let mut symbol_id = |i: usize| -> rusqlite::Result<SymbolId> {
        if let Some(id) = symbols.get(&i) {
            return Ok(*id);
        }
        let s = &facts.symbols[i];
        let found = tx
            .prepare_cached("SELECT id FROM symbols WHERE usr = ?1")?
            .query_row([&s.usr], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                tx.prepare_cached(
                    "INSERT INTO symbols(usr, name, scope, kind, linkage) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![s.usr, s.name, s.scope, s.kind, s.linkage])?;
                SymbolId(tx.last_insert_rowid())
            }
        };
        symbols.insert(i, id);
        Ok(id)
    };

    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO definitions(symbol, file, line, col, macro, definition, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for d in facts.definitions.iter().filter(|d| record[d.owner]) {
            let sym = symbol_id(d.symbol)?;
            stats.definitions += insert.execute(params![
                sym,
                ids[d.file],
                d.line,
                d.col,
                d.macro_name,
                d.definition,
                ids[d.owner]
            ])?;
        }
    }
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO calls(caller, callee, file, line, col, indirect, macro, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for c in facts.calls.iter().filter(|c| record[c.owner]) {
            let caller = symbol_id(c.caller)?;
            let callee = symbol_id(c.callee)?;
            stats.calls += insert.execute(params![
                caller,
                callee,
                ids[c.file],
                c.line,
                c.col,
                c.indirect,
                c.macro_name,
                ids[c.owner]
            ])?;
        }
    }

    let source = facts.main_file.map(|i| ids[i]);
    let source = match (source, &tu.source) {
        (Some(id), _) => Some(id),
        (None, Some(f)) => Some(file_id(tx, f.root, &f.path)?),
        (None, None) => None,
    };
    upsert_tu(tx, tu, source)?;
    Ok(stats)
}
