//! Queries. Every hot query is covered by an index (see the `query_plans` test).

use std::collections::BTreeSet;

use rusqlite::{params, OptionalExtension, Row};

use crate::{
    id_list, CallEdge, Db, Definition, File, FileId, IndirectCall, Location, Result, Store, Symbol,
    SymbolId, Tu, TuId, Use,
};

/// Receives every fact of the database, one at a time (see [`Db::dump`]).
pub trait DumpVisitor {
    type Error: From<crate::Error>;
    fn file(&mut self, file: &File) -> Result<(), Self::Error>;
    /// `defs` are every definition and recorded declaration of the symbol, definitions
    /// first (the first of them is its primary place).
    fn symbol(&mut self, symbol: &Symbol, defs: &[Definition]) -> Result<(), Self::Error>;
    fn definition(&mut self, def: &Definition) -> Result<(), Self::Error>;
    fn call(&mut self, call: &CallEdge) -> Result<(), Self::Error>;
    fn store(&mut self, store: &Store) -> Result<(), Self::Error>;
    fn use_(&mut self, u: &Use) -> Result<(), Self::Error>;
    fn tu(&mut self, tu: &Tu) -> Result<(), Self::Error>;
}

const SYMBOL_COLUMNS: &str = "id, name, scope, kind, linkage";
// A fact several chunks hold is stored once per chunk (a definition is one row since
// schema 8, but was not before): reads ask for DISTINCT rows.
const DEF_COLUMNS: &str = "DISTINCT symbol, file, line, col, macro, definition";
const CALL_COLUMNS: &str = "DISTINCT caller, callee, file, line, col, indirect, macro, dead, alias";
/// A condition on `calls c` that leaves out the call of a weak alias (`cond_syscall`'s
/// `sys_io_setup` of `sys_ni_syscall`, `calls.alias` = 2) whose name is also defined
/// elsewhere: the linker takes that definition, so the weak one's target is never
/// reached through that name.
const LINKED: &str = "NOT (c.alias = 2 AND EXISTS (SELECT 1 FROM definitions o
    WHERE o.symbol = c.caller AND o.definition
    AND NOT (o.file = c.file AND o.line = c.line AND o.col = c.col)))";
/// [`CALL_COLUMNS`] of a database before schema 11: no aliases.
const CALL_COLUMNS_V10: &str = "DISTINCT caller, callee, file, line, col, indirect, macro, dead, 0";
/// [`CALL_COLUMNS`] of a database before schema 9: every call is live.
const CALL_COLUMNS_V8: &str = "DISTINCT caller, callee, file, line, col, indirect, macro, 0, 0";
// A store recorded before schema 7 has no `within`; beside the same store indexed
// again it is one row, with the `within` that is known.
const STORE_COLUMNS: &str = "target, value, file, line, col, macro,
    (SELECT kind FROM symbols y WHERE y.id = value) != 'function', max(within)";
/// [`STORE_COLUMNS`] of a database before schema 7, read as it is.
const STORE_COLUMNS_V6: &str = "target, value, file, line, col, macro,
    (SELECT kind FROM symbols y WHERE y.id = value) != 'function', NULL";
const STORE_GROUP: &str = "GROUP BY target, value, file, line, col, macro";
const USE_COLUMNS: &str = "DISTINCT symbol, function, access, file, line, col, macro";

/// Whether the file `d.file` is a system header (`/usr/include/unistd.h`, clang's
/// resource headers under `/usr/lib`): outside the build's trees (as `File::is_system`).
const SYSTEM_FILE: &str = "EXISTS (SELECT 1 FROM files sf WHERE sf.id = d.file
    AND sf.root = 'abs' AND (sf.path LIKE '/usr/include/%' OR sf.path LIKE '/usr/lib/%'))";

/// Every (pointer, function) where the function can be behind a call through the
/// pointer: stored into it, or into a pointer copied into it. CROSS JOIN keeps SQLite
/// from scanning every symbol for functions: the stores are far fewer.
const REACH_CTE: &str = "WITH RECURSIVE reach(ptr, fn) AS (
    SELECT s.target, s.value FROM stores s CROSS JOIN symbols y ON y.id = s.value
    WHERE y.kind = 'function'
    UNION SELECT s.target, r.fn FROM stores s JOIN reach r ON s.value = r.ptr)";

/// Everything a pointer may hold: the pointers and members stored into it, followed
/// back through copies (`worker->current_func = work->func`) to the functions.
const SOURCES_CTE: &str = "WITH RECURSIVE src(sym) AS (
    SELECT ?1 UNION SELECT s.value FROM stores s JOIN src ON s.target = src.sym)";
