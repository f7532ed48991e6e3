//! What the navigator shows, read from the database: symbols, sites, the children of
//! each tree node, and source files. Everything read once is kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use schema::{Db, Definition, File, FileId, Kind, Location, Root, Symbol, SymbolId};

use crate::graph::CallGraph;
use crate::query::{clean, Navigator};

/// At most this many children are listed under one node; the rest are counted.
pub const MAX_CHILDREN: usize = 2000;

/// A place in a file, ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub file: FileId,
    /// The path as shown (terminal-safe).
    pub shown: String,
    pub line: u32,
    pub col: u32,
}

impl Site {
    pub fn short(&self) -> String {
        format!("{}:{}", self.shown, self.line)
    }
}

/// What opening a tree node lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expand {
    /// Nothing: a leaf.
    Leaf,
    /// Children were filled in when the node was made (sections, paths).
    Fixed,
    /// The calls to this symbol (and, for a function, the calls through the pointers
    /// it was stored into).
    Callers(SymbolId),
    /// The calls this function makes.
    Callees(SymbolId),
    /// The functions that can be behind a call through this pointer.
    Behind(SymbolId),
    /// What was stored into this pointer.
    StoresInto(SymbolId),
    /// The globals and members this function uses.
    UsesBy(SymbolId),
}

/// One row of a tree.
#[derive(Clone, Debug)]
pub struct Row {
    /// The symbol the row names; Enter opens it.
    pub symbol: Option<SymbolId>,
    pub kind: Option<Kind>,
    /// Terminal-safe text: the symbol's name, or a section's title.
    pub label: String,
    /// The call site, store, use or definition the row stands for.
    pub site: Option<Site>,
    /// `via MACRO`, `[indirect via MEMBER]`, an access kind...
    pub note: String,
    /// The symbol is already on the way from the root: not expanded again.
    pub recursive: bool,
    pub section: bool,
}

