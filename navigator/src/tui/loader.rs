//! What the navigator shows, read from the database: symbols, sites, the children of
//! each tree node, and source files. Symbols, files, sources, search places and the
//! call graph are kept once read.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use schema::{Db, Definition, File, FileId, Kind, Location, Symbol, SymbolId, Trees};

use crate::answer::{CallRow, Navigator};
use crate::callgraph::CallGraph;
pub use crate::names::Site;
use crate::names::{clean, path_is, via_macro};

/// At most this many children are read at once under one node; the rest are counted,
/// and a last row reads the next ones when opened.
pub const MAX_CHILDREN: usize = 2000;

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
    /// The functions that use this global or member.
    UsedBy(SymbolId),
    /// Where this function was stored.
    StoredIn(SymbolId),
    /// Where this symbol is defined and declared.
    Definitions(SymbolId),
    /// The fields of this struct or union.
    Fields(SymbolId),
    /// What the expansions of this macro defined.
    Made(SymbolId),
    /// The rest of the parent's list, after its first `skip` rows: opening this row
    /// puts them in its place.
    More { skip: usize },
    /// The sites where `caller` calls `callee` (through `via`, for a call through a
    /// pointer `callee` was stored into), when there are several.
    CallerSites {
        callee: SymbolId,
        caller: SymbolId,
        via: Option<SymbolId>,
    },
    /// The sites where `caller` calls `callee` (a function, or the pointer of a call
    /// through one), when there are several.
    CalleeSites { caller: SymbolId, callee: SymbolId },
    /// The calls to this symbol in code this configuration never runs, one row a site.
    DeadCallers(SymbolId),
    /// The calls this function makes in code this configuration never runs.
    DeadCallees(SymbolId),
}

/// The titles of the sections of dead calls.
pub const DEAD_CALLERS: &str = "Dead callers: code this configuration never runs";
pub const DEAD_CALLEES: &str = "Dead callees: code this configuration never runs";

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
    /// A call in code this configuration never runs: shown dimmed.
    pub dead: bool,
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
            dead: false,
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

pub struct Loader {
    nav: Navigator,
    trees: Trees,
    sources: HashMap<PathBuf, Result<Vec<String>, String>>,
    places: HashMap<SymbolId, String>,
    /// The whole call graph, read the first time a call path is asked for.
    graph: Option<CallGraph>,
    all_files: Option<Vec<File>>,
    /// The lines each file had compiled out, read when first shown.
    skipped: HashMap<FileId, schema::LineRanges>,
    /// How many rows of a list are read at once ([`MAX_CHILDREN`]).
    pub page_size: usize,
}

type DbResult<T> = Result<T, schema::Error>;

impl Loader {
    pub fn new(nav: Navigator, srctree: Option<PathBuf>) -> Loader {
        let trees = nav
            .db()
            .trees()
            .unwrap_or_default()
            .with_srctree(srctree.as_deref());
        Loader {
            nav,
            trees,
            sources: HashMap::new(),
            places: HashMap::new(),
            graph: None,
            all_files: None,
            skipped: HashMap::new(),
            page_size: MAX_CHILDREN,
        }
    }

    pub fn db(&self) -> &Db {
        self.nav.db()
    }

    pub fn navigator(&self) -> &Navigator {
        &self.nav
    }

    pub fn navigator_mut(&mut self) -> &mut Navigator {
        &mut self.nav
    }

    /// Forgets what was read from the database, which has changed since (the source
    /// files have not).
    pub fn forget(&mut self) {
        self.nav.forget();
        self.skipped.clear();
        self.places.clear();
        self.graph = None;
        self.all_files = None;
    }

    pub fn symbol(&mut self, id: SymbolId) -> DbResult<Symbol> {
        self.nav.symbol(id)
    }

    /// A site with its path terminal-safe.
    pub fn site(&mut self, loc: Location) -> DbResult<Site> {
        let mut site = self.nav.site(loc)?;
        site.shown = clean(&site.shown);
        Ok(site)
    }

