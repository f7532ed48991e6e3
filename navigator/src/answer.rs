//! The query layer: what the command line, the interactive navigator and the servers
//! ask, answered as plain rows (symbols, sites, macros, access kinds). Nothing here
//! prints: `render` writes the command line's text and JSON, the navigator builds its trees.

use std::collections::BTreeSet;
use std::path::Path;

use schema::{
    Access, CallEdge, Db, DefinedIn, Definition, Kind, Location, Store, Symbol, SymbolId, Use,
};

use crate::callgraph::{CallGraph, Step};
use crate::names::{clean, path_is, Names};

#[derive(Debug)]
pub enum QueryError {
    Db(schema::Error),
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    Usage(String),
    /// A name the database does not know, which code this configuration compiled out
    /// would define (`def`), or whose look-up there found files gone from the disk.
    CompiledOut {
        name: String,
        found: crate::compiled_out::CompiledOut,
        suggestions: Vec<String>,
    },
    /// `path`: both functions exist, but no chain of calls leads from one to the other.
    NoPath {
        from: String,
        to: String,
    },
    Io(std::io::Error),
    /// `verify` found less than it was asked to.
    BelowThreshold,
    /// The navigator was ended by this signal (the terminal was given back).
    EndedBySignal(i32),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Db(e) => write!(f, "{e}"),
            QueryError::CompiledOut {
                name,
                found,
                suggestions,
            } => {
                if found.places.is_empty() {
                    write!(
                        f,
                        "{}; {} files with lines this configuration compiled out are not on disk to look in ({})",
                        QueryError::Unknown {
                            name: name.clone(),
                            suggestions: suggestions.clone()
                        },
                        found.unread.len(),
                        found.unread.iter().take(3).map(|p| clean(p)).collect::<Vec<_>>().join(", ")
                    )?;
                }
                for (i, p) in found.places.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(
                        f,
                        "{}: not compiled in this configuration: {}:{}, inside {} ({}:{})",
                        clean(name),
                        clean(&p.path),
                        p.line,
                        clean(&p.directive),
                        clean(&p.path),
                        p.directive_line
                    )?;
                }
                // What the build has of that name besides (`openat`: the functions
                // of the system call).
                if !found.places.is_empty() && !suggestions.is_empty() {
                    write!(f, "\n{name}: close matches: {}", suggestions.join(", "))?;
                }
                Ok(())
            }
            QueryError::Unknown { name, suggestions } if suggestions.is_empty() => {
                write!(f, "no symbol named {name:?}")
            }
            QueryError::Unknown { name, suggestions } => {
                write!(
                    f,
                    "no symbol named {name:?}; close matches: {}",
                    suggestions.join(", ")
                )
            }
            QueryError::Usage(m) => write!(f, "{m}"),
            QueryError::NoPath { from, to } => {
                write!(f, "no recorded chain of calls leads from {from} to {to}")
            }
            QueryError::BelowThreshold => write!(f, "accuracy below the threshold asked for"),
            QueryError::EndedBySignal(sig) => write!(f, "ended by signal {sig}"),
            QueryError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<schema::Error> for QueryError {
    fn from(e: schema::Error) -> Self {
        QueryError::Db(e)
    }
}

impl From<std::io::Error> for QueryError {
    fn from(e: std::io::Error) -> Self {
        QueryError::Io(e)
    }
}

impl QueryError {
    /// 1 for an unknown symbol (or no call path), 2 for anything that makes the
    /// database unusable.
    pub fn exit_code(&self) -> i32 {
        match self {
            QueryError::Unknown { .. }
            | QueryError::CompiledOut { .. }
            | QueryError::NoPath { .. } => 1,
            QueryError::BelowThreshold => 3,
            QueryError::EndedBySignal(sig) => 128 + sig,
            _ => 2,
        }
    }
}

pub use crate::callgraph::Direction;