/// Everything a function was stored into, followed forward through copies.
const HOLDERS_CTE: &str = "WITH RECURSIVE holders(sym) AS (
    SELECT target FROM stores WHERE value = ?1
    UNION SELECT s.target FROM stores s JOIN holders h ON s.value = h.sym)";

fn store_row(r: &Row<'_>) -> rusqlite::Result<Store> {
    Ok(Store {
        target: r.get(0)?,
        value: r.get(1)?,
        site: Location {
            file: r.get(2)?,
            line: r.get(3)?,
            col: r.get(4)?,
        },
        macro_name: r.get(5)?,
        copy: r.get(6)?,
        within: r.get(7)?,
    })
}

fn use_row(r: &Row<'_>) -> rusqlite::Result<Use> {
    Ok(Use {
        symbol: r.get(0)?,
        function: r.get(1)?,
        access: r.get(2)?,
        site: Location {
            file: r.get(3)?,
            line: r.get(4)?,
            col: r.get(5)?,
        },
        macro_name: r.get(6)?,
    })
}

fn symbol_row(r: &Row<'_>) -> rusqlite::Result<Symbol> {
    symbol_row_at(r, 0)
}

/// A symbol read from the [`SYMBOL_COLUMNS`] that start at column `at`.
fn symbol_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Symbol> {
    Ok(Symbol {
        id: r.get(at)?,
        name: r.get(at + 1)?,
        scope: r.get(at + 2)?,
        kind: r.get(at + 3)?,
        linkage: r.get(at + 4)?,
    })
}

fn def_row(r: &Row<'_>) -> rusqlite::Result<Definition> {
    Ok(Definition {
        symbol: r.get(0)?,
        loc: Location {
            file: r.get(1)?,
            line: r.get(2)?,
            col: r.get(3)?,
        },
        macro_name: r.get(4)?,
        definition: r.get(5)?,
    })
}

fn call_row(r: &Row<'_>) -> rusqlite::Result<CallEdge> {
    Ok(CallEdge {
        caller: r.get(0)?,
        callee: r.get(1)?,
        site: Location {
            file: r.get(2)?,
            line: r.get(3)?,
            col: r.get(4)?,
        },
        indirect: r.get(5)?,
        macro_name: r.get(6)?,
        dead: r.get(7)?,
        alias: r.get(8)?,
    })
}

/// `calls` without a dead row whose site is also recorded live (a header read one way
/// by one unit and another way by another).
fn live_first(mut calls: Vec<CallEdge>) -> Vec<CallEdge> {
    let live: std::collections::HashSet<_> = calls
        .iter()
        .filter(|c| !c.dead)
        .map(|c| (c.caller, c.callee, c.site))
        .collect();
    calls.retain(|c| !c.dead || !live.contains(&(c.caller, c.callee, c.site)));
    calls
}

fn file_row(r: &Row<'_>) -> rusqlite::Result<File> {
    let base: String = r.get(2)?;
    Ok(File {
        id: r.get(0)?,
        root: r.get(1)?,
        base: (!base.is_empty()).then_some(base),
        path: r.get(3)?,
    })
}

fn tu_row(r: &Row<'_>) -> rusqlite::Result<Tu> {
    let command: String = r.get(4)?;
    Ok(Tu {
        id: TuId(r.get(0)?),
        object: r.get(1)?,
        source: r.get(2)?,
        directory: r.get(3)?,
        command: command.split('\0').map(str::to_owned).collect(),
        module: r.get(5)?,
        status: r.get(6)?,
        reason: r.get(7)?,
        modname: r.get(8)?,
    })
}