    /// The file behind a site, on this machine.
    pub fn path_of(&mut self, file: FileId) -> DbResult<Option<PathBuf>> {
        let (db, names) = self.nav.parts();
        let f: File = names.file(db, file)?.clone();
        Ok(self.trees.on_disk(&f))
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
            Err(e) => return Err(clean(&e.to_string())),
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

    /// Where code this configuration compiled out would define `name`, which the
    /// database does not know: the command line's answer, its first place.
    pub fn compiled_out(&mut self, name: &str) -> Option<String> {
        let answer = self.nav.unknown(name, Vec::new(), &self.trees);
        let crate::answer::QueryError::CompiledOut { found, .. } = &answer else {
            return None;
        };
        let more = found.places.len().checked_sub(1)?;
        let answer = answer.to_string();
        let first = answer.lines().next().unwrap_or_default().to_owned();
        Some(match more {
            0 => first,
            n => format!("{first} (and {n} more)"),
        })
    }

    /// The lines of a file this configuration compiled out (none when unknown).
    pub fn skipped(&mut self, file: FileId) -> schema::LineRanges {
        if let Some(r) = self.skipped.get(&file) {
            return r.clone();
        }
        let r = self.nav.db().skipped_lines(file).unwrap_or_default();
        self.skipped.insert(file, r.clone());
        r
    }

    /// The first definition (or declaration) of a symbol.
    pub fn primary(&mut self, id: SymbolId) -> DbResult<Option<Definition>> {
        Ok(self.nav.definitions_of(id)?.into_iter().next())
    }

    /// Runs `f` on the database and the whole call graph (read the first time).
    pub fn with_graph<T>(
        &mut self,
        f: impl FnOnce(&Db, &mut crate::names::Names, &CallGraph) -> T,
    ) -> DbResult<T> {
        let graph = match self.graph.take() {
            Some(g) => g,
            None => self.nav.call_graph()?,
        };
        let (db, names) = self.nav.parts();
        let out = f(db, names, &graph);
        self.graph = Some(graph);
        Ok(out)
    }

    /// The files whose path is `tail` or ends in `/tail`.
    pub fn files_named(&mut self, tail: &str) -> HashSet<FileId> {
        if self.all_files.is_none() {
            self.all_files = Some(self.nav.db().files().unwrap_or_default());
        }
        self.all_files
            .iter()
            .flatten()
            .filter(|f| path_is(&f.path, tail))
            .map(|f| f.id)
            .collect()
    }

    /// The files whose path holds every one of `words` (`ext4`, `fs/`).
    pub fn files_containing(&mut self, words: &[&str]) -> HashSet<FileId> {
        if self.all_files.is_none() {
            self.all_files = Some(self.nav.db().files().unwrap_or_default());
        }
        self.all_files
            .iter()
            .flatten()
            .filter(|f| words.iter().all(|w| f.path.contains(w)))
            .map(|f| f.id)
            .collect()
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
        let defs = self.nav.definitions_of(id)?;
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
            dead: false,
        })
    }

    /// The children of a node that expands as `expand`, and how many there are in
    /// all (at most [`MAX_CHILDREN`] are made, then a row that reads the rest);
    /// `chain` holds the symbols from the page's root down to the node, for marking
    /// recursion.
    pub fn children(&mut self, expand: Expand, chain: &[SymbolId]) -> DbResult<(Vec<Node>, usize)> {
        self.children_from(expand, chain, 0)
    }

    /// The children of a node that expands as `expand` after the first `skip`, as
    /// [`Loader::children`] makes them.
    pub fn children_from(
        &mut self,
        expand: Expand,
        chain: &[SymbolId],
        skip: usize,
    ) -> DbResult<(Vec<Node>, usize)> {
        let mut list = List::new(chain, skip, self.page_size);
        match expand {
            Expand::Leaf | Expand::Fixed | Expand::More { .. } => {}
            Expand::Callers(id) => {
                let sym = self.symbol(id)?;
                let calls = self.nav.callers_of(id, sym.kind)?;
                // One row a caller (and pointer called through), with its count of sites.
                for group in grouped(calls, |c| (c.edge.caller, c.via)) {
                    if !list.room() {
                        continue;
                    }
                    let c = &group[0];
                    let row = self.caller_row(c)?;
                    if group.len() == 1 {
                        list.push(node(row, Expand::Callers(c.edge.caller)));
                    } else {
                        let expand = Expand::CallerSites {
                            callee: id,
                            caller: c.edge.caller,
                            via: c.via,
                        };
                        list.push(node(with_sites(row, group.len()), expand));
                    }
                }
            }
            Expand::CallerSites {
                callee,
                caller,
                via,
            } => {
                let sym = self.symbol(callee)?;
                // The group's own symbol is the last of `chain`: its sites are no
                // recursion (the group row was marked if the caller is one).
                for c in self.nav.callers_of(callee, sym.kind)? {
                    if (c.edge.caller, c.via) == (caller, via) && list.room() {
                        let row = self.caller_row(&c)?;
                        list.push_plain(node(row, Expand::Callers(caller)));
                    }
                }
            }
            Expand::Callees(id) => {
                let calls = self.nav.callees_of(id)?;
                for group in grouped(calls, |c| (c.edge.callee, c.edge.indirect)) {
                    if !list.room() {
                        continue;
                    }
                    let (row, expand) = self.callee_row(&group[0])?;
                    if group.len() == 1 {
                        list.push(node(row, expand));
                    } else {
                        let expand = Expand::CalleeSites {
                            caller: id,
                            callee: group[0].edge.callee,
                        };
                        list.push(node(with_sites(row, group.len()), expand));
                    }
                }
            }
            Expand::CalleeSites { caller, callee } => {
                for c in self.nav.callees_of(caller)? {
                    if c.edge.callee == callee && list.room() {
                        let (row, expand) = self.callee_row(&c)?;
                        list.push_plain(node(row, expand));
                    }
                }
            }
            Expand::DeadCallers(id) => {
                let sym = self.symbol(id)?;
                for c in self.nav.dead_callers_of(id, sym.kind)? {
                    if list.room() {
                        let row = self.caller_row(&c)?;
                        list.push(node(row, Expand::Callers(c.edge.caller)));
                    }
                }
            }
            Expand::DeadCallees(id) => {
                for c in self.nav.dead_callees_of(id)? {
                    if list.room() {
                        let (row, expand) = self.callee_row(&c)?;
                        list.push(node(row, expand));
                    }
                }
            }
            Expand::Behind(id) => {
                for f in self.nav.behind(id)? {
                    if list.room() {
                        let def = self.primary(f)?.map(|d| d.loc);
                        let row = self.row(f, def, String::new())?;
                        list.push(node(row, Expand::Callees(f)));
                    }
                }
            }
            Expand::StoresInto(id) => {
                for s in self.nav.stores_into(id)? {
                    if !list.room() {
                        continue;
                    }
                    let copy = if s.copy { "[copy]" } else { "" };
                    let note = join(&via(&s.macro_name), copy);
                    let row = self.row(s.value, Some(s.site), note)?;
                    let expand = if s.copy {
                        Expand::StoresInto(s.value)
                    } else {
                        Expand::Callees(s.value)
                    };
                    list.push(node(row, expand));
                }
            }
            Expand::StoredIn(id) => {
                for st in self.nav.stores_of(id)? {
                    if list.room() {
                        let row = self.row(st.target, Some(st.site), via(&st.macro_name))?;
                        list.push(node(row, Expand::Callers(st.target)));
                    }
                }
            }
            Expand::UsesBy(id) => {
                for u in self.nav.uses_by(id)? {
                    if list.room() {
                        let note = join(u.access.as_str(), &via(&u.macro_name));
                        let row = self.row(u.symbol, Some(u.site), note)?;
                        list.push(Node::leaf(row));
                    }
                }
            }
            Expand::UsedBy(id) => {
                for u in self.nav.uses_of(id)? {
                    if list.room() {
                        let note = join(u.access.as_str(), &via(&u.macro_name));
                        let row = self.row(u.function, Some(u.site), note)?;
                        list.push(node(row, Expand::Callers(u.function)));
                    }
                }
            }
            Expand::Definitions(id) => {
                for d in self.nav.definitions_of(id)? {
                    if list.room() {
                        let what = if d.definition { "defined" } else { "declared" };
                        let note = join(what, &via(&d.macro_name));
                        let row = self.row(id, Some(d.loc), note)?;
                        list.push_plain(Node::leaf(row));
                    }
                }
            }
            Expand::Made(id) => {
                let name = self.symbol(id)?.name;
                for (made, d) in self.nav.made_by(&name)? {
                    if list.room() {
                        let row = self.row(made.id, Some(d.loc), made.kind.to_string())?;
                        list.push(Node::leaf(row));
                    }
                }
            }
            Expand::Fields(id) => {
                let record = self.symbol(id)?;
                for f in self.nav.fields_of(&record)? {
                    if list.room() {
                        let def = self.primary(f.id)?.map(|d| d.loc);
                        let row = self.row(f.id, def, String::new())?;
                        list.push(Node::leaf(row));
                    }
                }
            }
        }
        Ok(list.finish())
    }

    /// The row of a call seen from the callee: the caller, at the call's site.
    fn caller_row(&mut self, c: &CallRow) -> DbResult<Row> {
        let e = &c.edge;
        let note = match c.via {
            None => via(&e.macro_name),
            Some(p) => {
                let (member, _) = self.label(p)?;
                join(&via(&e.macro_name), &format!("[indirect via {member}]"))
            }
        };
        let mut row = self.row(e.caller, Some(e.site), note)?;
        row.dead = e.dead;
        Ok(row)
    }

    /// The row of a call seen from the caller, and what opening it lists: the
    /// callee's calls, or the functions behind a call through a pointer.
    fn callee_row(&mut self, c: &CallRow) -> DbResult<(Row, Expand)> {
        let (mut row, expand) = self.callee_row_live(c)?;
        row.dead = c.edge.dead;
        Ok((row, expand))
    }

    fn callee_row_live(&mut self, c: &CallRow) -> DbResult<(Row, Expand)> {
        let e = &c.edge;
        if e.indirect {
            let (_, kind) = self.label(e.callee)?;
            let note = join(&via(&e.macro_name), &format!("[call through {kind}]"));
            Ok((
                self.row(e.callee, Some(e.site), note)?,
                Expand::Behind(e.callee),
            ))
        } else {
            let row = self.row(e.callee, Some(e.site), via(&e.macro_name))?;
            Ok((row, Expand::Callees(e.callee)))
        }
    }

    /// A section of a page: its title with the number of rows, the rows read now.
    fn section(
        &mut self,
        title: &str,
        expand: Expand,
        chain: &[SymbolId],
    ) -> DbResult<(Node, usize)> {
        let (rows, total) = self.children(expand, chain)?;
        let mut section = Node::section(format!("{title} ({total})"), rows, true);
        // Its last row reads more of the same list.
        section.expand = expand;
        Ok((section, total))
    }

    /// The calls to `id` (and for a function, from it) in code this configuration
    /// never runs, apart from the others, as sections shown only when there are some
    /// (with `--dead`, they stand dimmed among the others instead).
    fn dead_sections(
        &mut self,
        id: SymbolId,
        function: bool,
        chain: &[SymbolId],
    ) -> DbResult<Vec<Node>> {
        let mut out = Vec::new();
        if self.nav.dead {
            return Ok(out);
        }
        let mut lists = vec![(DEAD_CALLERS, Expand::DeadCallers(id))];
        if function {
            lists.push((DEAD_CALLEES, Expand::DeadCallees(id)));
        }
        for (title, expand) in lists {
            let (section, n) = self.section(title, expand, chain)?;
            if n > 0 {
                out.push(section);
            }
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
            let title = "Definitions and declarations";
            out.push(self.section(title, Expand::Definitions(id), &chain)?.0);
        }
        match s.kind {
            Kind::Function => {
                out.push(self.section("Callers", Expand::Callers(id), &chain)?.0);
                out.push(self.section("Callees", Expand::Callees(id), &chain)?.0);
                out.extend(self.dead_sections(id, true, &chain)?);
                let (stored, n) = self.section("Stored in", Expand::StoredIn(id), &chain)?;
                if n > 0 {
                    out.push(stored);
                }
                // Read only when opened: finding what a function uses scans a table.
                let mut uses = Node::section(
                    "Uses (globals, members, functions named, macros expanded)".to_owned(),
                    Vec::new(),
                    false,
                );
                uses.expand = Expand::UsesBy(id);
                uses.children = None;
                out.push(uses);
            }
            Kind::Struct | Kind::Union => {
                out.push(self.section("Fields", Expand::Fields(id), &chain)?.0);
            }
            Kind::Macro => {
                out.push(self.section("Expanded in", Expand::UsedBy(id), &chain)?.0);
                let (made, n) = self.section("Made by its expansions", Expand::Made(id), &chain)?;
                if n > 0 {
                    out.push(made);
                }
            }
            Kind::Enum | Kind::Typedef | Kind::Enumerator => {}
            Kind::Variable | Kind::Field | Kind::Parameter | Kind::Result => {
                let (used, n) = self.section("Used by", Expand::UsedBy(id), &chain)?;
                if n > 0 || !matches!(s.kind, Kind::Parameter | Kind::Result) {
                    out.push(used);
                }
                let (stored, stores) =
                    self.section("Stored here", Expand::StoresInto(id), &chain)?;
                let (through, calls) =
                    self.section("Called through", Expand::Callers(id), &chain)?;
                if stores + calls > 0 {
                    out.push(stored);
                    out.push(through);
                }
                out.extend(self.dead_sections(id, false, &chain)?);
            }
        }
        Ok(out)
    }

    /// Up to `max` shortest call paths from one function to another, as tree sections.
    pub fn paths(&mut self, from: SymbolId, to: SymbolId, max: usize) -> DbResult<Vec<Node>> {
        let paths = self.with_graph(|db, _, g| g.shortest_paths(db, from, to, max))??;
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

/// Children being read: after the first `skip`, at most [`MAX_CHILDREN`] rows, all
/// of them counted, each marked when its symbol is already on the way from the page's
/// root.
struct List<'c> {
    rows: Vec<Node>,
    total: usize,
    skip: usize,
    /// How many rows to make.
    page: usize,
    chain: &'c [SymbolId],
}

