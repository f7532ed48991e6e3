//! The command-line queries: def, callers, callees, dump.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use schema::{
    CallEdge, Db, Definition, DumpVisitor, File, FileId, Kind, Root, Store, Symbol, SymbolId, Tu,
    Use,
};

/// How many functions behind an indirect call the text output names.
const MAX_TARGETS_SHOWN: usize = 12;
use serde::Serialize;

#[derive(Debug)]
pub enum QueryError {
    Db(schema::Error),
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    Usage(String),
    /// `path`: both functions exist, but no chain of calls leads from one to the other.
    NoPath {
        from: String,
        to: String,
    },
    Io(std::io::Error),
    /// `verify` found less than it was asked to.
    BelowThreshold,
    /// The navigator was ended by this signal (the terminal was given back).
    Signal(i32),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Db(e) => write!(f, "{e}"),
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
            QueryError::Signal(sig) => write!(f, "ended by signal {sig}"),
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
            QueryError::Unknown { .. } | QueryError::NoPath { .. } => 1,
            QueryError::BelowThreshold => 3,
            QueryError::Signal(sig) => 128 + sig,
            _ => 2,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Callers,
    Callees,
}

pub struct Navigator {
    db: Db,
    files: HashMap<FileId, File>,
}

/// What to tell a reader of a database that is not complete yet, if anything.
pub fn pending_note(db: &Path) -> Option<String> {
    match schema::pending::count(db) {
        0 => None,
        n => Some(format!(
            "{n} compile(s) not indexed yet; `nccrs --wait {}` waits for them",
            clean(&db.display().to_string())
        )),
    }
}

/// Text for a terminal: control characters (escape sequences, carriage returns, C1
/// controls) from file names or symbol names are shown as `\x1b`-style escapes.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a stored path is `tail` or ends in `/tail` (`FILE:NAME` takes any tail).
pub(crate) fn path_is(path: &str, tail: &str) -> bool {
    path == tail || path.strip_suffix(tail).is_some_and(|p| p.ends_with('/'))
}

/// `via MACRO`, or nothing.
pub(crate) fn via_macro(m: &Option<String>) -> String {
    m.as_deref().map(|m| format!("via {m}")).unwrap_or_default()
}

/// Writes rows of two columns, the first padded so that the second lines up; each row
/// may carry lines to print under it.
pub(crate) fn write_rows(
    out: &mut dyn Write,
    indent: &str,
    rows: &[(String, String, Vec<String>)],
) -> Result<(), QueryError> {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).min(40);
    for (first, rest, under) in rows {
        let line = format!("{indent}{first:<width$}  {rest}");
        writeln!(out, "{}", clean(line.trim_end()))?;
        for u in under {
            writeln!(out, "{}", clean(&format!("{indent}    -> {u}")))?;
        }
    }
    Ok(())
}

pub(crate) fn write_json(
    out: &mut dyn Write,
    values: &[serde_json::Value],
) -> Result<(), QueryError> {
    let text = serde_json::to_string_pretty(values).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    Ok(())
}

pub(crate) fn shown_path(f: &File) -> String {
    match f.root {
        // An external module's files relative to its directory, as its developer
        // names them.
        Root::Src | Root::Abs | Root::Ext => f.path.clone(),
        Root::Obj => format!("{} (build tree)", f.path),
    }
}

#[derive(Serialize)]
struct JsonDef<'a> {
    /// The symbol's id, as in `dump`.
    id: i64,
    name: String,
    kind: &'a str,
    linkage: &'a str,
    root: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
}

#[derive(Serialize)]
struct JsonCall<'a> {
    caller: String,
    callee: String,
    /// Symbol ids, as in `dump`: they tell same-named statics apart.
    caller_id: i64,
    callee_id: i64,
    root: &'a str,
    file: &'a str,
    line: u32,
    col: u32,
    indirect: bool,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