impl Row {
    pub fn message(text: &str) -> Row {
        Row {
            symbol: None,
            kind: None,
            label: text.to_owned(),
            site: None,
            note: String::new(),
            recursive: false,
            section: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub row: Row,
    pub expand: Expand,
    pub expanded: bool,
    pub children: Option<Vec<Node>>,
}

impl Node {
    pub fn leaf(row: Row) -> Node {
        Node {
            row,
            expand: Expand::Leaf,
            expanded: false,
            children: None,
        }
    }

    pub fn section(title: String, children: Vec<Node>, expanded: bool) -> Node {
        let mut row = Row::message(&title);
        row.section = true;
        Node {
            row,
            expand: Expand::Fixed,
            expanded,
            children: Some(children),
        }
    }

    pub fn can_expand(&self) -> bool {
        !self.row.recursive
            && match self.expand {
                Expand::Leaf => false,
                Expand::Fixed => self.children.as_ref().is_some_and(|c| !c.is_empty()),
                _ => true,
            }
    }
}

/// The symbol a page is about, as its header shows it.
pub struct Header {
    pub symbol: Symbol,
    pub label: String,
    pub definition: Option<(Site, Option<String>, bool)>,
    pub definitions: usize,
}

pub struct Data {
    nav: Navigator,
    files: HashMap<FileId, File>,
    symbols: HashMap<SymbolId, Symbol>,
    srctree: Option<PathBuf>,
    objtree: Option<PathBuf>,
    sources: HashMap<PathBuf, Result<Vec<String>, String>>,
    places: HashMap<SymbolId, String>,
    /// The whole call graph, read the first time a call path is asked for.
    graph: Option<CallGraph>,
}

type DbResult<T> = Result<T, schema::Error>;

impl Data {
    pub fn new(nav: Navigator, srctree: Option<PathBuf>) -> Data {
        let meta = |k: &str| nav.db().meta(k).ok().flatten().map(PathBuf::from);
        let objtree = meta("objtree");
        let srctree = srctree
            .or_else(|| meta("srctree"))
            .or_else(|| objtree.clone());
        Data {
            nav,
            files: HashMap::new(),
            symbols: HashMap::new(),
            srctree,
            objtree,
            sources: HashMap::new(),
            places: HashMap::new(),
            graph: None,
        }
    }

    pub fn db(&self) -> &Db {
        self.nav.db()
    }

    pub fn navigator(&self) -> &Navigator {
        &self.nav
    }

    pub fn symbol(&mut self, id: SymbolId) -> DbResult<Symbol> {
        if let Some(s) = self.symbols.get(&id) {
            return Ok(s.clone());
        }
        let s = self.nav.db().symbol(id)?;
        self.symbols.insert(id, s.clone());
        Ok(s)
    }

    fn file(&mut self, id: FileId) -> DbResult<&File> {
        if !self.files.contains_key(&id) {
            let f = self.nav.db().file(id)?;
            self.files.insert(id, f);
        }
        Ok(&self.files[&id])
    }

    pub fn site(&mut self, loc: Location) -> DbResult<Site> {
        let f = self.file(loc.file)?;
        let shown = match f.root {
            Root::Src | Root::Abs => clean(&f.path),
            Root::Obj => format!("{} (build tree)", clean(&f.path)),
        };
        Ok(Site {
            file: loc.file,
            shown,
            line: loc.line,
            col: loc.col,
        })
    }

    /// The file behind a site, on this machine.
    pub fn path_of(&mut self, file: FileId) -> DbResult<Option<PathBuf>> {
        let f = self.file(file)?.clone();
        Ok(match f.root {
            Root::Abs => Some(PathBuf::from(&f.path)),
            Root::Src => self.srctree.as_ref().map(|d| d.join(&f.path)),
            Root::Obj => self.objtree.as_ref().map(|d| d.join(&f.path)),
        })
    }

    /// A file's lines, or why it cannot be shown.
    pub fn source(&mut self, file: FileId) -> Result<(PathBuf, &[String]), String> {
        let path = match self.path_of(file) {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Err(
                    "the database does not say where the source tree is: use --srctree DIR"
                        .to_owned(),
                )
            }
            Err(e) => return Err(e.to_string()),
        };
        let entry = self
            .sources
            .entry(path.clone())
            .or_insert_with(|| read_lines(&path));
        match entry {
            Ok(lines) => Ok((path, lines.as_slice())),
            Err(e) => Err(e.clone()),
        }
    }

    /// The first definition (or declaration) of a symbol.
    pub fn primary(&mut self, id: SymbolId) -> DbResult<Option<Definition>> {
        Ok(self.nav.db().definitions(id)?.into_iter().next())
    }

    /// Where a symbol is defined, as the search lists it: `file:line  via MACRO`.
    pub fn place(&mut self, id: SymbolId) -> String {
        if let Some(p) = self.places.get(&id) {
            return p.clone();
        }
        let place = match self.primary(id) {
            Ok(Some(d)) => {
                let site = self.site(d.loc).map(|s| s.short()).unwrap_or_default();
                match d.macro_name {
                    Some(m) => format!("{site}  via {}", clean(&m)),
                    None => site,
                }
            }
            _ => String::new(),
        };
        self.places.insert(id, place.clone());
        place
    }

    pub fn label(&mut self, id: SymbolId) -> DbResult<(String, Kind)> {
        let s = self.symbol(id)?;
        Ok((clean(&s.display_name()), s.kind))
    }

    pub fn header(&mut self, id: SymbolId) -> DbResult<Header> {
        let symbol = self.symbol(id)?;
        let defs = self.nav.db().definitions(id)?;
        let definition = match defs.first() {
            Some(d) => Some((
                self.site(d.loc)?,
                d.macro_name.as_deref().map(clean),
                d.definition,
            )),
            None => None,
        };
        Ok(Header {
            label: clean(&symbol.display_name()),
            symbol,
            definition,
            definitions: defs.len(),
        })
    }

    /// A row naming `id`, at `site`.
    fn row(&mut self, id: SymbolId, site: Option<Location>, note: String) -> DbResult<Row> {
        let (label, kind) = self.label(id)?;
        let site = match site {
            Some(l) => Some(self.site(l)?),
            None => None,
        };
        Ok(Row {
            symbol: Some(id),
            kind: Some(kind),
            label,
            site,
            note,
            recursive: false,
            section: false,
        })
    }

    /// The children of a node that expands as `expand`; `chain` holds the symbols
    /// from the page's root down to the node, for marking recursion.
    pub fn children(&mut self, expand: Expand, chain: &[SymbolId]) -> DbResult<Vec<Node>> {
        let mut out = Vec::new();
        let mut more = 0;
        let mut push = |out: &mut Vec<Node>, mut node: Node| {
            if out.len() >= MAX_CHILDREN {
                more += 1;
                return;
            }
            if node.row.symbol.is_some_and(|s| chain.contains(&s)) {
                node.row.recursive = true;
            }
            out.push(node);
        };
        match expand {
            Expand::Leaf | Expand::Fixed => {}
            Expand::Callers(id) => {
                let sym = self.symbol(id)?;
                for e in self.nav.db().callers(id)? {
                    let row = self.row(e.caller, Some(e.site), via(&e.macro_name))?;
                    push(&mut out, node(row, Expand::Callers(e.caller)));
                }
                if sym.kind == Kind::Function {
                    for ic in self.nav.db().indirect_callers(id)? {
                        let (member, _) = self.label(ic.call.callee)?;
                        let note = join(
                            &via(&ic.call.macro_name),
                            &format!("[indirect via {member}]"),
                        );
                        let row = self.row(ic.call.caller, Some(ic.call.site), note)?;
                        push(&mut out, node(row, Expand::Callers(ic.call.caller)));
                    }
                }
            }
            Expand::Callees(id) => {
                for e in self.nav.db().callees(id)? {
                    if e.indirect {
                        let (_, kind) = self.label(e.callee)?;
                        let note = join(&via(&e.macro_name), &format!("[call through {kind}]"));
                        let row = self.row(e.callee, Some(e.site), note)?;
                        push(&mut out, node(row, Expand::Behind(e.callee)));
                    } else {
                        let row = self.row(e.callee, Some(e.site), via(&e.macro_name))?;
                        push(&mut out, node(row, Expand::Callees(e.callee)));
                    }
                }
            }
            Expand::Behind(id) => {
                for f in self.nav.db().functions_behind(id)? {
                    let def = self.primary(f)?.map(|d| d.loc);
                    let row = self.row(f, def, String::new())?;
                    push(&mut out, node(row, Expand::Callees(f)));
                }
                if out.is_empty() {
                    out.push(Node::leaf(Row::message(
                        "(no function recorded as stored there)",
                    )));
                }
            }
            Expand::StoresInto(id) => {
                for s in self.nav.db().stores_into(id)? {
                    let note = if s.copy {
                        "[copy]".to_owned()
                    } else {
                        String::new()
                    };
                    let note = join(&via(&s.macro_name), &note);
                    let row = self.row(s.value, Some(s.site), note)?;
                    let expand = if s.copy {
                        Expand::StoresInto(s.value)
                    } else {
                        Expand::Callees(s.value)
                    };
                    push(&mut out, node(row, expand));
                }
            }
            Expand::UsesBy(id) => {
                for u in self.nav.db().uses_by(id)? {
                    let note = join(u.access.as_str(), &via(&u.macro_name));
                    let row = self.row(u.symbol, Some(u.site), note)?;
                    push(&mut out, Node::leaf(row));
                }
            }
        }
        if more > 0 {
            out.push(Node::leaf(Row::message(&format!("... and {more} more"))));
        }
        Ok(out)
    }

    /// The sections of a symbol's page.
    pub fn sections(&mut self, header: &Header) -> DbResult<Vec<Node>> {
        let s = &header.symbol;
        let id = s.id;
        let chain = [id];
        let mut out = Vec::new();
        if header.definitions > 1 {
            let mut defs = Vec::new();
            for d in self.nav.db().definitions(id)? {
                let what = if d.definition { "defined" } else { "declared" };
                let note = join(what, &via(&d.macro_name));
                let mut row = self.row(id, Some(d.loc), note)?;
                row.recursive = false;
                defs.push(Node::leaf(row));
            }
            out.push(Node::section(
                format!("Definitions and declarations ({})", defs.len()),
                defs,
                true,
            ));
        }
        if s.kind == Kind::Function {
            let callers = self.children(Expand::Callers(id), &chain)?;
            out.push(Node::section(
                format!("Callers ({})", count(&callers)),
                callers,
                true,
            ));
            let callees = self.children(Expand::Callees(id), &chain)?;
            out.push(Node::section(
                format!("Callees ({})", count(&callees)),
                callees,
                true,
            ));
            let mut stored = Vec::new();
            for st in self.nav.db().stores_of(id)? {
                let row = self.row(st.target, Some(st.site), via(&st.macro_name))?;
                stored.push(node(row, Expand::Callers(st.target)));
            }
            if !stored.is_empty() {
                out.push(Node::section(
                    format!("Stored in ({})", stored.len()),
                    stored,
                    true,
                ));
            }
            let mut uses =
                Node::section("Uses (globals and members)".to_owned(), Vec::new(), false);
            uses.expand = Expand::UsesBy(id);
            uses.children = None;
            out.push(uses);
            return Ok(out);
        }
        match s.kind {
            Kind::Struct | Kind::Union => {
                let mut fields = Vec::new();
                for f in self.nav.db().fields_of(&s.name)? {
                    let def = self.primary(f.id)?.map(|d| d.loc);
                    let row = self.row(f.id, def, String::new())?;
                    fields.push(Node::leaf(row));
                }
                out.push(Node::section(
                    format!("Fields ({})", fields.len()),
                    fields,
                    true,
                ));
                return Ok(out);
            }
            Kind::Macro => {
                out.push(Node::leaf(Row::message(
                    "(where a macro is expanded is not recorded, only where it is defined)",
                )));
                return Ok(out);
            }
            Kind::Enum | Kind::Typedef | Kind::Enumerator => return Ok(out),
            _ => {}
        }
        let mut used = Vec::new();
        for u in self.nav.db().uses_of(id)? {
            let note = join(u.access.as_str(), &via(&u.macro_name));
            let row = self.row(u.function, Some(u.site), note)?;
            used.push(node(row, Expand::Callers(u.function)));
        }
        let stored = self.children(Expand::StoresInto(id), &chain)?;
        let through = self.children(Expand::Callers(id), &chain)?;
        let pointer = !stored.is_empty() || !through.is_empty();
        if !used.is_empty() || matches!(s.kind, Kind::Variable | Kind::Field) {
            out.push(Node::section(
                format!("Used by ({})", used.len()),
                used,
                true,
            ));
        }
        if pointer {
            out.push(Node::section(
                format!("Stored here ({})", count(&stored)),
                stored,
                true,
            ));
            out.push(Node::section(
                format!("Called through ({})", count(&through)),
                through,
                true,
            ));
        }
        Ok(out)
    }

    /// Up to `max` shortest call paths from one function to another, as tree sections.
    pub fn paths(&mut self, from: SymbolId, to: SymbolId, max: usize) -> DbResult<Vec<Node>> {
        if self.graph.is_none() {
            self.graph = Some(CallGraph::load(self.nav.db())?);
        }
        let paths = match &self.graph {
            Some(g) => g.shortest_paths(self.nav.db(), from, to, max)?,
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for (i, steps) in paths.iter().enumerate() {
            let mut rows = Vec::new();
            if let Some(first) = steps.first() {
                let def = self.primary(first.caller)?.map(|d| d.loc);
                let row = self.row(first.caller, def, String::new())?;
                rows.push(node(row, Expand::Callers(first.caller)));
            }
            for st in steps {
                let mut note = via(&st.macro_name);
                if let Some(p) = st.via {
                    let (member, _) = self.label(p)?;
                    note = join(&note, &format!("[indirect via {member}]"));
                }
                let row = self.row(st.callee, Some(st.site), note)?;
                let mut n = node(row, Expand::Callees(st.callee));
                n.row.label = format!("-> {}", n.row.label);
                rows.push(n);
            }
            let calls = steps.len();
            let s = if calls == 1 { "" } else { "s" };
            out.push(Node::section(
                format!("Path {} ({calls} call{s})", i + 1),
                rows,
                true,
            ));
        }
        Ok(out)
    }
}

fn node(row: Row, expand: Expand) -> Node {
    Node {
        row,
        expand,
        expanded: false,
        children: None,
    }
}

/// The number of rows a list holds, leaving out its "and N more" line.
fn count(nodes: &[Node]) -> String {
    match nodes.last() {
        Some(n) if n.row.symbol.is_none() && n.row.label.starts_with("... and ") => {
            let more: usize = n.row.label["... and ".len()..]
                .split(' ')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            (nodes.len() - 1 + more).to_string()
        }
        _ => nodes.len().to_string(),
    }
}

fn via(m: &Option<String>) -> String {
    m.as_deref()
        .map(|m| format!("via {}", clean(m)))
        .unwrap_or_default()
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a} {b}"),
    }
}

/// A source file as terminal-safe lines: tabs expanded, control characters shown as
/// `^X`, bytes that are not UTF-8 replaced.
fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", clean(&path.display().to_string())))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(safe_line).collect())
}

pub fn safe_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0;
    for c in line.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.push_str(&" ".repeat(n));
            col += n;
        } else if (c as u32) < 0x20 || c == '\x7f' {
            out.push('^');
            out.push(char::from_u32((c as u32 + 64) & 0x7f).unwrap_or('?'));
            col += 2;
        } else if c.is_control() {
            let escaped = format!("\\x{:02x}", c as u32);
            col += escaped.len();
            out.push_str(&escaped);
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lines_cannot_carry_escape_sequences() {
        assert_eq!(safe_line("a\tb"), "a       b");
        assert_eq!(safe_line("\x1b[2Jx\r"), "^[[2Jx^M");
        assert_eq!(safe_line("\u{9b}31m\x7f"), "\\x9b31m^?");
    }
}
