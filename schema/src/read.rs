//! Queries. Every hot query is covered by an index (see the `query_plans` test).

use rusqlite::{params, OptionalExtension, Row};

use crate::{CallEdge, Db, Definition, File, FileId, Location, Result, Symbol, SymbolId, Tu, TuId};

/// Receives every fact of the database, one at a time (see [`Db::dump`]).
pub trait DumpVisitor {
    type Error: From<crate::Error>;
    fn file(&mut self, file: &File) -> Result<(), Self::Error>;
    /// `primary` is the symbol's first definition, or its first declaration if it has none.
    fn symbol(&mut self, symbol: &Symbol, primary: Option<&Definition>) -> Result<(), Self::Error>;
    fn definition(&mut self, def: &Definition) -> Result<(), Self::Error>;
    fn call(&mut self, call: &CallEdge) -> Result<(), Self::Error>;
    fn tu(&mut self, tu: &Tu) -> Result<(), Self::Error>;
}

const SYMBOL_COLUMNS: &str = "id, usr, name, scope, kind, linkage";
// A fact several chunks hold is stored once per chunk: reads ask for DISTINCT rows.
const DEF_COLUMNS: &str = "DISTINCT symbol, file, line, col, macro, definition";
const CALL_COLUMNS: &str = "DISTINCT caller, callee, file, line, col, indirect, macro";

fn symbol_row(r: &Row<'_>) -> rusqlite::Result<Symbol> {
    Ok(Symbol {
        id: r.get(0)?,
        usr: r.get(1)?,
        name: r.get(2)?,
        scope: r.get(3)?,
        kind: r.get(4)?,
        linkage: r.get(5)?,
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
    })
}

fn file_row(r: &Row<'_>) -> rusqlite::Result<File> {
    Ok(File {
        id: r.get(0)?,
        root: r.get(1)?,
        path: r.get(2)?,
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
    })
}

impl Db {
    pub fn file(&self, id: FileId) -> Result<File> {
        self.conn
            .prepare_cached("SELECT id, root, path FROM files WHERE id = ?1")
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
                      OR EXISTS (SELECT 1 FROM calls c WHERE c.callee = s.id))
                 ORDER BY id"
            ),
            params![name],
            symbol_row,
        )
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
            &format!("SELECT {CALL_COLUMNS} FROM calls WHERE callee = ?1 ORDER BY file, line, col"),
            [symbol],
            call_row,
        )
    }

    /// Calls made by `symbol`, in call-site order.
    pub fn callees(&self, symbol: SymbolId) -> Result<Vec<CallEdge>> {
        self.collect(
            &format!("SELECT {CALL_COLUMNS} FROM calls WHERE caller = ?1 ORDER BY file, line, col"),
            [symbol],
            call_row,
        )
    }

    pub fn tus(&self) -> Result<Vec<Tu>> {
        self.collect(
            "SELECT id, object, source, directory, command, module, status, reason
             FROM tus ORDER BY object",
            [],
            tu_row,
        )
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// Walks every fact: files, symbols (with their primary location), definitions,
    /// calls and translation units. Symbols with neither a definition nor a call are
    /// left out (they belonged to facts that have since been replaced).
    pub fn dump<V: DumpVisitor>(&self, v: &mut V) -> Result<(), V::Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, root, path FROM files ORDER BY id")
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
            if defs.is_empty() && !self.is_called(sym.id)? {
                continue;
            }
            v.symbol(&sym, defs.first())?;
            for d in &defs {
                v.definition(d)?;
            }
        }

        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {CALL_COLUMNS} FROM calls ORDER BY caller, file, line, col, callee"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            v.call(&call_row(r).map_err(|e| self.err(e))?)?;
        }

        for tu in self.tus()? {
            v.tu(&tu)?;
        }
        Ok(())
    }

    fn is_called(&self, symbol: SymbolId) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM calls WHERE callee = ?1 LIMIT 1")
            .and_then(|mut s| s.query_row([symbol], |_| Ok(())).optional())
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    /// `EXPLAIN QUERY PLAN` of the hot queries, for the test that keeps them indexed.
    pub fn hot_query_plans(&self) -> Result<Vec<(String, String)>> {
        let queries = [
            format!("SELECT {SYMBOL_COLUMNS} FROM symbols WHERE name = 'x'"),
            format!("SELECT {DEF_COLUMNS} FROM definitions WHERE symbol = 1"),
            format!("SELECT {CALL_COLUMNS} FROM calls WHERE callee = 1"),
            format!("SELECT {CALL_COLUMNS} FROM calls WHERE caller = 1"),
            "DELETE FROM calls WHERE chunk = 1".to_owned(),
            "DELETE FROM definitions WHERE chunk = 1".to_owned(),
            "SELECT 1 FROM tu_chunks WHERE chunk = 1".to_owned(),
            "SELECT id FROM chunks WHERE file = 1 AND hash = 'x'".to_owned(),
            "SELECT id FROM symbols WHERE usr = 'x'".to_owned(),
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
