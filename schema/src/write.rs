//! Writing one translation unit's facts.
//!
//! Every fact belongs to the file its content comes from (a definition to the file it
//! is written in, a call to the file holding the caller's body). The facts one file
//! contributes to a translation unit form a *chunk*, named by a hash of its content;
//! the database keeps which translation units each chunk came from. Writing a unit:
//!
//! - links it to the chunk of each file it saw, inserting a chunk's facts only the
//!   first time that chunk is seen — a header `static inline` seen from a thousand
//!   translation units is written once;
//! - unlinks the chunks it had before, and deletes the chunks (and their facts) that
//!   no unit links any more (each chunk counts the units that link it).
//!
//! A definition or declaration is one row however many chunks hold it: each chunk
//! lists the ids of its own, and each row counts the chunks that list it. (The
//! declarations of what a unit calls belong to its main file: `_printk`'s would
//! otherwise be a row for every unit that calls it.)
//!
//! So the database always holds exactly the union of what its translation units saw:
//! a header that reads differently under another configuration or after a
//! `#define` in the including file gets a chunk of its own, and a rebuilt unit leaves
//! nothing stale behind.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use crate::{
    meta_key, Db, FileId, FileIx, NewFile, Result, SymbolId, SymbolIx, Trees, TuFacts, TuRecord,
    WriteStats,
};

impl Db {
    /// Records one translation unit in a single `IMMEDIATE` transaction, replacing
    /// whatever an earlier build of the same object recorded.
    pub fn write_tu(&mut self, tu: &TuRecord, facts: &TuFacts) -> Result<WriteStats> {
        self.write_tu_hashed(tu, facts, None)
    }

    /// [`Db::write_tu`] with the facts' chunk hashes ([`chunk_hashes`]) when the caller
    /// has them.
    pub fn write_tu_hashed(
        &mut self,
        tu: &TuRecord,
        facts: &TuFacts,
        hashes: Option<BTreeMap<FileIx, String>>,
    ) -> Result<WriteStats> {
        let path = self.path.clone();
        // Without the write lock: a rebuild that gives the same facts (`make clean`,
        // a header touched) leaves the database alone.
        if tu.facts.is_some()
            && recorded_as(&self.conn, self.version, tu).map_err(|e| crate::sql_err(&path, e))?
        {
            return Ok(WriteStats {
                unchanged: true,
                ..WriteStats::default()
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| crate::sql_err(&path, e))?;
        let hashes = hashes.unwrap_or_else(|| chunk_hashes(facts, &HashMap::new()));
        let stats = write_facts(&tx, tu, facts, hashes).map_err(|e| crate::sql_err(&path, e))?;
        tx.commit().map_err(|e| crate::sql_err(&path, e))?;
        Ok(stats)
    }

    /// Rewrites the database file compactly (SQLite's `VACUUM`): the same content in
    /// fewer pages. Holds the write lock while it runs; readers are not blocked.
    pub fn compact(&mut self) -> Result<()> {
        self.conn
            .execute_batch("VACUUM")
            .map_err(|e| crate::sql_err(&self.path, e))
    }

    /// Whether `tu` is recorded exactly so, with the facts its `facts` names: writing
    /// it again would change nothing.
    pub fn is_recorded(&self, tu: &TuRecord) -> Result<bool> {
        if tu.facts.is_none() {
            return Ok(false);
        }
        recorded_as(&self.conn, self.version, tu).map_err(|e| crate::sql_err(&self.path, e))
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
            Some(f) => Some(file_id(&tx, f).map_err(|e| crate::sql_err(&path, e))?),
            None => None,
        };
        upsert_tu(&tx, tu, source).map_err(|e| crate::sql_err(&path, e))?;
        tx.commit().map_err(|e| crate::sql_err(&path, e))
    }

    /// Makes sure this database is this build's: records the trees its relative paths
    /// are relative to, or refuses ([`crate::Error::OtherTrees`]) when units of a build
    /// in other trees are recorded, so that paths relative to two trees never mix.
    pub fn claim_trees(&mut self, trees: &Trees) -> Result<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| crate::sql_err(&path, e))?;
        let recorded = read_trees(&tx).map_err(|e| crate::sql_err(&path, e))?;
        if recorded != *trees {
            let units: bool = tx
                .query_row("SELECT EXISTS (SELECT 1 FROM tus)", [], |r| r.get(0))
                .map_err(|e| crate::sql_err(&path, e))?;
            if units {
                return Err(crate::Error::OtherTrees {
                    path,
                    recorded,
                    this: trees.clone(),
                });
            }
            for (key, value) in [
                (meta_key::SRCTREE, &trees.srctree),
                (meta_key::OBJTREE, &trees.objtree),
            ] {
                match value {
                    Some(v) => tx.execute(
                        "INSERT INTO meta(key, value) VALUES (?1, ?2)
                         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        params![key, v],
                    ),
                    None => tx.execute("DELETE FROM meta WHERE key = ?1", [key]),
                }
                .map_err(|e| crate::sql_err(&path, e))?;
            }
        }
        tx.commit().map_err(|e| crate::sql_err(&path, e))
    }
}

