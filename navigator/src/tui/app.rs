//! The navigator's model and its update: every key, mouse event and loaded index goes
//! through [`App::update`], which changes the model and says what the terminal loop
//! must do ([`Action`]). Drawing is in `view.rs`.

use std::path::PathBuf;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use schema::pending::Progress;
use schema::{Kind, SymbolId};

use super::layout::{layout, Areas};
use super::loader::{Expand, Header, Loader, Node, Row, Site};
use super::tree::Tree;
use crate::answer::{Direction, Navigator};
use crate::names::clean;
use crate::search::{Index, Matches};

/// How many shortest paths the path view lists.
const MAX_PATHS: usize = 10;

pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The symbol list for the search, read in the background, or why it could not be.
    Index(Result<Index, String>),
    /// The terminal's size: (columns, rows).
    Resize(u16, u16),
    /// A moment has passed (about a second): how far the database's indexing is. The
    /// database is looked at again, and pages whose facts changed are read again.
    Tick(Progress),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Run `$VISUAL` (or `$EDITOR`) `+LINE FILE`, then come back.
    Edit {
        path: PathBuf,
        line: u32,
    },
    /// Facts were added: read the search's symbol list again, in the background.
    ReadSymbols,
    /// Put this text on the clipboard, through the terminal (OSC 52).
    Copy(String),
    /// Report mouse events (true), or leave the mouse to the terminal, which then
    /// selects text (false).
    Mouse(bool),
}

/// Work slow enough (a tenth of a second or more) to be announced on the screen first.
#[derive(Clone, Copy)]
pub enum SlowWork {
    Path(SymbolId, SymbolId),
    Graph(SymbolId, Direction),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Open,
    /// Pick the function the path from this one should reach.
    PathFrom(SymbolId),
}

pub struct Search {
    pub query: String,
    pub purpose: Purpose,
    pub matches: Matches,
    pub selected: usize,
    pub offset: usize,
    /// The query is the last one, shown again: the first key typed replaces it.
    pub fresh: bool,
    /// Nothing matches the query: `matches` lists the names closest to it instead.
    pub close: bool,
}

pub enum Mode {
    Browse,
    Search(Search),
    Help,
    /// A question on the status line (`write ... ?`): Enter does `work`, any other key
    /// leaves it undone.
    Confirm(String, SlowWork),
    /// The page's filter being typed (`&`, as in less): the lists narrow as it is.
    Filter,
}

pub enum PageKind {
    Symbol(Box<Header>),
    Path { from: String, to: String },
}

pub struct Page {
    pub kind: PageKind,
    pub tree: Tree,
    pub selected: usize,
    pub offset: usize,
    /// Lines the source pane is scrolled away from the selected site.
    pub source_shift: i64,
    /// Columns the source pane is scrolled to the right.
    pub source_columns: usize,
    /// The words every row of its lists must hold (`&`).
    pub filter: String,
    /// The facts it was read from ([`App::generation`]).
    generation: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Source,
}

pub struct App {
    pub loader: Loader,
    /// The search's list of every symbol, once read.
    pub index: Option<Index>,
    /// Until then: the symbols whose name starts as the query does, from the
    /// database's name index, so that the search answers at once.
    pub early: Option<Index>,
    pub mode: Mode,
    pub pages: Vec<Page>,
    /// The page shown: an index into `pages` (back and forward move it).
    pub at: usize,
    pub message: Option<String>,
    pub focus: Focus,
    pub colour: bool,
    /// The terminal's size, which places the list and the source (for scrolling and
    /// the mouse).
    pub size: Rect,
    /// What the next frame shows that had to be read first.
    pub shown: Shown,
    /// Where `g` writes its pictures (the current directory).
    pub graph_dir: PathBuf,
    /// Whether mouse events are reported (`m` switches; `--no-mouse` starts without).
    pub mouse: bool,
    /// The last query a search was left with, which `/` shows again.
    last_query: String,
    /// While the database fills: how far its indexing is, for the status line.
    pub indexing: Option<String>,
    /// The database's `data_version` the pages were read at, and how many times the
    /// facts were seen to change since the navigator started.
    version: Option<i64>,
    generation: u64,
    work: Option<SlowWork>,
}

/// What the next frame shows that must be read first, from the database or from
/// source files: made at the end of every update, drawn by the view.
#[derive(Default)]
pub struct Shown {
    /// Where each search row on the screen is defined (`file:line  via MACRO`), from
    /// the first row shown.
    pub places: Vec<String>,
    /// The name of the function the search picks a path from.
    pub path_from: String,
    /// The source around the selected site.
    pub source: Option<SourcePane>,
}

/// The lines of the source pane.
pub struct SourcePane {
    /// `path:line` of the site.
    pub title: String,
    /// The lines shown, by number (0-based), or why the file cannot be shown.
    pub lines: Result<Vec<(i64, String)>, String>,
    /// The site's line (0-based).
    pub target: i64,
    /// The site's line is past the end of the file.
    pub past_end: bool,
    /// The lines of the file this configuration compiled out (1-based ranges).
    pub skipped: schema::LineRanges,
}

impl SourcePane {
    /// Whether line `n` (0-based) was compiled out.
    pub fn is_skipped(&self, n: i64) -> bool {
        self.skipped
            .iter()
            .any(|&(a, b)| (i64::from(a)..=i64::from(b)).contains(&(n + 1)))
    }
}