impl Navigator {
    pub fn open(path: &Path) -> Result<Navigator, QueryError> {
        let db = Db::open_readonly(path)?;
        Ok(Navigator {
            db,
            files: HashMap::new(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn file(&mut self, id: FileId) -> Result<&File, QueryError> {
        if !self.files.contains_key(&id) {
            let f = self.db.file(id)?;
            self.files.insert(id, f);
        }
        Ok(&self.files[&id])
    }

    /// The symbols `spec` names: NAME, FILE:NAME or STRUCT::FIELD.
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

    /// Up to eight known names that look like `spec`.
    fn close_matches(&self, spec: &str) -> Result<Vec<String>, QueryError> {
        let want = spec.rsplit(':').next().unwrap_or(spec);
        let mut scored: Vec<(usize, usize, String)> = self
            .db
            .names()?
            .into_iter()
            .filter_map(|n| {
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

    /// A symbol's name, with its file when another symbol has the same name.
    fn label(&mut self, s: &Symbol) -> Result<String, QueryError> {
        let name = s.display_name();
        let same = self.db.symbols_named(&s.name)?;
        if same.iter().filter(|o| o.scope == s.scope).count() <= 1 {
            return Ok(name);
        }
        match self.db.definitions(s.id)?.first() {
            Some(d) => {
                let f = shown_path(self.file(d.loc.file)?);
                Ok(format!("{name} [{f}]"))
            }
            None => Ok(name),
        }
    }

    pub fn def(mut self, spec: &str, json: bool, out: &mut dyn Write) -> Result<(), QueryError> {
        let symbols = self.resolve(spec)?;
        let mut rows: Vec<(Symbol, Definition)> = Vec::new();
        let mut undefined: Vec<Symbol> = Vec::new();
        for s in symbols {
            let defs = self.db.definitions(s.id)?;
            let has_def = defs.iter().any(|d| d.definition);
            if defs.is_empty() {
                undefined.push(s.clone());
            }
            // Declarations only matter when nothing defines the symbol.
            for d in defs.into_iter().filter(|d| d.definition || !has_def) {
                rows.push((s.clone(), d));
            }
        }
        // Which part of the kernel each definition went into, told when a module is
        // among them.
        let places: Vec<schema::DefinedIn> = rows
            .iter()
            .map(|(_, d)| self.db.defined_in(d))
            .collect::<Result<_, _>>()?;
        let modular = places.iter().any(|p| !p.modules.is_empty());
        if json {
            let mut values = rows_json(&mut self, &rows)?;
            if modular {
                for (v, p) in values.iter_mut().zip(&places) {
                    v["builtin"] = p.builtin.into();
                    v["modules"] = p.modules.clone().into();
                }
            }
            let text = serde_json::to_string_pretty(&values).map_err(std::io::Error::other)?;
            writeln!(out, "{text}")?;
            return Ok(());
        }
        let mut printed = std::collections::HashSet::new();
        for ((s, d), place) in rows.iter().zip(&places) {
            let f = shown_path(self.file(d.loc.file)?);
            let what = if d.definition { "" } else { ", declared only" };
            let via = d
                .macro_name
                .as_deref()
                .map(|m| format!("  via {m}"))
                .unwrap_or_default();
            let linkage = match s.linkage {
                schema::Linkage::None => what.trim_start_matches(", ").to_owned(),
                l => format!("{l}{what}"),
            };
            let linkage = if linkage.is_empty() {
                String::new()
            } else {
                format!(" ({linkage})")
            };
            let mut parts: Vec<String> = Vec::new();
            if modular && place.builtin {
                parts.push("built-in".to_owned());
            }
            if !place.modules.is_empty() {
                parts.push(format!("module {}", place.modules.join(", ")));
            }
            let place = if parts.is_empty() {
                String::new()
            } else {
                format!("  [{}]", parts.join("; "))
            };
            let line = format!(
                "{}:{}:{}: {} {}{linkage}{via}{place}",
                f,
                d.loc.line,
                d.loc.col,
                s.kind,
                s.display_name()
            );
            // Two fields of one name at one place (the kernel's struct_group) read the same.
            if printed.insert(line.clone()) {
                writeln!(out, "{}", clean(&line))?;
            }
        }
        for s in &undefined {
            writeln!(
                out,
                "{}: {} called, but neither defined nor declared in any indexed file",
                clean(&s.display_name()),
                s.kind
            )?;
        }
        Ok(())
    }

    pub fn calls(
        mut self,
        spec: &str,
        dir: Direction,
        json: bool,
        out: &mut dyn Write,
    ) -> Result<(), QueryError> {
        let symbols = self.resolve(spec)?;
        let many = symbols.len() > 1;
        let mut all_json = Vec::new();
        for s in &symbols {
            let mut edges: Vec<(CallEdge, Option<SymbolId>)> = match dir {
                Direction::Callers => self.db.callers(s.id)?,
                Direction::Callees => self.db.callees(s.id)?,
            }
            .into_iter()
            .map(|e| (e, None))
            .collect();
            if dir == Direction::Callers && s.kind == Kind::Function {
                // Calls through every member or pointer the function was stored into.
                for ic in self.db.indirect_callers(s.id)? {
                    let via = ic.call.callee;
                    edges.push((ic.call, Some(via)));
                }
            }
            if json {
                for (e, via) in &edges {
                    let mut v = self.edge_json(e)?;
                    if let Some(via) = via {
                        let via = self.db.symbol(*via)?;
                        v["via"] = via.display_name().into();
                        v["via_id"] = via.id.0.into();
                    }
                    if dir == Direction::Callees && e.indirect {
                        let mut targets = Vec::new();
                        for t in self.db.functions_behind(e.callee)? {
                            let sym = self.db.symbol(t)?;
                            targets.push(serde_json::json!({"name": sym.name, "id": sym.id.0}));
                        }
                        v["targets"] = targets.into();
                    }
                    all_json.push(v);
                }
                continue;
            }
            if many {
                self.heading(out, s)?;
            }
            if edges.is_empty() {
                let none = match dir {
                    Direction::Callers => "no recorded callers",
                    Direction::Callees => "no recorded calls",
                };
                writeln!(out, "{}({none})", if many { "  " } else { "" })?;
            }
            let indent = if many { "  " } else { "" };
            let mut lines: Vec<(String, String, Vec<String>)> = Vec::new();
            for (e, via) in &edges {
                let other = match dir {
                    Direction::Callers => e.caller,
                    Direction::Callees => e.callee,
                };
                let sym = self.db.symbol(other)?;
                let name = self.label(&sym)?;
                let f = shown_path(self.file(e.site.file)?);
                let site = format!("{f}:{}:{}", e.site.line, e.site.col);
                let mut notes = Vec::new();
                if e.macro_name.is_some() {
                    notes.push(via_macro(&e.macro_name));
                }
                let mut targets = Vec::new();
                match (dir, via) {
                    (Direction::Callers, Some(via)) => {
                        let via = self.db.symbol(*via)?;
                        notes.push(format!("[indirect via {}]", via.display_name()));
                    }
                    (Direction::Callees, _) if e.indirect => {
                        notes.push(format!("[indirect call through {}]", sym.kind));
                        let behind = self.db.functions_behind(e.callee)?;
                        for t in behind.iter().take(MAX_TARGETS_SHOWN) {
                            let t = self.db.symbol(*t)?;
                            targets.push(self.label(&t)?);
                        }
                        if behind.is_empty() {
                            targets.push("(no function recorded as stored there)".to_owned());
                        } else if behind.len() > MAX_TARGETS_SHOWN {
                            targets.push(format!(
                                "... and {} more (--json lists all)",
                                behind.len() - MAX_TARGETS_SHOWN
                            ));
                        }
                    }
                    _ => {}
                }
                lines.push((name, format!("{site}  {}", notes.join("  ")), targets));
            }
            write_rows(out, indent, &lines)?;
        }
        if json {
            write_json(out, &all_json)?;
        }
        Ok(())
    }

    /// The heading above one symbol's answer when the name means several.
    fn heading(&mut self, out: &mut dyn Write, s: &Symbol) -> Result<(), QueryError> {
        let head = self.label(s)?;
        writeln!(out, "{}:", clean(&head))?;
        Ok(())
    }

    /// Starts one symbol's text answer (`stores`, `uses`): its heading when the name
    /// means several, and `none` when there is nothing to list. Returns the indent.
    fn section(
        &mut self,
        out: &mut dyn Write,
        s: &Symbol,
        many: bool,
        empty: Option<&str>,
    ) -> Result<&'static str, QueryError> {
        if many {
            self.heading(out, s)?;
        }
        let indent = if many { "  " } else { "" };
        if let Some(none) = empty {
            writeln!(out, "{indent}({none})")?;
        }
        Ok(indent)
    }

    /// `stores SYMBOL`: for a member, variable or parameter, what was stored into it;
    /// for a function, where it was stored.
    pub fn stores(mut self, spec: &str, json: bool, out: &mut dyn Write) -> Result<(), QueryError> {
        let symbols = self.resolve(spec)?;
        let many = symbols.len() > 1;
        let mut all_json = Vec::new();
        for s in &symbols {
            let of_function = s.kind == Kind::Function;
            let stores = if of_function {
                self.db.stores_of(s.id)?
            } else {
                self.db.stores_into(s.id)?
            };
            let none = if of_function {
                "never stored into a pointer"
            } else {
                "nothing recorded as stored here"
            };
            let indent = if json {
                ""
            } else {
                self.section(out, s, many, stores.is_empty().then_some(none))?
            };
            let mut lines = Vec::new();
            for st in &stores {
                let target = self.db.symbol(st.target)?;
                let value = self.db.symbol(st.value)?;
                let f = self.file(st.site.file)?.clone();
                if json {
                    all_json.push(serde_json::json!({
                        "member": target.display_name(),
                        "member_id": target.id.0,
                        "value": value.display_name(),
                        "value_id": value.id.0,
                        "copy": st.copy,
                        "root": f.root.as_str(),
                        "file": f.path,
                        "line": st.site.line,
                        "col": st.site.col,
                        "macro": st.macro_name,
                    }));
                    continue;
                }
                let name = if of_function {
                    format!("into {}", self.label(&target)?)
                } else if st.copy {
                    format!("copy of {}", self.label(&value)?)
                } else {
                    self.label(&value)?
                };
                let site = format!("{}:{}:{}", shown_path(&f), st.site.line, st.site.col);
                let via = via_macro(&st.macro_name);
                lines.push((name, format!("{site}  {via}"), Vec::new()));
            }
            write_rows(out, indent, &lines)?;
        }
        if json {
            write_json(out, &all_json)?;
        }
        Ok(())
    }

    /// `uses SYMBOL`: for a global variable or a member, the functions that read, write
    /// or take its address; for a function, the globals and members it uses.
    pub fn uses(mut self, spec: &str, json: bool, out: &mut dyn Write) -> Result<(), QueryError> {
        let symbols = self.resolve(spec)?;
        let many = symbols.len() > 1;
        let mut all_json = Vec::new();
        for s in &symbols {
            let by_function = s.kind == Kind::Function;
            let uses = if by_function {
                self.db.uses_by(s.id)?
            } else {
                self.db.uses_of(s.id)?
            };
            let indent = if json {
                ""
            } else {
                self.section(out, s, many, uses.is_empty().then_some("no recorded uses"))?
            };
            let mut lines = Vec::new();
            for u in &uses {
                let function = self.db.symbol(u.function)?;
                let symbol = self.db.symbol(u.symbol)?;
                let f = self.file(u.site.file)?.clone();
                if json {
                    all_json.push(serde_json::json!({
                        "function": function.display_name(),
                        "function_id": function.id.0,
                        "symbol": symbol.display_name(),
                        "symbol_id": symbol.id.0,
                        "access": u.access.as_str(),
                        "root": f.root.as_str(),
                        "file": f.path,
                        "line": u.site.line,
                        "col": u.site.col,
                        "macro": u.macro_name,
                    }));
                    continue;
                }
                let name = if by_function {
                    self.label(&symbol)?
                } else {
                    self.label(&function)?
                };
                let site = format!("{}:{}:{}", shown_path(&f), u.site.line, u.site.col);
                let via = via_macro(&u.macro_name);
                let access = u.access.as_str();
                lines.push((name, format!("{access:<5}  {site}  {via}"), Vec::new()));
            }
            write_rows(out, indent, &lines)?;
        }
        if json {
            write_json(out, &all_json)?;
        }
        Ok(())
    }

    fn edge_json(&mut self, e: &CallEdge) -> Result<serde_json::Value, QueryError> {
        let caller = self.db.symbol(e.caller)?;
        let callee = self.db.symbol(e.callee)?;
        let f = self.file(e.site.file)?.clone();
        let v = JsonCall {
            caller: caller.display_name(),
            callee: callee.display_name(),
            caller_id: caller.id.0,
            callee_id: callee.id.0,
            root: f.root.as_str(),
            file: &f.path,
            line: e.site.line,
            col: e.site.col,
            indirect: e.indirect,
            macro_name: e.macro_name.as_deref(),
        };
        Ok(serde_json::to_value(v).map_err(std::io::Error::other)?)
    }

    /// Every fact, one JSON object a line; `canonical`: with ids replaced by what they
    /// name, sorted, so that two databases with the same facts print the same lines.
    pub fn dump(self, canonical: bool, out: &mut dyn Write) -> Result<(), QueryError> {
        let mut v = Dumper {
            out,
            canonical: canonical.then(Canonical::default),
        };
        self.db.dump(&mut v)?;
        v.finish()
    }
}

fn rows_json(
    nav: &mut Navigator,
    rows: &[(Symbol, Definition)],
) -> Result<Vec<serde_json::Value>, QueryError> {
    let mut v = Vec::new();
    for (s, d) in rows {
        let f = nav.file(d.loc.file)?.clone();
        let j = JsonDef {
            id: s.id.0,
            name: s.display_name(),
            kind: s.kind.as_str(),
            linkage: s.linkage.as_str(),
            root: f.root.as_str(),
            file: &f.path,
            line: d.loc.line,
            col: d.loc.col,
            macro_name: d.macro_name.as_deref(),
            definition: d.definition,
        };
        v.push(serde_json::to_value(j).map_err(std::io::Error::other)?);
    }
    Ok(v)
}

/// Writes the SPEC's `dump` format: one JSON object a line; or, canonical, the same
/// objects with every id replaced by what it names, sorted.
struct Dumper<'a> {
    out: &'a mut dyn Write,
    canonical: Option<Canonical>,
}

/// What the ids of a database name, and the lines of its canonical dump.
#[derive(Default)]
struct Canonical {
    /// A file's `root:path` (`ext:BASE:path`).
    files: HashMap<i64, String>,
    /// A symbol's kind, name, linkage and defining file.
    symbols: HashMap<i64, String>,
    lines: Vec<String>,
}

/// Keys whose value is a file id.
const FILE_KEYS: &[&str] = &["file", "source"];
/// Keys whose value is a symbol id.
const SYMBOL_KEYS: &[&str] = &["symbol", "caller", "callee", "member", "function", "from"];

impl Canonical {
    /// `line` with its own id dropped and the ids it refers to replaced.
    fn line(&self, mut line: serde_json::Value) -> String {
        if let Some(obj) = line.as_object_mut() {
            obj.remove("id");
            for (k, v) in obj.iter_mut() {
                let Some(id) = v.as_i64() else { continue };
                let named = if FILE_KEYS.contains(&k.as_str()) {
                    self.files.get(&id)
                } else if SYMBOL_KEYS.contains(&k.as_str()) {
                    self.symbols.get(&id)
                } else {
                    continue;
                };
                *v = named.cloned().unwrap_or_else(|| format!("?{id}")).into();
            }
        }
        line.to_string()
    }
}

#[derive(Serialize)]
struct DumpFile<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    root: &'a str,
    /// An external module's directory, for root `ext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
    path: &'a str,
}

#[derive(Serialize)]
struct DumpSymbol<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    name: &'a str,
    kind: &'a str,
    linkage: &'a str,
    file: Option<i64>,
    line: Option<u32>,
    col: Option<u32>,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpDef<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    symbol: i64,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    definition: bool,
}

#[derive(Serialize)]
struct DumpCall<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    caller: i64,
    callee: i64,
    file: i64,
    line: u32,
    col: u32,
    indirect: bool,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpStore<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    /// The member, variable or parameter stored into.
    member: i64,
    /// The function stored, or for a copy of one pointer into another, `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<i64>,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpUse<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    function: i64,
    symbol: i64,
    access: &'a str,
    file: i64,
    line: u32,
    col: u32,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
}

#[derive(Serialize)]
struct DumpTu<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: i64,
    object: &'a str,
    source: Option<i64>,
    directory: &'a str,
    command: &'a [String],
    module: bool,
    /// The module's name (`KBUILD_MODNAME`) for a unit of a loadable module.
    #[serde(skip_serializing_if = "Option::is_none")]
    modname: Option<&'a str>,
    status: &'a str,
    reason: Option<&'a str>,
}

impl Dumper<'_> {
    fn line<T: Serialize>(&mut self, v: &T) -> Result<(), QueryError> {
        match &mut self.canonical {
            None => {
                serde_json::to_writer(&mut *self.out, v).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")?;
            }
            Some(c) => {
                let value = serde_json::to_value(v).map_err(std::io::Error::from)?;
                let line = c.line(value);
                c.lines.push(line);
            }
        }
        Ok(())
    }