impl<'c> List<'c> {
    fn new(chain: &'c [SymbolId], skip: usize, page: usize) -> List<'c> {
        List {
            rows: Vec::new(),
            total: 0,
            skip,
            page: page.max(1),
            chain,
        }
    }

    /// Counts one more row; whether it is to be made.
    fn room(&mut self) -> bool {
        self.total += 1;
        self.total > self.skip && self.rows.len() < self.page
    }

    fn push(&mut self, mut node: Node) {
        if node.row.symbol.is_some_and(|s| self.chain.contains(&s)) {
            node.row.recursive = true;
        }
        self.rows.push(node);
    }

    /// A row of the page's own symbol (a definition), not a recursion.
    fn push_plain(&mut self, node: Node) {
        self.rows.push(node);
    }

    fn finish(mut self) -> (Vec<Node>, usize) {
        let listed = self.skip + self.rows.len();
        if self.total > listed {
            let more = self.total - listed;
            let row = Row::message(&format!("... and {more} more (Enter lists them)"));
            self.rows.push(node(row, Expand::More { skip: listed }));
        }
        (self.rows, self.total)
    }
}

/// `rows` grouped by `key`, each group where its first row was, rows in their order.
fn grouped<T, K: std::hash::Hash + Eq>(rows: Vec<T>, key: impl Fn(&T) -> K) -> Vec<Vec<T>> {
    let mut at: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<Vec<T>> = Vec::new();
    for r in rows {
        let k = key(&r);
        match at.get(&k) {
            Some(&i) => groups[i].push(r),
            None => {
                at.insert(k, groups.len());
                groups.push(vec![r]);
            }
        }
    }
    groups
}

/// `row`, the first of `n` call sites of one caller and callee, saying so.
fn with_sites(mut row: Row, n: usize) -> Row {
    row.note = join(&format!("({n} sites)"), &row.note);
    row
}

fn node(row: Row, expand: Expand) -> Node {
    Node {
        row,
        expand,
        expanded: false,
        children: None,
    }
}

fn via(m: &Option<String>) -> String {
    clean(&via_macro(m))
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