/// One definition (or, when nothing defines the symbol, declaration) of a symbol.
#[derive(Clone, Debug)]
pub struct DefRow {
    pub symbol: Symbol,
    pub def: Definition,
    /// What it was compiled into: built-in code, modules.
    pub place: DefinedIn,
    /// For an alias (`sys_read`), the function whose code it names (`__se_sys_read`).
    pub alias_of: Option<Symbol>,
}

/// `def`: where the symbols a name means are defined.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    pub rows: Vec<DefRow>,
    /// Symbols called but neither defined nor declared in any indexed file.
    pub undefined: Vec<Symbol>,
    /// Some definition went into a loadable module: each row says where it went.
    pub modular: bool,
    /// For a macro: what its expansions defined (`DEFINE_SPINLOCK`'s locks), by
    /// kind and name.
    pub made: Vec<(Symbol, Definition)>,
}

/// A call, seen from the symbol asked about.
#[derive(Clone, Debug)]
pub struct CallRow {
    pub edge: CallEdge,
    /// For a caller that reaches the symbol through a pointer it was stored into: that
    /// member, variable or parameter.
    pub via: Option<SymbolId>,
}

/// The answer for one of the symbols a name means.
#[derive(Clone, Debug)]
pub struct Section<R> {
    pub symbol: Symbol,
    pub rows: Vec<R>,
}

/// What `stores` and `uses` list about a symbol, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// For a function: where it was stored (`stores`), what it uses (`uses`).
    OfFunction,
    /// For a member, variable or parameter: what was stored there, who uses it.
    OfPointer,
}

/// How code refers to a symbol at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    /// Calls it (a function), or calls through it (a member, variable or parameter).
    Call,
    /// Stores it (a function, or a pointer copied) into `other`.
    StoredInto(SymbolId),
    /// Stores `other` (a function, or a pointer copied) into it.
    Stores(SymbolId),
    /// Reads, writes or takes the address of it (a function named without a call:
    /// `work->func == f`, `cb(f)`).
    Use(Access),
}

impl RefKind {
    /// The word for it: `call`, `stored`, `store`, `read`, `write`, `addr`.
    pub fn word(&self) -> &'static str {
        match self {
            RefKind::Call => "call",
            RefKind::StoredInto(_) => "stored",
            RefKind::Stores(_) => "store",
            RefKind::Use(a) => a.as_str(),
        }
    }

    /// The other symbol of a store.
    pub fn other(&self) -> Option<SymbolId> {
        match self {
            RefKind::StoredInto(s) | RefKind::Stores(s) => Some(*s),
            RefKind::Call | RefKind::Use(_) => None,
        }
    }
}

/// One place the compiled code refers to a symbol.
#[derive(Clone, Debug)]
pub struct RefRow {
    pub site: Location,
    /// The function whose body, or the variable whose initializer, holds it (unknown
    /// for stores recorded by an nccrs before schema 7).
    pub within: Option<SymbolId>,
    pub kind: RefKind,
    pub macro_name: Option<String>,
    /// A call in code this configuration never runs (listed only with `--dead`).
    pub dead: bool,
}

/// Why no call is recorded to or from a symbol of a kind calls are not recorded for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotCalled {
    /// `a macro`, `a type`, `an enumerator`.
    pub what: &'static str,
    /// For a macro, the functions its definition names: the calls written through it
    /// are recorded against those (each naming the macro).
    pub functions: Vec<String>,
}

/// The shortest call paths between two functions.
#[derive(Clone, Debug, Default)]
pub struct Paths {
    pub paths: Vec<Vec<Step>>,
    /// More paths as short were found than are listed.
    pub more: bool,
}

/// How many paths `path` lists.
pub const MAX_PATHS: usize = 10;

/// An open database and what has been read of it.
pub struct Navigator {
    db: Db,
    pub names: Names,
    /// Whether the calls in code this configuration never runs are answered too
    /// (`--dead`; see `schema::NewCall::dead`). Off, they are left out of callers,
    /// callees, paths and references.
    pub dead: bool,
}