/// How many of the closest names the search lists when nothing matches.
const CLOSE_MATCHES: usize = 20;

/// How many symbols the search shows before every symbol is read.
const EARLY_MATCHES: usize = 300;

impl App {
    pub fn new(nav: Navigator, srctree: Option<PathBuf>) -> App {
        App {
            loader: Loader::new(nav, srctree),
            index: None,
            early: None,
            mode: Mode::Browse,
            pages: Vec::new(),
            at: 0,
            message: None,
            focus: Focus::Tree,
            colour: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            size: Rect::new(0, 0, 80, 24),
            shown: Shown::default(),
            graph_dir: PathBuf::from("."),
            mouse: true,
            last_query: String::new(),
            indexing: None,
            version: None,
            generation: 0,
            work: None,
        }
        .watching()
    }

    /// Notes the database's version now, so that the first [`Msg::Tick`] tells what
    /// changed after the navigator opened it.
    fn watching(mut self) -> App {
        self.version = self.loader.db().data_version().ok();
        self
    }

    /// The list the search's matches point into: every symbol, or until it is read,
    /// the early matches.
    pub fn searchable(&self) -> Option<&Index> {
        self.index.as_ref().or(self.early.as_ref())
    }

    /// Reads the search's symbol list now (the terminal reads it in the background).
    pub fn load_index(&mut self) -> Result<(), schema::Error> {
        let symbols = self.loader.db().searchable_symbols()?;
        self.index = Some(Index::new(symbols));
        self.settle();
        Ok(())
    }

    /// Opens on `spec` (`name`, `FILE:NAME`, `STRUCT::FIELD`): its page when it names
    /// one symbol, else the search, filled in with it.
    pub fn start(&mut self, spec: Option<&str>) {
        self.start_on(spec);
        self.settle();
    }

    fn start_on(&mut self, spec: Option<&str>) {
        let Some(spec) = spec else {
            self.open_search(Purpose::Open, "");
            return;
        };
        match self.loader.navigator().resolve(spec) {
            Ok(found) if found.len() == 1 => self.open_symbol(found[0].id),
            Ok(_) => {
                self.open_search(Purpose::Open, spec);
                self.message = Some(format!(
                    "several symbols are called {}: pick one",
                    clean(spec)
                ));
            }
            Err(e) => {
                // The search shows close matches of the name itself.
                let name = spec.rsplit(':').next().unwrap_or(spec);
                self.open_search(Purpose::Open, name);
                self.message = Some(clean(&e.to_string()));
            }
        }
    }

    /// Whether slow work waits for [`App::work`]; the screen already says what it is.
    pub fn busy(&self) -> bool {
        self.work.is_some()
    }

    /// Does the slow work `update` announced.
    pub fn work(&mut self) {
        self.do_work();
        self.settle();
    }

    fn do_work(&mut self) {
        match self.work.take() {
            None => {}
            Some(SlowWork::Path(from, to)) => {
                self.message = None;
                self.open_path(from, to);
            }
            Some(SlowWork::Graph(id, dir)) => {
                let out_dir = self.graph_dir.clone();
                self.message = Some(
                    match super::export_graph(&mut self.loader, id, dir, &out_dir) {
                        Ok(m) => m,
                        Err(e) => clean(&e),
                    },
                );
            }
        }
    }

    pub fn page(&self) -> Option<&Page> {
        self.pages.get(self.at)
    }

    fn page_mut(&mut self) -> Option<&mut Page> {
        self.pages.get_mut(self.at)
    }

    /// Takes one event; says what only the terminal can do.
    pub fn update(&mut self, msg: Msg) -> Action {
        let action = self.handle(msg);
        self.settle();
        action
    }