impl Db {
    /// The columns of a file row; a database older than version 3 has no `base` (it is
    /// read as it is, readers never migrate).
    fn file_columns(&self) -> &'static str {
        if self.version >= 3 {
            "id, root, base, path"
        } else {
            "id, root, '', path"
        }
    }

    /// The columns of a unit row (no `modname` before version 3).
    /// The columns of a store row (no `within` before version 7).
    fn store_columns(&self) -> &'static str {
        if self.version >= 7 {
            STORE_COLUMNS
        } else {
            STORE_COLUMNS_V6
        }
    }

    /// Whether the database tells dead calls apart (schema 9 and later).
    pub fn records_dead_calls(&self) -> bool {
        self.version >= 9
    }

    /// The columns `call_row` reads (every call live before version 9, no aliases
    /// before 11).
    fn call_columns(&self) -> &'static str {
        if self.version >= 11 {
            CALL_COLUMNS
        } else if self.version >= 9 {
            CALL_COLUMNS_V10
        } else {
            CALL_COLUMNS_V8
        }
    }

    /// [`LINKED`] where the database has aliases.
    fn linked(&self) -> &'static str {
        if self.version >= 11 {
            LINKED
        } else {
            "1"
        }
    }

    /// A condition on `calls c` that holds for the calls this configuration runs.
    fn live_call(&self) -> &'static str {
        if self.version >= 9 {
            "NOT c.dead"
        } else {
            "1"
        }
    }

    /// The columns `tu_row` reads, from `tus t`.
    fn tu_columns(&self) -> String {
        let command = if self.version >= 8 {
            crate::COMMAND_TEXT
        } else {
            "t.command"
        };
        let modname = if self.version >= 3 {
            "t.modname"
        } else {
            "NULL"
        };
        format!(
            "t.id, t.object, t.source, t.directory, {command}, t.module, t.status, t.reason, \
             {modname}"
        )
    }

    /// The file with id `id` as it was when last indexed (schema 10): its size and
    /// modification time, and its content's hash ([`crate::content_hash`]). None when
    /// not recorded.
    pub fn file_as_indexed(&self, id: FileId) -> Result<Option<(crate::FileStamp, Vec<u8>)>> {
        if self.version < 10 {
            return Ok(None);
        }
        self.conn
            .prepare_cached("SELECT size, mtime, hash FROM files WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    let (size, mtime, hash): (Option<i64>, Option<i64>, Option<Vec<u8>>) =
                        (r.get(0)?, r.get(1)?, r.get(2)?);
                    Ok(size
                        .zip(mtime)
                        .zip(hash)
                        .map(|((size, mtime), hash)| (crate::FileStamp { size, mtime }, hash)))
                })
            })
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    pub fn file(&self, id: FileId) -> Result<File> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {} FROM files WHERE id = ?1",
                self.file_columns()
            ))
            .and_then(|mut s| s.query_row([id], file_row))
            .map_err(|e| self.err(e))
    }

    pub fn symbol(&self, id: SymbolId) -> Result<Symbol> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SYMBOL_COLUMNS} FROM symbols WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], symbol_row))
            .map_err(|e| self.err(e))
    }

    /// Symbols called `name` (for fields, the field's own name) that have a definition,
    /// a declaration or a call recorded.
    pub fn symbols_named(&self, name: &str) -> Result<Vec<Symbol>> {
        self.collect(
            &format!(
                "SELECT {SYMBOL_COLUMNS} FROM symbols s WHERE name = ?1
                 AND (EXISTS (SELECT 1 FROM definitions d WHERE d.symbol = s.id)
                      OR EXISTS (SELECT 1 FROM calls c WHERE c.callee = s.id)
                      OR EXISTS (SELECT 1 FROM stores t WHERE t.target = s.id))
                 ORDER BY id"
            ),
            params![name],
            symbol_row,
        )
    }

    /// Whether another recorded symbol (a definition, declaration, call or store) has
    /// the name and scope of `s`: two `static` functions called `init`, the `it_func`
    /// parameters of a thousand tracepoints. Stops at the first.
    pub fn shares_name(&self, s: &Symbol) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM symbols s
                 WHERE name = ?1 AND scope IS ?2 AND id != ?3
                 AND (EXISTS (SELECT 1 FROM definitions d WHERE d.symbol = s.id)
                      OR EXISTS (SELECT 1 FROM calls c WHERE c.callee = s.id)
                      OR EXISTS (SELECT 1 FROM stores t WHERE t.target = s.id)))",
            )
            .and_then(|mut st| st.query_row(params![s.name, s.scope, s.id], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// Every distinct symbol name, for suggesting close matches.
    pub fn names(&self) -> Result<Vec<String>> {
        self.collect(
            "SELECT DISTINCT name FROM symbols s
             WHERE EXISTS (SELECT 1 FROM definitions d WHERE d.symbol = s.id)",
            [],
            |r| r.get(0),
        )
    }

    /// Every symbol with a definition or declaration, with the file of a definition
    /// (else of a declaration) and whether that file is a system header, for the
    /// navigator's search.
    pub fn searchable_symbols(&self) -> Result<Vec<(Symbol, FileId, bool)>> {
        self.collect(
            &format!(
                "SELECT id, name, scope, kind, linkage, d.file, {SYSTEM_FILE}
                 FROM symbols s JOIN (SELECT symbol, file, max(definition)
                                      FROM definitions GROUP BY symbol) d
                   ON d.symbol = s.id"
            ),
            [],
            |r| Ok((symbol_row(r)?, r.get(5)?, r.get(6)?)),
        )
    }

    /// Up to `limit` searchable symbols whose name starts with `prefix` (case as
    /// given), each with the file of a definition (else of a declaration): an answer
    /// from the name index, for the search before [`Db::searchable_symbols`] is read.
    pub fn searchable_symbols_starting(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(Symbol, FileId, bool)>> {
        // Names are compared bytewise: every name with the prefix sorts below this.
        let end = format!("{prefix}\u{10FFFF}");
        self.collect(
            &format!(
                "SELECT id, name, scope, kind, linkage, f, {} FROM (
                    SELECT s.id, s.name, s.scope, s.kind, s.linkage,
                           (SELECT d.file FROM definitions d WHERE d.symbol = s.id
                            ORDER BY d.definition DESC LIMIT 1) AS f
                    FROM symbols s WHERE s.name >= ?1 AND s.name < ?2)
                 WHERE f IS NOT NULL LIMIT ?3",
                SYSTEM_FILE.replace("d.file", "f")
            ),
            params![prefix, end, limit as i64],
            |r| Ok((symbol_row(r)?, r.get(5)?, r.get(6)?)),
        )
    }

    /// Every file, for matching the tail of a path.
    pub fn files(&self) -> Result<Vec<File>> {
        self.collect(
            &format!("SELECT {} FROM files", self.file_columns()),
            [],
            file_row,
        )
    }

    /// The fields of a struct or union called `scope` (all of that name), in the order
    /// they are defined. Not indexed: a scan of the symbols.
    pub fn fields_of(&self, scope: &str) -> Result<Vec<Symbol>> {
        self.collect(
            &format!(
                "SELECT {SYMBOL_COLUMNS} FROM symbols s
                 WHERE scope = ?1 AND kind = 'field'
                 ORDER BY (SELECT min(file * 1000000 + line) FROM definitions d
                           WHERE d.symbol = s.id), id"
            ),
            [scope],
            symbol_row,
        )
    }

    /// Definitions first, then declarations; each group in file order.
    pub fn definitions(&self, symbol: SymbolId) -> Result<Vec<Definition>> {
        self.collect(
            &format!(
                "SELECT {DEF_COLUMNS} FROM definitions WHERE symbol = ?1
                 ORDER BY definition DESC, file, line, col"
            ),
            [symbol],
            def_row,
        )
    }

    /// Calls to `symbol`, in call-site order.
    pub fn callers(&self, symbol: SymbolId) -> Result<Vec<CallEdge>> {
        self.collect(
            &format!(
                "SELECT {} FROM calls c WHERE callee = ?1 AND {} ORDER BY file, line, col, caller",
                self.call_columns(),
                self.linked()
            ),
            [symbol],
            call_row,
        )
        .map(live_first)
    }

    /// Calls made by `symbol`, in call-site order.
    pub fn callees(&self, symbol: SymbolId) -> Result<Vec<CallEdge>> {
        self.collect(
            &format!(
                "SELECT {} FROM calls c WHERE caller = ?1 AND {} ORDER BY file, line, col, callee",
                self.call_columns(),
                self.linked()
            ),
            [symbol],
            call_row,
        )
        .map(live_first)
    }

    /// Calls through a member or pointer that `function` was stored into, directly or
    /// through copies, each with `function` (so a caller list can say "via").
    pub fn indirect_callers(&self, function: SymbolId) -> Result<Vec<IndirectCall>> {
        let calls = self
            .collect(
                &format!(
                    "{HOLDERS_CTE}
                 SELECT {} FROM calls WHERE indirect
                   AND callee IN (SELECT sym FROM holders)
                 ORDER BY file, line, col, caller, callee",
                    self.call_columns()
                ),
                [function],
                call_row,
            )
            .map(live_first)?;
        Ok(calls
            .into_iter()
            .map(|call| IndirectCall { call, function })
            .collect())
    }

    /// The functions that can be behind a call through `pointer` (a member, variable
    /// or parameter): those stored into it or into any pointer copied into it.
    pub fn functions_behind(&self, pointer: SymbolId) -> Result<Vec<SymbolId>> {
        self.collect(
            &format!(
                "{SOURCES_CTE}
                 SELECT sym FROM src JOIN symbols y ON y.id = src.sym
                 WHERE y.kind = 'function' ORDER BY y.name, y.id"
            ),
            [pointer],
            |r| r.get(0),
        )
    }

    /// What was stored into `target` (a member, variable or parameter), in site order.
    pub fn stores_into(&self, target: SymbolId) -> Result<Vec<Store>> {
        self.collect(
            &format!(
                "SELECT {} FROM stores WHERE target = ?1 {STORE_GROUP}
                 ORDER BY file, line, col",
                self.store_columns()
            ),
            [target],
            store_row,
        )
    }

    /// Where `value` (a function, or a pointer copied) was stored.
    pub fn stores_of(&self, value: SymbolId) -> Result<Vec<Store>> {
        self.collect(
            &format!(
                "SELECT {} FROM stores WHERE value = ?1 {STORE_GROUP}
                 ORDER BY file, line, col",
                self.store_columns()
            ),
            [value],
            store_row,
        )
    }

    /// The functions that use `symbol` (a global variable or a member), in site order.
    pub fn uses_of(&self, symbol: SymbolId) -> Result<Vec<Use>> {
        self.collect(
            &format!(
                "SELECT {USE_COLUMNS} FROM uses WHERE symbol = ?1
                 ORDER BY function, file, line, col, access"
            ),
            [symbol],
            use_row,
        )
    }

    /// The globals and members `function` uses, in site order (not indexed: a scan).
    pub fn uses_by(&self, function: SymbolId) -> Result<Vec<Use>> {
        self.collect(
            &format!(
                "SELECT {USE_COLUMNS} FROM uses WHERE function = ?1 ORDER BY file, line, col, access"
            ),
            [function],
            use_row,
        )
    }

    /// Where `def` was compiled into: the kernel, modules (by the units whose own
    /// source file holds it).
    pub fn defined_in(&self, def: &Definition) -> Result<crate::DefinedIn> {
        let modname = if self.version >= 3 {
            "t.modname"
        } else {
            "NULL"
        };
        // From the units compiled from the definition's file (none for a header),
        // those whose facts hold it.
        let rows: Vec<(bool, Option<String>)> = if self.version >= 8 {
            let id: Option<i64> = self
                .conn
                .prepare_cached(
                    "SELECT id FROM definitions WHERE symbol = ?1 AND file = ?2 AND line = ?3
                                                  AND col = ?4 AND definition = ?5",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            def.symbol,
                            def.loc.file,
                            def.loc.line,
                            def.loc.col,
                            def.definition
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .map_err(|e| self.err(e))?;
            let Some(id) = id else {
                return Ok(crate::DefinedIn::default());
            };
            let units: Vec<(bool, Option<String>, Option<Vec<u8>>)> = self.collect(
                "SELECT t.module, t.modname, c.definitions FROM tus t
                 JOIN tu_chunks tc ON tc.tu = t.id
                 JOIN chunks c ON c.id = tc.chunk AND c.file = ?1
                 WHERE t.source = ?1",
                [def.loc.file],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            units
                .into_iter()
                .filter(|(_, _, ids)| crate::id_list::set_contains(ids.as_deref(), id))
                .map(|(module, name, _)| (module, name))
                .collect()
        } else {
            self.collect(
                &format!(
                    "SELECT DISTINCT t.module, {modname} FROM tus t
                     WHERE t.source = ?2 AND EXISTS (
                         SELECT 1 FROM definitions d
                         JOIN tu_chunks tc ON tc.chunk = d.chunk AND tc.tu = t.id
                         WHERE d.symbol = ?1 AND d.file = ?2 AND d.line = ?3 AND d.col = ?4)"
                ),
                params![def.symbol, def.loc.file, def.loc.line, def.loc.col],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
        };
        let mut out = crate::DefinedIn::default();
        for (module, name) in rows {
            match (module, name) {
                (true, Some(n)) => out.modules.push(n),
                (true, None) => out.modules.push("?".to_owned()),
                (false, _) => out.builtin = true,
            }
        }
        out.modules.sort();
        out.modules.dedup();
        Ok(out)
    }

    /// Every definition of a function or variable as (name, file, line): what
    /// `nccnav verify` compares with the compiler's debug information.
    pub fn definition_sites(&self) -> Result<Vec<(String, FileId, u32)>> {
        self.collect(
            "SELECT DISTINCT s.name, d.file, d.line
             FROM definitions d JOIN symbols s ON s.id = d.symbol
             WHERE d.definition AND s.kind IN ('function', 'variable')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// What a macro's expansions defined — `DEFINE_SPINLOCK`'s locks, `TRACE_EVENT`'s
    /// functions and structs, not the parameters of the function types they declare —
    /// by kind and name, by the macro's name (through
    /// `definitions_by_macro` from schema 11, a scan of every definition before).
    pub fn made_by(&self, macro_name: &str) -> Result<Vec<(Symbol, Definition)>> {
        self.collect(
            "SELECT d.symbol, d.file, d.line, d.col, d.macro, d.definition,
                    s.id, s.name, s.scope, s.kind, s.linkage
             FROM definitions d JOIN symbols s ON s.id = d.symbol
             WHERE d.macro = ?1 AND d.definition AND s.kind != 'parameter'
             ORDER BY s.kind, s.name, d.file, d.line, d.col",
            params![macro_name],
            |r| Ok((symbol_row_at(r, 6)?, def_row(r)?)),
        )
    }

    /// The files each unit read, as (unit, file): the files of its chunks.
    pub fn unit_files(&self) -> Result<Vec<(TuId, FileId)>> {
        self.collect(
            "SELECT DISTINCT tc.tu, c.file FROM tu_chunks tc JOIN chunks c ON c.id = tc.chunk",
            [],
            |r| Ok((TuId(r.get(0)?), r.get(1)?)),
        )
    }

    /// The lines of `file` this build's preprocessor skipped: those every unit that
    /// read the file skipped (see [`crate::NewSkipped`]), ascending. Empty for a file
    /// one of whose units was recorded before schema 12 (nothing known).
    pub fn skipped_lines(&self, file: FileId) -> Result<crate::LineRanges> {
        if self.version < 12 {
            return Ok(Vec::new());
        }
        let lists: Vec<Option<Vec<u8>>> = self.collect(
            "SELECT skipped FROM chunks WHERE file = ?1 AND units > 0",
            [file],
            |r| r.get(0),
        )?;
        Ok(skipped_by_all(lists.iter().map(Option::as_deref)))
    }

    /// Every file with lines this build's preprocessor skipped, with those lines (as
    /// [`Db::skipped_lines`]), by file id.
    pub fn all_skipped_lines(&self) -> Result<Vec<(FileId, crate::LineRanges)>> {
        if self.version < 12 {
            return Ok(Vec::new());
        }
        let rows: Vec<(FileId, Option<Vec<u8>>)> = self.collect(
            "SELECT file, skipped FROM chunks WHERE units > 0 ORDER BY file",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut out = Vec::new();
        for group in rows.chunk_by(|a, b| a.0 == b.0) {
            let lines = skipped_by_all(group.iter().map(|(_, l)| l.as_deref()));
            if !lines.is_empty() {
                out.push((group[0].0, lines));
            }
        }
        Ok(out)
    }

    /// Every direct call this configuration runs as (caller name, callee name).
    pub fn direct_call_names(&self) -> Result<Vec<(String, String)>> {
        self.collect(
            &format!(
                "SELECT DISTINCT a.name, b.name FROM calls c
                 JOIN symbols a ON a.id = c.caller JOIN symbols b ON b.id = c.callee
                 WHERE NOT c.indirect AND {}",
                self.live_call()
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Every direct call in code this configuration never runs as (caller name,
    /// callee name); a pair may also be among [`Db::direct_call_names`] (a site that
    /// runs elsewhere).
    pub fn dead_direct_call_names(&self) -> Result<Vec<(String, String)>> {
        if self.version < 9 {
            return Ok(Vec::new());
        }
        self.collect(
            "SELECT DISTINCT a.name, b.name FROM calls c
             JOIN symbols a ON a.id = c.caller JOIN symbols b ON b.id = c.callee
             WHERE NOT c.indirect AND c.dead",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Every (caller name, function name) where the caller calls through a pointer
    /// that the function can reach by stores and copies.
    pub fn indirect_call_names(&self) -> Result<Vec<(String, String)>> {
        self.collect(
            &format!(
                "{REACH_CTE} SELECT DISTINCT a.name, f.name FROM calls c
                 JOIN reach r ON r.ptr = c.callee
                 JOIN symbols a ON a.id = c.caller JOIN symbols f ON f.id = r.fn
                 WHERE c.indirect AND {}",
                self.live_call()
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    pub fn tus(&self) -> Result<Vec<Tu>> {
        self.collect(
            &format!("SELECT {} FROM tus t ORDER BY object", self.tu_columns()),
            [],
            tu_row,
        )
    }

    /// How many units the database records.
    pub fn unit_count(&self) -> Result<usize> {
        self.conn
            .query_row("SELECT count(*) FROM tus", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// The units that could not be indexed at all, with the reason.
    pub fn failed_tus(&self) -> Result<Vec<Tu>> {
        self.collect(
            &format!(
                "SELECT {} FROM tus t WHERE status = 'failed' ORDER BY object",
                self.tu_columns()
            ),
            [],
            tu_row,
        )
    }

    /// A number that changes whenever another connection (an indexer) has written to
    /// the database since this one last looked: SQLite's `data_version`.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The trees the stored paths are relative to.
    pub fn trees(&self) -> Result<crate::Trees> {
        crate::write::read_trees(&self.conn).map_err(|e| self.err(e))
    }

    /// Walks every fact: files, symbols (with their primary location), definitions,
    /// calls and translation units. Symbols with neither a definition nor a call are
    /// left out (they belonged to facts that have since been replaced).
    pub fn dump<V: DumpVisitor>(&self, v: &mut V) -> Result<(), V::Error> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM files ORDER BY id",
                self.file_columns()
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            v.file(&file_row(r).map_err(|e| self.err(e))?)?;
        }

        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {SYMBOL_COLUMNS} FROM symbols ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let sym = symbol_row(r).map_err(|e| self.err(e))?;
            let defs = self.definitions(sym.id)?;
            if defs.is_empty() && !self.is_referenced(sym.id)? {
                continue;
            }
            v.symbol(&sym, &defs)?;
            for d in &defs {
                v.definition(d)?;
            }
        }

        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM calls ORDER BY caller, file, line, col, callee",
                self.call_columns()
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            v.call(&call_row(r).map_err(|e| self.err(e))?)?;
        }

        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM stores {STORE_GROUP}
                 ORDER BY target, file, line, col, value",
                self.store_columns()
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            v.store(&store_row(r).map_err(|e| self.err(e))?)?;
        }

        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {USE_COLUMNS} FROM uses ORDER BY function, file, line, col, symbol, access"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            v.use_(&use_row(r).map_err(|e| self.err(e))?)?;
        }

        for tu in self.tus()? {
            v.tu(&tu)?;
        }
        Ok(())
    }

    /// Whether some store was recorded by an nccrs before schema 7, without the
    /// function or variable it is written in (its unit was not indexed since).
    pub fn has_stores_without_place(&self) -> Result<bool> {
        if self.version < 7 {
            return Ok(true);
        }
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM stores WHERE within IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Whether a call, a store or a use names `symbol` (a symbol without definition
    /// that is still part of some fact; a function that uses something is defined).
    fn is_referenced(&self, symbol: SymbolId) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM calls WHERE callee = ?1)
                     OR EXISTS (SELECT 1 FROM stores WHERE target = ?1)
                     OR EXISTS (SELECT 1 FROM stores WHERE value = ?1)
                     OR EXISTS (SELECT 1 FROM uses WHERE symbol = ?1)",
            )
            .and_then(|mut s| s.query_row([symbol], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// The symbols the compiled code names at places of `file`: (line, column,
    /// symbol) of each definition, direct call, use and stored value recorded there,
    /// from the file's chunks. What a position in an editor means.
    pub fn named_in_file(&self, file: FileId) -> Result<Vec<(u32, u32, SymbolId)>> {
        let chunks: Vec<(i64, id_list::Stored)> = self.collect(
            "SELECT id, definitions FROM chunks WHERE file = ?1",
            [file.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let place = |r: &Row<'_>| Ok((r.get(1)?, r.get(2)?, SymbolId(r.get(0)?)));
        let mut out = Vec::new();
        // The chunks of a file mostly list the same definitions: each is read once.
        let mut definitions = BTreeSet::new();
        for (chunk, defs) in chunks {
            for sql in [
                "SELECT callee, line, col FROM calls WHERE chunk = ?1 AND file = ?2
                 AND NOT indirect",
                "SELECT symbol, line, col FROM uses WHERE chunk = ?1 AND file = ?2",
                "SELECT value, line, col FROM stores WHERE chunk = ?1 AND file = ?2",
            ] {
                out.extend(self.collect(sql, params![chunk, file.0], place)?);
            }
            definitions.extend(id_list::decode_set(defs.as_deref()));
        }
        for id in definitions {
            out.extend(self.collect(
                "SELECT symbol, line, col FROM definitions WHERE id = ?1 AND file = ?2",
                params![id, file.0],
                place,
            )?);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// `EXPLAIN QUERY PLAN` of the hot queries, for the test that keeps them indexed.
    pub fn hot_query_plans(&self) -> Result<Vec<(String, String)>> {
        let queries = [
            format!("SELECT {SYMBOL_COLUMNS} FROM symbols WHERE name = 'x'"),
            format!("SELECT {DEF_COLUMNS} FROM definitions WHERE symbol = 1"),
            "SELECT symbol FROM definitions WHERE macro = 'x' AND definition".to_owned(),
            format!("SELECT {CALL_COLUMNS} FROM calls WHERE callee = 1"),
            format!("SELECT {CALL_COLUMNS} FROM calls WHERE caller = 1"),
            "DELETE FROM calls WHERE chunk = 1".to_owned(),
            "DELETE FROM definitions WHERE id = 1 AND chunks <= 0".to_owned(),
            "DELETE FROM stores WHERE chunk = 1".to_owned(),
            "DELETE FROM uses WHERE chunk = 1".to_owned(),
            format!("SELECT {STORE_COLUMNS} FROM stores WHERE target = 1 {STORE_GROUP}"),
            format!("SELECT {STORE_COLUMNS} FROM stores WHERE value = 1 {STORE_GROUP}"),
            format!("SELECT {USE_COLUMNS} FROM uses WHERE symbol = 1"),
            "SELECT units, definitions FROM chunks WHERE id = 1".to_owned(),
            "SELECT id FROM definitions
             WHERE symbol = 1 AND file = 1 AND line = 1 AND col = 1 AND definition = 1"
                .to_owned(),
            "SELECT t.module FROM tus t JOIN tu_chunks tc ON tc.tu = t.id
             JOIN chunks c ON c.id = tc.chunk AND c.file = 1 WHERE t.source = 1"
                .to_owned(),
            "SELECT id FROM chunks WHERE file = 1 AND hash = 'x'".to_owned(),
            "SELECT id, definitions FROM chunks WHERE file = 1".to_owned(),
            "SELECT callee, line, col FROM calls WHERE chunk = 1 AND file = 1".to_owned(),
            "SELECT symbol, line, col FROM uses WHERE chunk = 1 AND file = 1".to_owned(),
            "SELECT 1 FROM uses WHERE symbol = 1".to_owned(),
            "SELECT value, line, col FROM stores WHERE chunk = 1 AND file = 1".to_owned(),
            "SELECT symbol, line, col FROM definitions WHERE id = 1".to_owned(),
            "SELECT id FROM symbols WHERE key = 1".to_owned(),
            "SELECT 1 FROM tus WHERE source = 1".to_owned(),
            "SELECT 1 FROM tus WHERE status = 'failed'".to_owned(),
            "SELECT s.id, (SELECT d.file FROM definitions d WHERE d.symbol = s.id
                ORDER BY d.definition DESC LIMIT 1) FROM symbols s
             WHERE s.name >= 'a' AND s.name < 'b' LIMIT 300"
                .to_owned(),
        ];
        let mut out = Vec::new();
        for q in queries {
            let plan: Vec<String> = self.collect(&format!("EXPLAIN QUERY PLAN {q}"), [], |r| {
                r.get::<_, String>(3)
            })?;
            out.push((q, plan.join("; ")));
        }
        Ok(out)
    }

    /// Every call as (caller, callee, indirect, dead), one row per recorded call site: the
    /// skeleton of the call graph; the dead calls too when `dead`. Not DISTINCT: a full
    /// scan is several times faster than SQLite's sort, and the caller drops repeats
    /// anyway.
    pub fn call_pairs(&self, dead: bool) -> Result<Vec<(SymbolId, SymbolId, bool, bool)>> {
        let live = if dead { "1" } else { self.live_call() };
        let is_dead = if self.version >= 9 { "dead" } else { "0" };
        self.collect(
            &format!(
                "SELECT caller, callee, indirect, {is_dead} FROM calls c WHERE {live} AND {}",
                self.linked()
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    }

    /// Every (pointer, function) where the function can be behind a call through the
    /// pointer (a member, variable or parameter): stored into it, or into a pointer
    /// copied into it. [`Db::functions_behind`] for all pointers at once.
    pub fn pointer_functions(&self) -> Result<Vec<(SymbolId, SymbolId)>> {
        self.collect(&format!("{REACH_CTE} SELECT ptr, fn FROM reach"), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn collect<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, f).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .map_err(|e| self.err(e))
    }
}

/// The line ranges every one of `lists` holds (each a stored `chunks.skipped`: first
/// and last lines, ascending); none when a list is unknown (`NULL`) or there is none.
fn skipped_by_all<'a>(mut lists: impl Iterator<Item = Option<&'a [u8]>>) -> Vec<(u32, u32)> {
    let ranges = |blob: &[u8]| -> Vec<(u32, u32)> {
        let flat: Vec<i64> = id_list::decode_set(Some(blob)).collect();
        flat.chunks_exact(2)
            .map(|p| (p[0] as u32, p[1] as u32))
            .collect()
    };
    let Some(Some(first)) = lists.next() else {
        return Vec::new();
    };
    let mut all = ranges(first);
    for list in lists {
        let Some(list) = list else {
            return Vec::new();
        };
        all = intersect(&all, &ranges(list));
        if all.is_empty() {
            break;
        }
    }
    all
}

/// The lines two ascending lists of disjoint inclusive ranges both hold.
fn intersect(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let (lo, hi) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