    /// Writes the canonical dump's lines, sorted.
    fn finish(self) -> Result<(), QueryError> {
        if let Some(mut c) = self.canonical {
            c.lines.sort_unstable();
            for l in &c.lines {
                self.out.write_all(l.as_bytes())?;
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

impl DumpVisitor for Dumper<'_> {
    type Error = QueryError;

    fn file(&mut self, f: &File) -> Result<(), QueryError> {
        if let Some(c) = &mut self.canonical {
            let key = schema::NewFile {
                root: f.root,
                base: f.base.clone(),
                path: f.path.clone(),
            }
            .key();
            c.files.insert(f.id.0, key);
        }
        self.line(&DumpFile {
            ty: "file",
            id: f.id.0,
            root: f.root.as_str(),
            base: f.base.as_deref(),
            path: &f.path,
        })
    }

    fn symbol(&mut self, s: &Symbol, primary: Option<&Definition>) -> Result<(), QueryError> {
        if let Some(c) = &mut self.canonical {
            let file = primary
                .and_then(|d| c.files.get(&d.loc.file.0))
                .map_or("", String::as_str);
            let name = format!(
                "{} {} {} {file}",
                s.kind.as_str(),
                s.display_name(),
                s.linkage.as_str()
            );
            c.symbols.insert(s.id.0, name);
        }
        self.line(&DumpSymbol {
            ty: "symbol",
            id: s.id.0,
            name: &s.name,
            kind: s.kind.as_str(),
            linkage: s.linkage.as_str(),
            file: primary.map(|d| d.loc.file.0),
            line: primary.map(|d| d.loc.line),
            col: primary.map(|d| d.loc.col),
            macro_name: primary.and_then(|d| d.macro_name.as_deref()),
            definition: primary.is_some_and(|d| d.definition),
            scope: s.scope.as_deref(),
        })
    }

    fn definition(&mut self, d: &Definition) -> Result<(), QueryError> {
        self.line(&DumpDef {
            ty: "def",
            symbol: d.symbol.0,
            file: d.loc.file.0,
            line: d.loc.line,
            col: d.loc.col,
            macro_name: d.macro_name.as_deref(),
            definition: d.definition,
        })
    }

    fn call(&mut self, c: &CallEdge) -> Result<(), QueryError> {
        self.line(&DumpCall {
            ty: "call",
            caller: c.caller.0,
            callee: c.callee.0,
            file: c.site.file.0,
            line: c.site.line,
            col: c.site.col,
            indirect: c.indirect,
            macro_name: c.macro_name.as_deref(),
        })
    }

    fn store(&mut self, st: &Store) -> Result<(), QueryError> {
        self.line(&DumpStore {
            ty: "store",
            member: st.target.0,
            function: (!st.copy).then_some(st.value.0),
            from: st.copy.then_some(st.value.0),
            file: st.site.file.0,
            line: st.site.line,
            col: st.site.col,
            macro_name: st.macro_name.as_deref(),
        })
    }

    fn use_(&mut self, u: &Use) -> Result<(), QueryError> {
        self.line(&DumpUse {
            ty: "use",
            function: u.function.0,
            symbol: u.symbol.0,
            access: u.access.as_str(),
            file: u.site.file.0,
            line: u.site.line,
            col: u.site.col,
            macro_name: u.macro_name.as_deref(),
        })
    }

    fn tu(&mut self, t: &Tu) -> Result<(), QueryError> {
        self.line(&DumpTu {
            ty: "tu",
            id: t.id.0,
            object: &t.object,
            source: t.source.map(|f| f.0),
            directory: &t.directory,
            command: &t.command,
            module: t.module,
            modname: t.modname.as_deref(),
            status: t.status.as_str(),
            reason: t.reason.as_deref(),
        })
    }
}