    fn handle(&mut self, msg: Msg) -> Action {
        match msg {
            Msg::Index(Ok(index)) => {
                self.index = Some(index);
                self.early = None;
                self.refilter();
                Action::None
            }
            Msg::Index(Err(e)) => {
                self.message = Some(format!("the search cannot read the symbols: {}", clean(&e)));
                Action::None
            }
            Msg::Resize(width, height) => {
                self.size = Rect::new(0, 0, width, height);
                Action::None
            }
            Msg::Tick(progress) => self.tick(progress),
            Msg::Mouse(m) => {
                self.mouse(m);
                Action::None
            }
            Msg::Key(k) if k.kind == KeyEventKind::Release => Action::None,
            Msg::Key(k) => {
                if k.modifiers.contains(KeyModifiers::CONTROL)
                    && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('q'))
                {
                    return Action::Quit;
                }
                match self.mode {
                    Mode::Help => {
                        self.mode = Mode::Browse;
                        Action::None
                    }
                    Mode::Confirm(..) => self.confirm_key(k),
                    Mode::Filter => self.filter_key(k),
                    Mode::Search(_) => self.search_key(k),
                    Mode::Browse => self.browse_key(k),
                }
            }
        }
    }

    fn filter_key(&mut self, k: KeyEvent) -> Action {
        if matches!(k.code, KeyCode::Enter | KeyCode::Esc) {
            self.mode = Mode::Browse;
        }
        let Some(page) = self.pages.get_mut(self.at) else {
            self.mode = Mode::Browse;
            return Action::None;
        };
        let before = page.filter.clone();
        match k.code {
            KeyCode::Esc => page.filter.clear(),
            KeyCode::Backspace => {
                page.filter.pop();
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                page.filter.clear()
            }
            KeyCode::Char(c) if !c.is_control() => page.filter.push(c),
            _ => {}
        }
        if page.filter != before {
            let text = page.filter.clone();
            page.tree.set_filter(&text);
            page.selected = 0;
            page.offset = 0;
        }
        Action::None
    }

    fn confirm_key(&mut self, k: KeyEvent) -> Action {
        let Mode::Confirm(_, work) = std::mem::replace(&mut self.mode, Mode::Browse) else {
            return Action::None;
        };
        match k.code {
            KeyCode::Enter | KeyCode::Char('y') => {
                if let SlowWork::Graph(id, dir) = work {
                    let what = dir.as_str();
                    self.message = Some(format!("drawing the {what} of {}...", self.name(id)));
                }
                self.work = Some(work);
            }
            _ => self.message = Some("nothing written".to_owned()),
        }
        Action::None
    }

    // ---- search ----

    fn open_search(&mut self, purpose: Purpose, query: &str) {
        if let Purpose::PathFrom(from) = purpose {
            self.shown.path_from = self.name(from);
        }
        self.mode = Mode::Search(Search {
            query: query.to_owned(),
            purpose,
            matches: Matches {
                hits: Vec::new(),
                total: 0,
            },
            selected: 0,
            offset: 0,
            fresh: false,
            close: false,
        });
        self.refilter();
    }

    /// The search again, with the last query shown: typing replaces it, Enter or the
    /// arrows take it as it is.
    fn search_again(&mut self) {
        let last = self.last_query.clone();
        self.open_search(Purpose::Open, &last);
        if let Mode::Search(s) = &mut self.mode {
            s.fresh = !last.is_empty();
        }
    }

    fn refilter(&mut self) {
        let Mode::Search(search) = &mut self.mode else {
            return;
        };
        // FILE:NAME: the names defined in a file whose path ends so; a path alone:
        // every name it defines; several words: the last is the name, the others
        // are in the path of its file (`ext4 init_once`).
        let query = search.query.trim();
        let words: Vec<&str> = query.split_whitespace().collect();
        let (files, name) = match (query.rsplit_once(':'), words.split_last()) {
            (_, Some((name, dirs))) if !dirs.is_empty() => {
                (Some(self.loader.files_containing(dirs)), *name)
            }
            (Some((f, name)), _) if !query.contains("::") && !f.is_empty() => {
                (Some(self.loader.files_named(f)), name)
            }
            _ if looks_like_a_path(query) => (Some(self.loader.files_named(query)), ""),
            _ => (None, query),
        };
        let index = match &mut self.index {
            Some(index) => index,
            None => {
                // The bare name (after `STRUCT::`) as a prefix, from the name index.
                let prefix = name.rsplit("::").next().unwrap_or(name);
                let found = if prefix.is_empty() {
                    Vec::new()
                } else {
                    self.loader
                        .db()
                        .searchable_symbols_starting(prefix, EARLY_MATCHES)
                        .unwrap_or_default()
                };
                self.early.insert(Index::new(found))
            }
        };
        // A call path ends at a function.
        let functions = matches!(search.purpose, Purpose::PathFrom(_));
        let keep = |e: &crate::search::Entry| {
            files.as_ref().is_none_or(|f| f.contains(&e.file))
                && (!functions || e.kind == Kind::Function)
        };
        search.matches = if name.is_empty() && files.is_some() {
            index.all_where(keep)
        } else {
            index.find_where(name, keep)
        };
        search.selected = 0;
        search.offset = 0;
        search.close = false;
        // A typo: the names closest to it, once every symbol is read.
        if search.matches.total == 0 && !name.trim().is_empty() {
            if let Some(index) = &self.index {
                let hits = index.closest(name.trim(), keep, CLOSE_MATCHES);
                search.close = !hits.is_empty();
                search.matches = Matches { hits, total: 0 };
            }
        }
    }

    fn search_key(&mut self, k: KeyEvent) -> Action {
        self.message = None;
        let page = self.page_rows();
        let Mode::Search(search) = &mut self.mode else {
            return Action::None;
        };
        let n = search.matches.hits.len();
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let fresh = std::mem::take(&mut search.fresh);
        match k.code {
            // Esc clears what was typed; on an empty query it leaves the search (and
            // the navigator, when no page is open).
            KeyCode::Esc if !search.query.is_empty() => {
                search.query.clear();
                self.refilter();
            }
            KeyCode::Esc => {
                self.mode = Mode::Browse;
                if self.pages.is_empty() {
                    return Action::Quit;
                }
            }
            KeyCode::Enter => {
                self.last_query = search.query.clone();
                // A name the build compiled out: where it would be, rather than the
                // closest name.
                if search.matches.total == 0 {
                    let name = search.query.trim().to_owned();
                    if let Some(answer) = self.loader.compiled_out(&name) {
                        self.message = Some(answer);
                        return Action::None;
                    }
                }
                let Mode::Search(search) = &mut self.mode else {
                    return Action::None;
                };
                let picked = search.matches.hits.get(search.selected).and_then(|&i| {
                    self.index
                        .as_ref()
                        .or(self.early.as_ref())
                        .map(|x| x.entry(i).id)
                });
                let purpose = search.purpose;
                match picked {
                    None => self.message = Some("nothing matches".to_owned()),
                    Some(id) => {
                        self.mode = Mode::Browse;
                        match purpose {
                            Purpose::Open => self.open_symbol(id),
                            Purpose::PathFrom(from) => {
                                let (a, b) = (self.name(from), self.name(id));
                                self.message =
                                    Some(format!("finding call paths from {a} to {b}..."));
                                self.work = Some(SlowWork::Path(from, id));
                            }
                        }
                    }
                }
            }
            KeyCode::Up => search.selected = search.selected.saturating_sub(1),
            KeyCode::Down => search.selected = (search.selected + 1).min(n.saturating_sub(1)),
            KeyCode::PageUp => search.selected = search.selected.saturating_sub(page),
            KeyCode::PageDown => {
                search.selected = (search.selected + page).min(n.saturating_sub(1))
            }
            KeyCode::Char('u') if ctrl => {
                search.query.clear();
                self.refilter();
            }
            KeyCode::Char('n') if ctrl => {
                search.selected = (search.selected + 1).min(n.saturating_sub(1))
            }
            KeyCode::Char('p') if ctrl => search.selected = search.selected.saturating_sub(1),
            KeyCode::Backspace => {
                if fresh {
                    search.query.clear();
                } else {
                    search.query.pop();
                }
                self.refilter();
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                if fresh {
                    search.query.clear();
                }
                search.query.push(c);
                self.refilter();
            }
            _ => {}
        }
        Action::None
    }

    // ---- pages and history ----

    fn push(&mut self, page: Page) {
        self.pages.truncate(self.at + 1);
        self.pages.push(page);
        self.at = self.pages.len() - 1;
        self.focus = Focus::Tree;
    }

    pub fn open_symbol(&mut self, id: SymbolId) {
        let built = self.loader.header(id).and_then(|h| {
            let roots = self.loader.sections(&h)?;
            Ok((h, roots))
        });
        match built {
            Ok((header, roots)) => self.push(Page {
                kind: PageKind::Symbol(Box::new(header)),
                tree: Tree::new(roots),
                selected: 0,
                offset: 0,
                source_shift: 0,
                source_columns: 0,
                filter: String::new(),
                generation: self.generation,
            }),
            Err(e) => self.message = Some(clean(&e.to_string())),
        }
    }

    fn open_path(&mut self, from: SymbolId, to: SymbolId) {
        let names = (self.loader.label(from), self.loader.label(to));
        let (Ok((from_name, _)), Ok((to_name, to_kind))) = names else {
            self.message = Some("a symbol of that path could not be read".to_owned());
            return;
        };
        if to_kind != Kind::Function {
            self.message = Some(format!(
                "{to_name} is a {to_kind}: a path goes to a function"
            ));
            return;
        }
        match self.loader.paths(from, to, MAX_PATHS) {
            Ok(roots) if roots.is_empty() => {
                self.message = Some(format!("no call path from {from_name} to {to_name}"));
            }
            Ok(roots) => self.push(Page {
                kind: PageKind::Path {
                    from: from_name,
                    to: to_name,
                },
                tree: Tree::new(roots),
                selected: 0,
                offset: 0,
                source_shift: 0,
                source_columns: 0,
                filter: String::new(),
                generation: self.generation,
            }),
            Err(e) => self.message = Some(clean(&e.to_string())),
        }
    }

    fn name(&mut self, id: SymbolId) -> String {
        self.loader.label(id).map(|l| l.0).unwrap_or_default()
    }

    /// The page before; before the first page, the search it was picked from.
    fn back(&mut self) {
        if self.at > 0 {
            self.at -= 1;
            self.refresh_page();
        } else if !self.last_query.is_empty() {
            self.search_again();
        } else {
            self.message = Some("no earlier page".to_owned());
        }
    }

    fn forward(&mut self) {
        if self.at + 1 < self.pages.len() {
            self.at += 1;
            self.refresh_page();
        } else {
            self.message = Some("no later page".to_owned());
        }
    }

    // ---- a database that fills ----

    fn tick(&mut self, progress: Progress) -> Action {
        let was_indexing = self.indexing.is_some();
        self.indexing = progress.busy().then(|| {
            let (done, total) = progress.done_of();
            format!("indexing: {done} of {total} compiles indexed; pages refresh as facts arrive")
        });
        let version = self.loader.db().data_version().ok();
        let changed = version.is_some() && version != self.version;
        if changed {
            self.version = version;
            self.generation += 1;
            self.loader.forget();
            self.refresh_page();
        }
        if was_indexing && self.indexing.is_none() && self.message.is_none() {
            let failed = crate::render::failed_note(self.loader.navigator_mut());
            self.message = Some(failed.unwrap_or_else(|| "indexing finished".to_owned()));
        }
        if changed {
            Action::ReadSymbols
        } else {
            Action::None
        }
    }

    /// Reads the page shown again if the facts changed since it was read, with the
    /// same rows open and the same row selected. A page of call paths is an answer
    /// computed once, and stays as it was.
    fn refresh_page(&mut self) {
        let generation = self.generation;
        let Some(page) = self.page() else {
            return;
        };
        if page.generation == generation {
            return;
        }
        let PageKind::Symbol(header) = &page.kind else {
            if let Some(p) = self.page_mut() {
                p.generation = generation;
            }
            return;
        };
        let id = header.symbol.id;
        let open = page.tree.open_keys();
        let selected = page
            .tree
            .row(page.selected)
            .map(|(path, _)| page.tree.key(&path));
        let built = self.loader.header(id).and_then(|h| {
            let roots = self.loader.sections(&h)?;
            Ok((h, roots))
        });
        let Ok((header, roots)) = built else {
            return; // Kept as it was; the next change tries again.
        };
        let Some(page) = self.page_mut() else {
            return;
        };
        page.kind = PageKind::Symbol(Box::new(header));
        page.tree = Tree::new(roots);
        let filter = page.filter.clone();
        page.tree.set_filter(&filter);
        page.generation = generation;
        // Closed what the reader had closed, then open again what was open (parents
        // come before their children).
        for row in page.tree.visible() {
            let key = page.tree.key(&row.path);
            if let Some(n) = page.tree.node_mut(&row.path) {
                if n.expanded && !open.contains(&key) {
                    n.expanded = false;
                }
            }
        }
        for key in &open {
            let path = self.page().and_then(|p| {
                let row = p.tree.find(key)?;
                p.tree.row(row).map(|(path, _)| path)
            });
            if let Some(path) = path {
                if self.node(&path).is_some_and(|n| !n.expanded) {
                    self.expand(&path);
                }
            }
        }
        let selected = selected.and_then(|k| self.page()?.tree.find(&k));
        if let (Some(row), Some(page)) = (selected, self.page_mut()) {
            page.selected = row;
        }
    }

    // ---- the tree ----

    fn node_mut(&mut self, path: &[usize]) -> Option<&mut Node> {
        self.page_mut()?.tree.node_mut(path)
    }

    pub(super) fn node(&self, path: &[usize]) -> Option<&Node> {
        self.page()?.tree.node(path)
    }

    /// How many rows the page lists.
    fn rows(&self) -> usize {
        self.page().map_or(0, |p| p.tree.visible().len())
    }

    /// The selected row's path, if any.
    fn selected_path(&self) -> Option<Vec<usize>> {
        let page = self.page()?;
        page.tree.row(page.selected).map(|(path, _)| path)
    }

    pub fn selected_node(&self) -> Option<&Node> {
        let page = self.page()?;
        page.tree.row(page.selected).map(|(_, node)| node)
    }

    /// The symbols from the page's root down to (and including) the node at `path`.
    fn chain(&self, path: &[usize]) -> Vec<SymbolId> {
        let Some(page) = self.page() else {
            return Vec::new();
        };
        let mut chain = Vec::new();
        if let PageKind::Symbol(h) = &page.kind {
            chain.push(h.symbol.id);
        }
        chain.extend(page.tree.symbols_to(path));
        chain
    }

    /// Opens the node at `path`, reading its children the first time. A row that
    /// stands for more of its parent's list is replaced by them.
    fn expand(&mut self, path: &[usize]) -> bool {
        if let Some(Expand::More { skip }) = self.node(path).map(|n| n.expand) {
            return self.list_more(path, skip);
        }
        let chain = self.chain(path);
        let Some(node) = self.node(path) else {
            return false;
        };
        if !node.can_expand() {
            return false;
        }
        let load = node.children.is_none();
        let expand = node.expand;
        let children = if load {
            match self.loader.children(expand, &chain) {
                Ok((c, _)) => Some(c),
                Err(e) => {
                    self.message = Some(clean(&e.to_string()));
                    return false;
                }
            }
        } else {
            None
        };
        let Some(node) = self.node_mut(path) else {
            return false;
        };
        if let Some(mut c) = children {
            if c.is_empty() {
                let none = match expand {
                    Expand::Behind(_) => "(no function recorded as stored there)",
                    _ => "(none recorded)",
                };
                c.push(Node::leaf(Row::message(none)));
            }
            node.children = Some(c);
        }
        node.expanded = true;
        true
    }

    /// Replaces the row at `path` with the rows of its parent's list after the first
    /// `skip`.
    fn list_more(&mut self, path: &[usize], skip: usize) -> bool {
        let Some((&at, parent)) = path.split_last() else {
            return false;
        };
        let Some(listing) = self.node(parent).map(|n| n.expand) else {
            return false;
        };
        let chain = self.chain(parent);
        let rows = match self.loader.children_from(listing, &chain, skip) {
            Ok((rows, _)) => rows,
            Err(e) => {
                self.message = Some(clean(&e.to_string()));
                return false;
            }
        };
        let Some(children) = self.node_mut(parent).and_then(|n| n.children.as_mut()) else {
            return false;
        };
        if at < children.len() {
            children.splice(at..=at, rows);
        }
        true
    }

    fn move_to(&mut self, row: usize) {
        let n = self.rows();
        if let Some(page) = self.page_mut() {
            page.selected = row.min(n.saturating_sub(1));
            page.source_shift = 0;
            page.source_columns = 0;
        }
    }

    fn selected_row(&self) -> usize {
        self.page().map_or(0, |p| p.selected)
    }

    fn browse_key(&mut self, k: KeyEvent) -> Action {
        self.message = None;
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        if self.pages.is_empty() {
            return match k.code {
                KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
                KeyCode::Char('?') => {
                    self.mode = Mode::Help;
                    Action::None
                }
                _ => {
                    self.open_search(Purpose::Open, "");
                    Action::None
                }
            };
        }
        if self.focus == Focus::Source {
            match k.code {
                KeyCode::Up | KeyCode::Char('k') => return self.scroll_source(-1),
                KeyCode::Down | KeyCode::Char('j') => return self.scroll_source(1),
                KeyCode::PageUp => return self.scroll_source(-10),
                KeyCode::PageDown => return self.scroll_source(10),
                KeyCode::Left | KeyCode::Char('h') if !alt => {
                    if let Some(p) = self.page_mut() {
                        p.source_columns = p.source_columns.saturating_sub(8);
                    }
                    return Action::None;
                }
                KeyCode::Right | KeyCode::Char('l') if !alt => {
                    if let Some(p) = self.page_mut() {
                        p.source_columns += 8;
                    }
                    return Action::None;
                }
                _ => {}
            }
        }
        let row = self.selected_row();
        match k.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') => self.mode = Mode::Help,
            KeyCode::Char('/') | KeyCode::Char('s') => self.search_again(),
            KeyCode::Tab => {
                self.focus = match self.focus {
                    Focus::Tree => Focus::Source,
                    Focus::Source => Focus::Tree,
                }
            }
            KeyCode::Esc => self.focus = Focus::Tree,
            KeyCode::Left if alt => self.back(),
            KeyCode::Right if alt => self.forward(),
            KeyCode::Backspace | KeyCode::Char('b') => self.back(),
            KeyCode::Char('f') => self.forward(),
            KeyCode::Up | KeyCode::Char('k') => self.move_to(row.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => self.move_to(row + 1),
            KeyCode::PageUp => self.move_to(row.saturating_sub(self.page_rows())),
            KeyCode::PageDown => self.move_to(row + self.page_rows()),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(usize::MAX),
            KeyCode::Right | KeyCode::Char('l') => {
                if let Some(path) = self.selected_path() {
                    let open = self.node(&path).is_some_and(|n| n.expanded);
                    if open {
                        self.move_to(row + 1);
                    } else if !self.expand_shown(&path) {
                        self.message = Some("nothing to open here".to_owned());
                    }
                }
            }
            KeyCode::Left | KeyCode::Char('h') => {
                if let Some(path) = self.selected_path() {
                    let open = self.node(&path).is_some_and(|n| n.expanded);
                    if open {
                        if let Some(n) = self.node_mut(&path) {
                            n.expanded = false;
                        }
                    } else if let Some(i) = self.page().and_then(|p| p.tree.parent_row(&path)) {
                        self.move_to(i);
                    }
                }
            }
            KeyCode::Char(' ') => {
                if let Some(path) = self.selected_path() {
                    let open = self.node(&path).is_some_and(|n| n.expanded);
                    if open {
                        if let Some(n) = self.node_mut(&path) {
                            n.expanded = false;
                        }
                    } else {
                        self.expand_shown(&path);
                    }
                }
            }
            KeyCode::Enter => match self.selected_node().and_then(|n| n.row.symbol) {
                Some(id) if self.page_symbol() == Some(id) => {
                    self.message = Some("this is its page already".to_owned());
                }
                Some(id) => self.open_symbol(id),
                None => {
                    if let Some(path) = self.selected_path() {
                        let open = self.node(&path).is_some_and(|n| n.expanded);
                        if let (true, Some(n)) = (open, self.node_mut(&path)) {
                            n.expanded = false;
                        } else {
                            self.expand_shown(&path);
                        }
                    }
                }
            },
            KeyCode::Char('e') => return self.edit(),
            KeyCode::Char('p') => self.start_path(),
            KeyCode::Char('g') => self.export_graph(),
            KeyCode::Char('y') => return self.copy_site(),
            KeyCode::Char('&') => {
                if matches!(self.page().map(|p| &p.kind), Some(PageKind::Symbol(_))) {
                    self.mode = Mode::Filter;
                } else {
                    self.message = Some("a page of call paths has no filter".to_owned());
                }
            }
            KeyCode::Char('m') => {
                self.mouse = !self.mouse;
                self.message = Some(
                    if self.mouse {
                        "mouse on: the wheel scrolls, a click selects (m: off)"
                    } else {
                        "mouse off: the terminal selects text (m: on)"
                    }
                    .to_owned(),
                );
                return Action::Mouse(self.mouse);
            }
            // A letter that is no command: the user meant to search.
            KeyCode::Char(_) => {
                self.message = Some("/ to search, ? for the keys".to_owned());
            }
            _ => {}
        }
        Action::None
    }

    /// Opens the node at `path` and scrolls so that as many of its rows as fit are
    /// on the screen.
    fn expand_shown(&mut self, path: &[usize]) -> bool {
        if !self.expand(path) {
            return false;
        }
        let children = self
            .node(path)
            .and_then(|n| n.children.as_ref())
            .map_or(0, Vec::len);
        let height = usize::from(self.areas().list.height).max(1);
        if let Some(page) = self.page_mut() {
            // The last row to show: the last child, or as far as the screen reaches
            // with the opened row still on it.
            let last = page.selected + children.min(height - 1);
            if last >= page.offset + height {
                page.offset = (last + 1 - height).min(page.selected);
            }
        }
        true
    }

    /// `y`: the selected place as `file:line`, to the clipboard.
    fn copy_site(&mut self) -> Action {
        match self.current_site() {
            Some(site) => {
                let text = site.short();
                self.message = Some(format!(
                    "copied {text} (through the terminal; tmux needs set-clipboard on)"
                ));
                Action::Copy(text)
            }
            None => {
                self.message = Some("no place to copy here".to_owned());
                Action::None
            }
        }
    }

    /// Where the list and the source are on the screen now.
    fn areas(&self) -> Areas {
        layout(self.size, matches!(self.mode, Mode::Search(_)))
    }

    fn page_rows(&self) -> usize {
        usize::from(self.areas().list.height.max(2)) - 1
    }

    /// Brings what the screen shows in line with the model: the selections within
    /// their lists and scrolled into view, and what the rows and the source pane show
    /// read.
    fn settle(&mut self) {
        let areas = self.areas();
        let height = usize::from(areas.list.height).max(1);
        let scroll = |selected: usize, offset: &mut usize| {
            if selected < *offset {
                *offset = selected;
            } else if selected >= *offset + height {
                *offset = selected + 1 - height;
            }
        };
        if let Mode::Search(search) = &mut self.mode {
            scroll(search.selected, &mut search.offset);
            let ids: Vec<SymbolId> = search
                .matches
                .hits
                .iter()
                .skip(search.offset)
                .take(height)
                .filter_map(|&i| {
                    self.index
                        .as_ref()
                        .or(self.early.as_ref())
                        .map(|x| x.entry(i).id)
                })
                .collect();
            self.shown.places = ids.into_iter().map(|id| self.loader.place(id)).collect();
            self.shown.source = None;
            return;
        }
        let rows = self.rows();
        if let Some(page) = self.pages.get_mut(self.at) {
            page.selected = page.selected.min(rows.saturating_sub(1));
            scroll(page.selected, &mut page.offset);
        }
        // The source pane: its lines, around the selected site.
        let inner = usize::from(areas.source.height.saturating_sub(1));
        self.shown.source = match self.current_site() {
            Some(site) if inner > 0 => Some(self.source_pane(site, inner as i64)),
            _ => None,
        };
    }

    /// The source around `site`, `height` lines.
    fn source_pane(&mut self, site: Site, height: i64) -> SourcePane {
        let shift = self.page().map_or(0, |p| p.source_shift);
        let target = i64::from(site.line) - 1;
        let title = format!(" {}:{} ", site.shown, site.line);
        let lines = self.loader.source(site.file).map(|(_, lines)| {
            let last = (lines.len() as i64 - 1).max(0);
            let first = (target - height / 2 + shift).clamp(0, last);
            (first..(first + height).min(lines.len() as i64))
                .map(|n| (n, lines[n as usize].clone()))
                .collect::<Vec<_>>()
        });
        let past_end = match self.loader.source(site.file) {
            Ok((_, lines)) => site.line as usize > lines.len(),
            Err(_) => false,
        };
        SourcePane {
            title,
            lines,
            target,
            past_end,
            skipped: self.loader.skipped(site.file),
        }
    }

    fn scroll_source(&mut self, by: i64) -> Action {
        // Kept within the file, so that scrolling back answers at once.
        let bounds = self.current_site().and_then(|site| {
            let lines = self.loader.source(site.file).ok()?.1.len() as i64;
            let at = i64::from(site.line) - 1;
            Some((-at, (lines - 1 - at).max(-at)))
        });
        if let Some(page) = self.page_mut() {
            page.source_shift += by;
            if let Some((low, high)) = bounds {
                page.source_shift = page.source_shift.clamp(low, high);
            }
        }
        Action::None
    }

    /// The site the source pane shows: the selected row's, else the symbol's definition.
    pub fn current_site(&self) -> Option<Site> {
        if let Some(site) = self.selected_node().and_then(|n| n.row.site.clone()) {
            return Some(site);
        }
        match &self.page()?.kind {
            PageKind::Symbol(h) => h.definition.as_ref().map(|d| d.0.clone()),
            PageKind::Path { .. } => None,
        }
    }

    fn edit(&mut self) -> Action {
        let Some(site) = self.current_site() else {
            self.message = Some("no place to edit here".to_owned());
            return Action::None;
        };
        match self.loader.path_of(site.file) {
            Ok(Some(path)) if path.is_file() => Action::Edit {
                path,
                line: site.line,
            },
            Ok(Some(path)) => {
                self.message = Some(format!(
                    "{} is missing: use --srctree DIR",
                    clean(&path.display().to_string())
                ));
                Action::None
            }
            Ok(None) => {
                self.message = Some("the source tree is unknown: use --srctree DIR".to_owned());
                Action::None
            }
            Err(e) => {
                self.message = Some(clean(&e.to_string()));
                Action::None
            }
        }
    }

    fn page_symbol(&self) -> Option<SymbolId> {
        match &self.page()?.kind {
            PageKind::Symbol(h) => Some(h.symbol.id),
            PageKind::Path { .. } => None,
        }
    }

    /// The function the selected row names, else the page's.
    fn selected_function(&self) -> Option<SymbolId> {
        let row_sym = self.selected_node().and_then(|n| {
            (n.row.kind == Some(Kind::Function))
                .then_some(n.row.symbol)
                .flatten()
        });
        row_sym.or(match &self.page()?.kind {
            PageKind::Symbol(h) if h.symbol.kind == Kind::Function => Some(h.symbol.id),
            _ => None,
        })
    }

    fn start_path(&mut self) {
        match self.selected_function() {
            Some(from) => {
                self.open_search(Purpose::PathFrom(from), "");
            }
            None => self.message = Some("select a function to start a path from".to_owned()),
        }
    }

    /// Which way the selected row looks: callers under a Callers section.
    fn looking_at_callers(&self) -> bool {
        let Some(path) = self.selected_path() else {
            return false;
        };
        // The nearest row, from the selected one up, that lists callers or callees (a
        // section by what its rows open to).
        for end in (1..=path.len()).rev() {
            let Some(n) = self.node(&path[..end]) else {
                break;
            };
            let expand = match n.expand {
                Expand::Fixed => n
                    .children
                    .as_ref()
                    .and_then(|c| c.first())
                    .map(|c| c.expand),
                e => Some(e),
            };
            match expand {
                Some(Expand::Callers(_) | Expand::CallerSites { .. } | Expand::DeadCallers(_)) => {
                    return true
                }
                Some(
                    Expand::Callees(_)
                    | Expand::Behind(_)
                    | Expand::CalleeSites { .. }
                    | Expand::DeadCallees(_),
                ) => return false,
                _ => {}
            }
        }
        false
    }

    fn export_graph(&mut self) {
        let Some(id) = self.selected_function() else {
            self.message = Some("select a function to draw".to_owned());
            return;
        };
        let dir = if self.looking_at_callers() {
            Direction::Callers
        } else {
            Direction::Callees
        };
        let what = dir.as_str();
        let stem = super::graph_stem(&self.name(id));
        let dir_shown = std::path::absolute(&self.graph_dir)
            .unwrap_or_else(|_| self.graph_dir.clone())
            .display()
            .to_string();
        let question = format!(
            "write {stem}.{what}.svg and .dot in {}? Enter writes, Esc does not",
            clean(&dir_shown)
        );
        self.mode = Mode::Confirm(question, SlowWork::Graph(id, dir));
    }

    fn mouse(&mut self, m: MouseEvent) {
        let areas = self.areas();
        let inside = |r: Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        if let Mode::Search(search) = &mut self.mode {
            let n = search.matches.hits.len();
            match m.kind {
                MouseEventKind::ScrollUp => search.selected = search.selected.saturating_sub(3),
                MouseEventKind::ScrollDown => {
                    search.selected = (search.selected + 3).min(n.saturating_sub(1))
                }
                MouseEventKind::Down(MouseButton::Left) if inside(areas.list) => {
                    let i = search.offset + usize::from(m.row - areas.list.y);
                    if i < n {
                        search.selected = i;
                    }
                }
                _ => {}
            }
            return;
        }
        if !matches!(self.mode, Mode::Browse) {
            return;
        }
        let row = self.selected_row();
        let in_source = inside(areas.source);
        match m.kind {
            MouseEventKind::ScrollUp if in_source => {
                self.scroll_source(-3);
            }
            MouseEventKind::ScrollDown if in_source => {
                self.scroll_source(3);
            }
            MouseEventKind::ScrollUp => self.move_to(row.saturating_sub(3)),
            MouseEventKind::ScrollDown => self.move_to(row + 3),
            MouseEventKind::Down(MouseButton::Left) if inside(areas.list) => {
                let offset = self.page().map_or(0, |p| p.offset);
                let i = offset + usize::from(m.row - areas.list.y);
                if i < self.rows() {
                    self.move_to(i);
                }
            }
            _ => {}
        }
    }
}