impl Navigator {
    pub fn open(path: &Path) -> Result<Navigator, QueryError> {
        let db = Db::open_readonly(path)?;
        Ok(Navigator {
            db,
            names: Names::default(),
            dead: false,
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The database and the name cache, to read names while holding rows.
    pub fn parts(&mut self) -> (&Db, &mut Names) {
        (&self.db, &mut self.names)
    }

    /// Units that could not be indexed: their source as shown, and why.
    pub fn failed_units(&mut self) -> Result<Vec<(String, String)>, schema::Error> {
        let mut out = Vec::new();
        for tu in self.db.failed_tus()? {
            let source = match tu.source {
                Some(f) => crate::names::shown_path(self.names.file(&self.db, f)?),
                None => tu.object.clone(),
            };
            out.push((source, tu.reason.unwrap_or_default()));
        }
        Ok(out)
    }

    /// Forgets what was read, for a database that has changed since.
    pub fn forget(&mut self) {
        self.names = Names::default();
    }

    pub fn symbol(&mut self, id: SymbolId) -> Result<Symbol, schema::Error> {
        self.names.symbol(&self.db, id).cloned()
    }

    pub fn label(&mut self, id: SymbolId) -> Result<String, schema::Error> {
        self.names.label(&self.db, id)
    }

    pub fn site(&mut self, loc: Location) -> Result<crate::names::Site, schema::Error> {
        self.names.site(&self.db, loc)
    }

    /// The symbols `spec` names: NAME, FILE:NAME, STRUCT::FIELD or
    /// FUNCTION::PARAMETER.
    pub fn resolve(&self, spec: &str) -> Result<Vec<Symbol>, QueryError> {
        let found = if let Some((scope, field)) = spec.rsplit_once("::") {
            let mut v = self.db.symbols_named(field)?;
            // A struct's field, a function's parameter or local pointer.
            v.retain(|s| s.scope.as_deref() == Some(scope));
            v
        } else if let Some((file, name)) = spec.rsplit_once(':') {
            let mut keep = Vec::new();
            let mut elsewhere = Vec::new();
            for s in self.db.symbols_named(name)? {
                let mut hit = false;
                for d in self.db.definitions(s.id)? {
                    let f = self.db.file(d.loc.file)?;
                    if path_is(&f.path, file) {
                        hit = true;
                    } else {
                        elsewhere.push(format!("{}:{name}", f.path));
                    }
                }
                if hit {
                    keep.push(s);
                }
            }
            if keep.is_empty() && !elsewhere.is_empty() {
                elsewhere.sort();
                elsewhere.dedup();
                return Err(QueryError::Unknown {
                    name: spec.to_owned(),
                    suggestions: elsewhere,
                });
            }
            keep
        } else {
            // A plain name means the functions, variables, types and macros of that
            // name; fields (and parameters and locals) only when nothing else is called
            // so (`STRUCT::FIELD`, `FUNCTION::PARAM` pick one).
            let all = self.db.symbols_named(spec)?;
            let (fields, others): (Vec<Symbol>, Vec<Symbol>) =
                all.into_iter().partition(|s| s.scope.is_some());
            if others.is_empty() {
                fields
            } else {
                others
            }
        };
        if found.is_empty() {
            return Err(QueryError::Unknown {
                name: spec.to_owned(),
                suggestions: self.close_matches(spec)?,
            });
        }
        Ok(found)
    }

    /// Up to eight known names that look like `spec`: first the functions a system
    /// call of that name is made of (`openat`: `__do_sys_openat`, `__se_sys_openat`,
    /// `sys_openat`, `__x64_sys_openat`), then the names closest in spelling.
    fn close_matches(&self, spec: &str) -> Result<Vec<String>, QueryError> {
        let want = spec.rsplit(':').next().unwrap_or(spec);
        let mut scored: Vec<(usize, usize, String)> = self
            .db
            .names()?
            .into_iter()
            .filter_map(|n| {
                if is_syscall_of(&n, want) {
                    return Some((0, n.len(), n));
                }
                let d = strsim::levenshtein(want, &n);
                let sub = n.contains(want)
                    || (want.len() >= 4 && want.contains(n.as_str()) && n.len() >= 4);
                let limit = (want.len() / 3).clamp(1, 3);
                (d <= limit || sub).then(|| (if sub { d.min(limit) } else { d }, n.len(), n))
            })
            .collect();
        scored.sort();
        Ok(scored.into_iter().take(8).map(|(_, _, n)| n).collect())
    }

    /// What to answer for `name`, which the database does not know (`suggestions`:
    /// its close matches): where code this configuration compiled out would define
    /// it, read from the files under `trees`; else that it is unknown.
    pub fn unknown(
        &self,
        name: &str,
        suggestions: Vec<String>,
        trees: &schema::Trees,
    ) -> QueryError {
        match crate::compiled_out::look_for(&self.db, trees, name) {
            Ok(found) if !found.places.is_empty() || !found.unread.is_empty() => {
                QueryError::CompiledOut {
                    name: name.to_owned(),
                    found,
                    suggestions,
                }
            }
            Ok(_) => QueryError::Unknown {
                name: name.to_owned(),
                suggestions,
            },
            Err(e) => QueryError::Db(e),
        }
    }

    /// The functions `spec` names; anything else is a usage error of `cmd`.
    pub fn functions(&self, spec: &str, cmd: &str) -> Result<Vec<SymbolId>, QueryError> {
        let found = self.resolve(spec)?;
        let functions: Vec<SymbolId> = found
            .iter()
            .filter(|s| s.kind == Kind::Function)
            .map(|s| s.id)
            .collect();
        if functions.is_empty() {
            let kinds: BTreeSet<&str> = found.iter().map(|s| s.kind.as_str()).collect();
            let kinds: Vec<&str> = kinds.into_iter().collect();
            return Err(QueryError::Usage(format!(
                "{cmd}: {} is a {}, not a function",
                clean(spec),
                kinds.join(" and a ")
            )));
        }
        Ok(functions)
    }

    /// `def`: the definitions of what `spec` names (declarations only of what nothing
    /// defines), each with what it was compiled into.
    pub fn definitions(&mut self, spec: &str) -> Result<Definitions, QueryError> {
        let mut out = Definitions::default();
        let mut macros = Vec::new();
        for s in self.resolve(spec)? {
            if s.kind == Kind::Macro && !macros.contains(&s.name) {
                macros.push(s.name.clone());
                out.made.extend(self.made_by(&s.name)?);
            }
            let defs = self.db.definitions(s.id)?;
            let has_def = defs.iter().any(|d| d.definition);
            if defs.is_empty() {
                out.undefined.push(s.clone());
            }
            let aliased: Vec<CallEdge> = if s.kind == Kind::Function && has_def {
                let mut calls = self.db.callees(s.id)?;
                calls.retain(|c| c.alias);
                calls
            } else {
                Vec::new()
            };
            for d in defs.into_iter().filter(|d| d.definition || !has_def) {
                let place = self.db.defined_in(&d)?;
                out.modular |= !place.modules.is_empty();
                let alias_of = match aliased.iter().find(|c| c.site == d.loc) {
                    Some(c) => Some(self.symbol(c.callee)?),
                    None => None,
                };
                out.rows.push(DefRow {
                    symbol: s.clone(),
                    def: d,
                    place,
                    alias_of,
                });
            }
        }
        Ok(out)
    }

    /// What the expansions of the macro `name` defined, by kind and name.
    pub fn made_by(&self, name: &str) -> Result<Vec<(Symbol, Definition)>, schema::Error> {
        self.db.made_by(name)
    }

    /// The calls to `id`: direct ones, and for a function, the calls through every
    /// member or pointer it was stored into (the dead ones only with `dead`).
    pub fn callers_of(&self, id: SymbolId, kind: Kind) -> Result<Vec<CallRow>, schema::Error> {
        let mut rows = self.all_callers_of(id, kind)?;
        rows.retain(|r| self.dead || !r.edge.dead);
        Ok(rows)
    }

    /// The calls `id` makes, in site order (the dead ones only with `dead`).
    pub fn callees_of(&self, id: SymbolId) -> Result<Vec<CallRow>, schema::Error> {
        let mut rows = self.all_callees_of(id)?;
        rows.retain(|r| self.dead || !r.edge.dead);
        Ok(rows)
    }

    /// The calls to `id` in code this configuration never runs.
    pub fn dead_callers_of(&self, id: SymbolId, kind: Kind) -> Result<Vec<CallRow>, schema::Error> {
        let mut rows = self.all_callers_of(id, kind)?;
        rows.retain(|r| r.edge.dead);
        Ok(rows)
    }

    /// The calls `id` makes in code this configuration never runs.
    pub fn dead_callees_of(&self, id: SymbolId) -> Result<Vec<CallRow>, schema::Error> {
        let mut rows = self.all_callees_of(id)?;
        rows.retain(|r| r.edge.dead);
        Ok(rows)
    }

    fn all_callers_of(&self, id: SymbolId, kind: Kind) -> Result<Vec<CallRow>, schema::Error> {
        let mut rows: Vec<CallRow> = self
            .db
            .callers(id)?
            .into_iter()
            .map(|edge| CallRow { edge, via: None })
            .collect();
        if kind == Kind::Function {
            for ic in self.db.indirect_callers(id)? {
                let via = Some(ic.call.callee);
                rows.push(CallRow { edge: ic.call, via });
            }
        }
        Ok(rows)
    }

    fn all_callees_of(&self, id: SymbolId) -> Result<Vec<CallRow>, schema::Error> {
        Ok(self
            .db
            .callees(id)?
            .into_iter()
            .map(|edge| CallRow { edge, via: None })
            .collect())
    }

    /// The whole call graph, with the dead calls when `dead`.
    pub fn call_graph(&self) -> Result<crate::callgraph::CallGraph, schema::Error> {
        crate::callgraph::CallGraph::load(&self.db, self.dead)
    }

    /// The functions that can be behind a call through `pointer`.
    pub fn behind(&self, pointer: SymbolId) -> Result<Vec<SymbolId>, schema::Error> {
        self.db.functions_behind(pointer)
    }

    /// `callers` or `callees` of what `spec` names.
    pub fn calls(
        &mut self,
        spec: &str,
        dir: Direction,
    ) -> Result<Vec<Section<CallRow>>, QueryError> {
        let mut out = Vec::new();
        for s in self.resolve(spec)? {
            let rows = match dir {
                Direction::Callers => self.callers_of(s.id, s.kind)?,
                Direction::Callees => self.callees_of(s.id)?,
            };
            out.push(Section { symbol: s, rows });
        }
        Ok(out)
    }

    /// Which way `stores` and `uses` look at `s`.
    pub fn side(s: &Symbol) -> Side {
        if s.kind == Kind::Function {
            Side::OfFunction
        } else {
            Side::OfPointer
        }
    }

    /// What was stored into a member, variable or parameter (functions, and pointers
    /// copied into it).
    pub fn stores_into(&self, pointer: SymbolId) -> Result<Vec<Store>, schema::Error> {
        self.db.stores_into(pointer)
    }

    /// Where a function was stored.
    pub fn stores_of(&self, function: SymbolId) -> Result<Vec<Store>, schema::Error> {
        self.db.stores_of(function)
    }

    /// The functions that read, write or take the address of a global or member.
    pub fn uses_of(&self, symbol: SymbolId) -> Result<Vec<Use>, schema::Error> {
        self.db.uses_of(symbol)
    }

    /// The globals and members a function uses.
    pub fn uses_by(&self, function: SymbolId) -> Result<Vec<Use>, schema::Error> {
        self.db.uses_by(function)
    }

    /// Why `s` has no callers or callees, when calls are not recorded for its kind: a
    /// macro (with the functions its definition names, read from its source), a type,
    /// an enumerator.
    pub fn not_called(&mut self, s: &Symbol) -> Option<NotCalled> {
        let what = match s.kind {
            Kind::Macro => "a macro",
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Typedef => "a type",
            Kind::Enumerator => "an enumerator",
            _ => return None,
        };
        let functions = if s.kind == Kind::Macro {
            self.macro_functions(s).unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(NotCalled { what, functions })
    }

    /// The functions (defined or declared in this build) that the definition of macro
    /// `s` names, read from its source.
    fn macro_functions(&mut self, s: &Symbol) -> Option<Vec<String>> {
        let d = self.definitions_of(s.id).ok()?.into_iter().next()?;
        let file = self.names.file(&self.db, d.loc.file).ok()?.clone();
        let path = self.db.trees().ok()?.on_disk(&file)?;
        let text = std::fs::read_to_string(path).ok()?;
        let mut definition = String::new();
        for line in text.lines().skip(d.loc.line.saturating_sub(1) as usize) {
            definition.push_str(line);
            definition.push(' ');
            if !line.trim_end().ends_with('\\') {
                break;
            }
        }
        let mut found: Vec<String> = Vec::new();
        for word in definition.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.is_empty() || word == s.name || found.iter().any(|f| f == word) {
                continue;
            }
            let named = self.db.symbols_named(word).ok()?;
            if named.iter().any(|x| x.kind == Kind::Function) {
                found.push(word.to_owned());
            }
        }
        Some(found)
    }

    /// Every definition and recorded declaration of a symbol, the first first.
    pub fn definitions_of(&self, id: SymbolId) -> Result<Vec<Definition>, schema::Error> {
        self.db.definitions(id)
    }

    /// The fields of the struct or union `record`, in the order they are defined.
    pub fn fields_of(&self, record: &Symbol) -> Result<Vec<Symbol>, schema::Error> {
        self.db.fields_of(&record.name)
    }

    /// For a function, where it was stored; else what was stored into it.
    pub fn stores_for(&self, s: &Symbol) -> Result<Vec<Store>, schema::Error> {
        match Self::side(s) {
            Side::OfFunction => self.stores_of(s.id),
            Side::OfPointer => self.stores_into(s.id),
        }
    }

    /// For a function, the globals and members it uses; else the functions that use
    /// it.
    pub fn uses_for(&self, s: &Symbol) -> Result<Vec<Use>, schema::Error> {
        match Self::side(s) {
            Side::OfFunction => self.uses_by(s.id),
            Side::OfPointer => self.uses_of(s.id),
        }
    }

    /// `stores` of what `spec` names.
    pub fn stores(&mut self, spec: &str) -> Result<Vec<Section<Store>>, QueryError> {
        let mut out = Vec::new();
        for s in self.resolve(spec)? {
            let rows = self.stores_for(&s)?;
            out.push(Section { symbol: s, rows });
        }
        Ok(out)
    }

    /// `uses` of what `spec` names.
    pub fn uses(&mut self, spec: &str) -> Result<Vec<Section<Use>>, QueryError> {
        let mut out = Vec::new();
        for s in self.resolve(spec)? {
            let rows = self.uses_for(&s)?;
            out.push(Section { symbol: s, rows });
        }
        Ok(out)
    }

    /// Every place the compiled code refers to `s`: calls of it or through it, stores
    /// of it and into it, reads, writes and addresses taken; in file and line order
    /// (paths as shown), one row a place and kind (a function stored at a place is not
    /// listed again as its address taken there).
    pub fn refs_of(&mut self, s: &Symbol) -> Result<Vec<RefRow>, schema::Error> {
        let mut rows = Vec::new();
        let dead = self.dead;
        for e in self
            .db
            .callers(s.id)?
            .into_iter()
            .filter(|e| dead || !e.dead)
        {
            rows.push(RefRow {
                site: e.site,
                within: Some(e.caller),
                kind: RefKind::Call,
                macro_name: e.macro_name,
                dead: e.dead,
            });
        }
        for st in self.db.stores_of(s.id)? {
            rows.push(RefRow {
                site: st.site,
                within: st.within,
                kind: RefKind::StoredInto(st.target),
                macro_name: st.macro_name,
                dead: false,
            });
        }
        for st in self.db.stores_into(s.id)? {
            rows.push(RefRow {
                site: st.site,
                within: st.within,
                kind: RefKind::Stores(st.value),
                macro_name: st.macro_name,
                dead: false,
            });
        }
        let stored_at: BTreeSet<Location> = rows
            .iter()
            .filter(|r| matches!(r.kind, RefKind::StoredInto(_)))
            .map(|r| r.site)
            .collect();
        for u in self.db.uses_of(s.id)? {
            if u.access == Access::Addr && stored_at.contains(&u.site) {
                continue;
            }
            rows.push(RefRow {
                site: u.site,
                within: Some(u.function),
                kind: RefKind::Use(u.access),
                macro_name: u.macro_name,
                dead: false,
            });
        }
        let mut keyed = Vec::with_capacity(rows.len());
        for r in rows {
            let path = self.site(r.site)?.shown;
            keyed.push(((path, r.site.line, r.site.col, r.kind), r));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        Ok(keyed.into_iter().map(|(_, r)| r).collect())
    }

    /// `refs` of what `spec` names.
    pub fn refs(&mut self, spec: &str) -> Result<Vec<Section<RefRow>>, QueryError> {
        let mut out = Vec::new();
        for s in self.resolve(spec)? {
            let rows = self.refs_of(&s)?;
            out.push(Section { symbol: s, rows });
        }
        Ok(out)
    }

    /// Walks every fact of the database (`dump`).
    pub fn facts<V: schema::DumpVisitor>(&self, visitor: &mut V) -> Result<(), V::Error> {
        self.db.dump(visitor)
    }

    /// The shortest call paths from any function `from` names to any `to` names, at
    /// most [`MAX_PATHS`], on the whole call graph `graph`.
    pub fn paths(&self, graph: &CallGraph, from: &str, to: &str) -> Result<Paths, QueryError> {
        let froms = self.functions(from, "path")?;
        let tos = self.functions(to, "path")?;
        let mut best: Vec<Vec<Step>> = Vec::new();
        for &t in &tos {
            // One more than shown, to know when there are more.
            let found = graph.shortest_from_any(&self.db, &froms, t, MAX_PATHS + 1)?;
            let Some(len) = found.first().map(Vec::len) else {
                continue;
            };
            match best.first().map(Vec::len) {
                Some(shortest) if shortest < len => {}
                Some(shortest) if shortest == len => best.extend(found),
                _ => best = found,
            }
        }
        let more = best.len() > MAX_PATHS;
        best.truncate(MAX_PATHS);
        Ok(Paths { paths: best, more })
    }
}

/// Whether `name` is one of the functions `SYSCALL_DEFINEn(call, ...)` makes:
/// `sys_call`, `compat_sys_call`, and `sys_call` behind a prefix of the kernel's
/// wrappers (`__do_`, `__se_`, `__x64_`, `__ia32_`, `__arm64_`, `__do_compat_`, ...).
pub fn is_syscall_of(name: &str, call: &str) -> bool {
    let Some(prefix) = name.strip_suffix(call).and_then(|p| p.strip_suffix("sys_")) else {
        return false;
    };
    !call.is_empty()
        && (prefix.is_empty()
            || prefix == "compat_"
            || (prefix.starts_with("__")
                && prefix.ends_with('_')
                && prefix.len() <= 16
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')))
}

#[cfg(test)]
mod tests {
    use super::is_syscall_of;

    #[test]
    fn the_functions_of_a_system_call_are_known_by_its_name() {
        for name in [
            "sys_openat",
            "__do_sys_openat",
            "__se_sys_openat",
            "__x64_sys_openat",
            "__arm64_sys_openat",
            "__do_compat_sys_openat",
            "compat_sys_openat",
        ] {
            assert!(is_syscall_of(name, "openat"), "{name}");
        }
        for name in [
            "do_sys_openat2",
            "sys_openat2",
            "ksys_openat",
            "openat",
            "my_sys_openat",
        ] {
            assert!(!is_syscall_of(name, "openat"), "{name}");
        }
    }
}