/// The trees recorded in `meta`.
pub(crate) fn read_trees(conn: &rusqlite::Connection) -> rusqlite::Result<Trees> {
    let get = |key: &str| -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    };
    Ok(Trees {
        srctree: get(meta_key::SRCTREE)?,
        objtree: get(meta_key::OBJTREE)?,
    })
}

/// Whether `tu` is recorded exactly so, its facts named as `tu.facts` names them.
fn recorded_as(conn: &rusqlite::Connection, version: i64, tu: &TuRecord) -> rusqlite::Result<bool> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT f.root, f.base, f.path, t.directory, {}, t.module, t.modname,
                        t.status, t.reason, t.facts
                 FROM tus t LEFT JOIN files f ON f.id = t.source WHERE t.object = ?1",
            if version >= 8 {
                crate::COMMAND_TEXT
            } else {
                "t.command"
            }
        ))?
        .query_row([&tu.object], |r| {
            let source = match r.get::<_, Option<crate::Root>>(0)? {
                Some(root) => {
                    let base: String = r.get(1)?;
                    Some(NewFile {
                        root,
                        base: (!base.is_empty()).then_some(base),
                        path: r.get(2)?,
                    })
                }
                None => None,
            };
            let command: String = r.get(4)?;
            Ok(TuRecord {
                object: tu.object.clone(),
                source,
                directory: r.get(3)?,
                command: command.split('\0').map(str::to_owned).collect(),
                module: r.get(5)?,
                modname: r.get(6)?,
                status: r.get(7)?,
                reason: r.get(8)?,
                facts: r.get(9)?,
            })
        })
        .optional()?;
    Ok(row.as_ref() == Some(tu))
}

fn file_id(tx: &Transaction<'_>, f: &NewFile) -> rusqlite::Result<FileId> {
    file_id_on_disk(tx, f, None)
}