/// Whether a query names a file (`fs/read_write.c`, `dcache.c`) rather than a symbol.
fn looks_like_a_path(query: &str) -> bool {
    query.contains('/') || query.ends_with(".c") || query.ends_with(".h")
}

/// Keys, for the help screen: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    ("/  s", "search (shows the last query: typing replaces it)"),
    (
        "",
        "fs/dcache.c: a file's names; ext4 init: a name in files",
    ),
    ("", "Esc clears the query, a second Esc leaves"),
    ("Up Down  j k", "move; PgUp PgDn Home End"),
    (
        "Right  l",
        "expand: callers or callees, the sites, more rows",
    ),
    ("", "calls this configuration never runs: apart, dimmed"),
    ("Left  h", "collapse, or go to the parent row"),
    ("Space", "expand or collapse"),
    ("Enter", "open the selected symbol (re-centre on it)"),
    (
        "Backspace  b",
        "back (Alt-Left); before the first page, the search",
    ),
    ("f", "forward (also Alt-Right)"),
    ("&", "filter the lists: words of a row's name, path or note"),
    (
        "Tab",
        "move between the tree and the source (arrows scroll)",
    ),
    ("e", "open $EDITOR at the selected line"),
    ("y", "copy the selected file:line (clipboard, OSC 52)"),
    ("p", "call paths from the selected function to one you pick"),
    ("g", "write a Graphviz picture of callers or callees (asks)"),
    (
        "mouse",
        "wheel scrolls, click selects; m or --no-mouse: off",
    ),
    ("?", "this help; any key closes it"),
    ("q  Ctrl-C", "quit"),
];