/// The id of `f`, recorded if new; with `trees`, its size, modification time and
/// content hash as on disk now, when they changed since recorded (the content is
/// read only then).
fn file_id_on_disk(
    tx: &Transaction<'_>,
    f: &NewFile,
    trees: Option<&Trees>,
) -> rusqlite::Result<FileId> {
    let base = f.base.as_deref().unwrap_or("");
    let found: Option<(FileId, Option<i64>, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, size, mtime FROM files WHERE root = ?1 AND base = ?2 AND path = ?3",
        )?
        .query_row(params![f.root, base, f.path], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (id, recorded) = match found {
        Some((id, size, mtime)) => (id, size.zip(mtime)),
        None => {
            tx.prepare_cached("INSERT INTO files(root, base, path) VALUES (?1, ?2, ?3)")?
                .execute(params![f.root, base, f.path])?;
            (FileId(tx.last_insert_rowid()), None)
        }
    };
    let file = crate::File {
        id,
        root: f.root,
        base: f.base.clone(),
        path: f.path.clone(),
    };
    let Some(path) = trees.and_then(|t| t.on_disk(&file)) else {
        return Ok(id);
    };
    let Some(now) = crate::FileStamp::of(&path) else {
        return Ok(id);
    };
    if recorded == Some((now.size, now.mtime)) {
        return Ok(id);
    }
    let Ok(content) = std::fs::read(&path) else {
        return Ok(id);
    };
    tx.prepare_cached("UPDATE files SET size = ?2, mtime = ?3, hash = ?4 WHERE id = ?1")?
        .execute(params![
            id,
            now.size,
            now.mtime,
            crate::content_hash(&content).to_vec()
        ])?;
    Ok(id)
}

fn upsert_tu(tx: &Transaction<'_>, tu: &TuRecord, source: Option<FileId>) -> rusqlite::Result<i64> {
    // The command is stored as the ids of its arguments (`crate::id_list`).
    let mut args = Vec::with_capacity(tu.command.len());
    for a in &tu.command {
        args.push(
            tx.prepare_cached(
                "INSERT INTO arguments(text) VALUES (?1)
                 ON CONFLICT (text) DO UPDATE SET text = text RETURNING id",
            )?
            .query_row([a], |r| r.get::<_, i64>(0))?,
        );
    }
    tx.prepare_cached(
        "INSERT INTO tus(object, source, directory, command, module, modname, status, reason,
                         facts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(object) DO UPDATE SET
            source = excluded.source, directory = excluded.directory,
            command = excluded.command, module = excluded.module,
            modname = excluded.modname, status = excluded.status, reason = excluded.reason,
            facts = excluded.facts
         RETURNING id",
    )?
    .query_row(
        params![
            tu.object,
            source,
            tu.directory,
            crate::id_list::encode_seq(&args),
            tu.module,
            tu.modname,
            tu.status,
            tu.reason,
            tu.facts
        ],
        |r| r.get(0),
    )
}

/// A stable 64-bit FNV-1a hash.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A file's facts whose chunk hash is known: a header's, taken as an earlier unit
/// recorded them, whose hash that unit worked out. The caller vouches that the facts
/// and the symbols they name are as recorded; their number is checked too.
#[derive(Clone, Debug)]
pub struct KnownChunk {
    pub hash: String,
    /// How many facts (definitions, calls, stores and uses) it holds: the hash is
    /// taken only when the unit's facts of that file are as many.
    pub facts: usize,
}

/// How many facts (definitions, calls, stores, uses) each file holds.
fn facts_by_owner(facts: &TuFacts) -> HashMap<FileIx, usize> {
    let mut n: HashMap<FileIx, usize> = HashMap::new();
    facts.for_each_owned(|owner, _| *n.entry(owner).or_default() += 1);
    n
}

/// The content hash of each file's facts: everything a fact says, with symbols by
/// their USR and files by path, in a canonical order (each fact a line, the lines
/// sorted). Each symbol's and file's text is made once, not once per fact that names
/// it. The files in `known` whose facts are as many as it says take its hash.
pub fn chunk_hashes(
    facts: &TuFacts,
    known: &HashMap<FileIx, KnownChunk>,
) -> BTreeMap<FileIx, String> {
    let mut hashes = BTreeMap::new();
    if !known.is_empty() {
        for (owner, n) in facts_by_owner(facts) {
            if let Some(k) = known.get(&owner).filter(|k| k.facts == n) {
                hashes.insert(owner, k.hash.clone());
            }
        }
    }
    let mut lines: BTreeMap<FileIx, Vec<String>> = BTreeMap::new();
    // Each file's and symbol's text, made when a fact to hash first names it (the
    // facts of the files whose hash is known name most of the unit's symbols).
    let files: Vec<OnceCell<String>> = vec![OnceCell::new(); facts.files.len()];
    let symbols: Vec<OnceCell<String>> = vec![OnceCell::new(); facts.symbols.len()];
    let file = |i: FileIx| files[i.get()].get_or_init(|| facts[i].key()).as_str();
    let sym = |i: SymbolIx| {
        symbols[i.get()]
            .get_or_init(|| {
                let s = &facts[i];
                format!(
                    "{}|{}|{}|{}|{}",
                    s.usr,
                    s.name,
                    s.scope.as_deref().unwrap_or(""),
                    s.kind,
                    s.linkage
                )
            })
            .as_str()
    };
    let fresh = |owner: &FileIx| !hashes.contains_key(owner);
    for d in facts.definitions.iter().filter(|d| fresh(&d.owner)) {
        lines.entry(d.owner).or_default().push(format!(
            "d|{}|{}|{}|{}|{}|{}",
            sym(d.symbol),
            file(d.file),
            d.line,
            d.col,
            d.macro_name.as_deref().unwrap_or(""),
            d.definition
        ));
    }
    for c in facts.calls.iter().filter(|c| fresh(&c.owner)) {
        lines.entry(c.owner).or_default().push(format!(
            // A live call reads as before schema 9, one that is no alias as before 11.
            "c|{}|{}|{}|{}|{}|{}|{}{}{}",
            sym(c.caller),
            sym(c.callee),
            file(c.file),
            c.line,
            c.col,
            c.indirect,
            c.macro_name.as_deref().unwrap_or(""),
            if c.dead { "|dead" } else { "" },
            match (c.alias, c.weak) {
                (false, _) => "",
                (true, false) => "|alias",
                (true, true) => "|weak alias",
            }
        ));
    }
    for st in facts.stores.iter().filter(|st| fresh(&st.owner)) {
        lines.entry(st.owner).or_default().push(format!(
            "s|{}|{}|{}|{}|{}|{}|{}",
            sym(st.target),
            sym(st.value),
            file(st.file),
            st.line,
            st.col,
            st.macro_name.as_deref().unwrap_or(""),
            sym(st.within)
        ));
    }
    for u in facts.uses.iter().filter(|u| fresh(&u.owner)) {
        lines.entry(u.owner).or_default().push(format!(
            "u|{}|{}|{}|{}|{}|{}|{}",
            sym(u.symbol),
            sym(u.function),
            u.access,
            file(u.file),
            u.line,
            u.col,
            u.macro_name.as_deref().unwrap_or("")
        ));
    }
    // Every file entered has a chunk; what it skipped is part of it (nothing skipped
    // adds nothing, so such a chunk reads as before schema 12).
    for k in facts.skipped.iter().filter(|k| fresh(&k.file)) {
        let l = lines.entry(k.file).or_default();
        if !k.lines.is_empty() {
            let ranges: Vec<String> = k.lines.iter().map(|(a, b)| format!("{a}-{b}")).collect();
            l.push(format!("k|{}", ranges.join("|")));
        }
    }
    for (owner, mut l) in lines {
        l.sort_unstable();
        let mut h = Fnv::new();
        for x in &l {
            h.add(x.as_bytes());
        }
        hashes.insert(owner, format!("{:016x}", h.0));
    }
    hashes
}

fn write_facts(
    tx: &Transaction<'_>,
    tu: &TuRecord,
    facts: &TuFacts,
    hashes: BTreeMap<FileIx, String>,
) -> rusqlite::Result<WriteStats> {
    let mut stats = WriteStats::default();

    let mut ids: HashMap<FileIx, FileId> = HashMap::new();
    let trees = read_trees(tx)?;
    let mut fid = |i: FileIx| -> rusqlite::Result<FileId> {
        if let Some(id) = ids.get(&i) {
            return Ok(*id);
        }
        let id = file_id_on_disk(tx, &facts[i], Some(&trees))?;
        ids.insert(i, id);
        Ok(id)
    };

    let source = match (facts.main_file, &tu.source) {
        (Some(i), _) => Some(fid(i)?),
        (None, Some(f)) => Some(file_id(tx, f)?),
        (None, None) => None,
    };
    let tu_id = upsert_tu(tx, tu, source)?;

    // Unlink the chunks the unit had; each counts the units that link it.
    let old: Vec<i64> = tx
        .prepare_cached("SELECT chunk FROM tu_chunks WHERE tu = ?1")?
        .query_map([tu_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    tx.prepare_cached(
        "UPDATE chunks SET units = units - 1
         WHERE id IN (SELECT chunk FROM tu_chunks WHERE tu = ?1)",
    )?
    .execute([tu_id])?;
    tx.prepare_cached("DELETE FROM tu_chunks WHERE tu = ?1")?
        .execute([tu_id])?;

    // Link this unit to the chunk of each file; the chunks seen for the first time
    // get their facts inserted.
    let mut new_chunks: HashMap<FileIx, i64> = HashMap::new();
    let skipped: HashMap<FileIx, &[(u32, u32)]> = facts
        .skipped
        .iter()
        .map(|k| (k.file, k.lines.as_slice()))
        .collect();
    for (owner, hash) in hashes {
        let file = fid(owner)?;
        let found: Option<i64> = tx
            .prepare_cached("SELECT id FROM chunks WHERE file = ?1 AND hash = ?2")?
            .query_row(params![file, hash], |r| r.get(0))
            .optional()?;
        let chunk = match found {
            Some(id) => {
                stats.files_skipped += 1;
                id
            }
            None => {
                let lines = skipped.get(&owner).map(|l| {
                    let mut flat: Vec<i64> = l
                        .iter()
                        .flat_map(|&(a, b)| [i64::from(a), i64::from(b)])
                        .collect();
                    crate::id_list::encode_set(&mut flat)
                });
                tx.prepare_cached("INSERT INTO chunks(file, hash, skipped) VALUES (?1, ?2, ?3)")?
                    .execute(params![file, hash, lines])?;
                let id = tx.last_insert_rowid();
                new_chunks.insert(owner, id);
                stats.files_recorded += 1;
                id
            }
        };
        if tx
            .prepare_cached("INSERT OR IGNORE INTO tu_chunks(tu, chunk) VALUES (?1, ?2)")?
            .execute(params![tu_id, chunk])?
            > 0
        {
            tx.prepare_cached("UPDATE chunks SET units = units + 1 WHERE id = ?1")?
                .execute([chunk])?;
        }
    }

    let mut symbols: HashMap<SymbolIx, SymbolId> = HashMap::new();
    let mut symbol_id = |i: SymbolIx| -> rusqlite::Result<SymbolId> {
        if let Some(id) = symbols.get(&i) {
            return Ok(*id);
        }
        let s = &facts[i];
        let found = tx
            .prepare_cached("SELECT id FROM symbols WHERE key = ?1")?
            .query_row([crate::symbol_key(&s.usr)], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                tx.prepare_cached(
                    "INSERT INTO symbols(key, name, scope, kind, linkage) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![crate::symbol_key(&s.usr), s.name, s.scope, s.kind, s.linkage])?;
                SymbolId(tx.last_insert_rowid())
            }
        };
        symbols.insert(i, id);
        Ok(id)
    };

    if !new_chunks.is_empty() {
        // A definition is one row however many chunks list it (see `crate::id_list`).
        let mut upsert = tx.prepare_cached(
            "INSERT INTO definitions(symbol, file, line, col, macro, definition, chunks)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
             ON CONFLICT (symbol, file, line, col, definition) DO UPDATE
                 SET chunks = chunks + 1
             RETURNING id, chunks",
        )?;
        let mut listed: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for d in &facts.definitions {
            let Some(&chunk) = new_chunks.get(&d.owner) else {
                continue;
            };
            let (sym, file) = (symbol_id(d.symbol)?, fid(d.file)?);
            if !seen.insert((chunk, sym, file, d.line, d.col, d.definition)) {
                continue;
            }
            let (id, chunks): (i64, i64) = upsert.query_row(
                params![sym, file, d.line, d.col, d.macro_name, d.definition],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            stats.definitions += usize::from(chunks == 1);
            listed.entry(chunk).or_default().push(id);
        }
        for (chunk, mut ids) in listed {
            let blob = crate::id_list::encode_set(&mut ids);
            tx.prepare_cached("UPDATE chunks SET definitions = ?2 WHERE id = ?1")?
                .execute(params![chunk, blob])?;
        }
        // A call site written twice in a chunk is one row, dead only when both are
        // (no constraint keeps out repeats: see schema 15).
        let mut rows: Vec<(i64, SymbolId, SymbolId, FileId, &crate::NewCall, bool)> = Vec::new();
        let mut at: HashMap<(i64, SymbolId, SymbolId, FileId, u32, u32), usize> = HashMap::new();
        for c in &facts.calls {
            let Some(&chunk) = new_chunks.get(&c.owner) else {
                continue;
            };
            let (caller, callee, file) = (symbol_id(c.caller)?, symbol_id(c.callee)?, fid(c.file)?);
            match at.entry((chunk, caller, callee, file, c.line, c.col)) {
                std::collections::hash_map::Entry::Occupied(e) => rows[*e.get()].5 &= c.dead,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(rows.len());
                    rows.push((chunk, caller, callee, file, c, c.dead));
                }
            }
        }
        let mut insert = tx.prepare_cached(
            "INSERT INTO calls(caller, callee, file, line, col, indirect, macro, chunk, dead, alias)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (chunk, caller, callee, file, c, dead) in rows {
            stats.calls += insert.execute(params![
                caller,
                callee,
                file,
                c.line,
                c.col,
                c.indirect,
                c.macro_name,
                chunk,
                dead,
                // 2: a weak alias (see `read::LINKED`).
                i64::from(c.alias) + i64::from(c.alias && c.weak)
            ])?;
        }
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO stores(target, value, file, line, col, macro, chunk, within)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for st in &facts.stores {
            let Some(&chunk) = new_chunks.get(&st.owner) else {
                continue;
            };
            let (target, value) = (symbol_id(st.target)?, symbol_id(st.value)?);
            stats.stores += insert.execute(params![
                target,
                value,
                fid(st.file)?,
                st.line,
                st.col,
                st.macro_name,
                chunk,
                symbol_id(st.within)?
            ])?;
        }
        // A chunk's uses, each once (no constraint keeps out repeats: see schema 14).
        let mut insert = tx.prepare_cached(
            "INSERT INTO uses(chunk, symbol, function, access, file, line, col, macro)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut seen = std::collections::HashSet::new();
        for u in &facts.uses {
            let Some(&chunk) = new_chunks.get(&u.owner) else {
                continue;
            };
            let (symbol, function, file) =
                (symbol_id(u.symbol)?, symbol_id(u.function)?, fid(u.file)?);
            if !seen.insert((chunk, symbol, function, u.access, file, u.line, u.col)) {
                continue;
            }
            stats.uses += insert.execute(params![
                chunk,
                symbol,
                function,
                u.access,
                file,
                u.line,
                u.col,
                u.macro_name
            ])?;
        }
    }

    // Chunks no unit links any more go, with their facts.
    for chunk in old {
        let (units, definitions): (i64, Option<Vec<u8>>) = tx
            .prepare_cached("SELECT units, definitions FROM chunks WHERE id = ?1")?
            .query_row([chunk], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if units > 0 {
            continue;
        }
        for id in crate::id_list::decode_set(definitions.as_deref()) {
            tx.prepare_cached("UPDATE definitions SET chunks = chunks - 1 WHERE id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM definitions WHERE id = ?1 AND chunks <= 0")?
                .execute([id])?;
        }
        for table in ["calls", "stores", "uses"] {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE chunk = ?1"))?
                .execute([chunk])?;
        }
        tx.prepare_cached("DELETE FROM chunks WHERE id = ?1")?
            .execute([chunk])?;
        stats.chunks_dropped += 1;
    }
    Ok(stats)
}
