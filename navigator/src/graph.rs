//! Call paths (`nccnav DB path A B`) and call-neighbourhood pictures
//! (`nccnav DB graph SYMBOL`).
//!
//! Both read the whole call graph at once ([`CallGraph::load`]): an edge for each
//! direct call, and for each call through a member or pointer an edge to every
//! function that can be behind it. Call sites are read only for the edges shown.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeRef, Reversed};
use petgraph::Direction;
use schema::{CallEdge, Db, File, FileId, Kind, Location, Symbol, SymbolId};

use crate::query::{clean, shown_path, via_macro, write_json, write_rows, Navigator, QueryError};

/// How many paths `path` lists.
const MAX_PATHS: usize = 10;
/// How many functions `graph` draws.
const MAX_NODES: usize = 300;
/// How many pointers the label of an indirect edge names.
const MAX_VIAS: usize = 3;

pub struct GraphOptions {
    /// Draw callers (true) or callees (false).
    pub callers: bool,
    pub depth: usize,
    /// `.dot` or `.svg`; None writes DOT to standard output.
    pub output: Option<PathBuf>,
}

/// One call on a call path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub caller: SymbolId,
    /// The function reached.
    pub callee: SymbolId,
    /// The first place (in file, line, column order) where `caller` calls `callee`.
    pub site: Location,
    /// The macro whose expansion holds that call.
    pub macro_name: Option<String>,
    /// For a call through a pointer: the member, variable or parameter it goes through.
    pub via: Option<SymbolId>,
}

/// The call graph of a whole database: a node per function that calls or is called;
/// an edge per caller, callee and way of calling: `None` for a direct call, the
/// pointer for a call through a pointer that can hold the callee.
pub struct CallGraph {
    graph: DiGraph<SymbolId, Option<SymbolId>>,
    nodes: HashMap<SymbolId, NodeIndex>,
}

impl CallGraph {
    /// Reads every call, and what every pointer called through can hold.
    pub fn load(db: &Db) -> Result<CallGraph, schema::Error> {
        let mut behind: HashMap<SymbolId, Vec<SymbolId>> = HashMap::new();
        for (pointer, function) in db.pointer_functions()? {
            behind.entry(pointer).or_default().push(function);
        }
        let mut g = CallGraph {
            graph: DiGraph::new(),
            nodes: HashMap::new(),
        };
        // A call is recorded once per site (and per chunk): keep one edge of each.
        let mut seen = HashSet::new();
        for (caller, callee, indirect) in db.call_pairs()? {
            if !seen.insert((caller, callee, indirect)) {
                continue;
            }
            if !indirect {
                g.add_edge(caller, callee, None);
                continue;
            }
            for &function in behind.get(&callee).into_iter().flatten() {
                g.add_edge(caller, function, Some(callee));
            }
        }
        Ok(g)
    }

    fn node(&mut self, id: SymbolId) -> NodeIndex {
        *self
            .nodes
            .entry(id)
            .or_insert_with(|| self.graph.add_node(id))
    }

    fn add_edge(&mut self, caller: SymbolId, callee: SymbolId, via: Option<SymbolId>) {
        let a = self.node(caller);
        let b = self.node(callee);
        self.graph.add_edge(a, b, via);
    }

    /// Up to `max` of the shortest call paths from `from` to `to` (for `from == to`,
    /// the shortest cycles through it), in the order of the names along them.
    pub fn shortest_paths(
        &self,
        db: &Db,
        from: SymbolId,
        to: SymbolId,
        max: usize,
    ) -> Result<Vec<Vec<Step>>, schema::Error> {
        self.shortest_from_any(db, &[from], to, max)
    }

    /// Up to `max` of the shortest call paths to `to` from whichever of `froms` is
    /// nearest (from each of them, in turn, when several are as near). One search for
    /// all of `froms`: a name can mean many functions.
    pub fn shortest_from_any(
        &self,
        db: &Db,
        froms: &[SymbolId],
        to: SymbolId,
        max: usize,
    ) -> Result<Vec<Vec<Step>>, schema::Error> {
        let Some(&b) = self.nodes.get(&to) else {
            return Ok(Vec::new());
        };
        let starts: Vec<NodeIndex> = froms
            .iter()
            .filter_map(|f| self.nodes.get(f).copied())
            .collect();
        if max == 0 || starts.is_empty() {
            return Ok(Vec::new());
        }
        // How many calls each function is away from `to`: with one start other than
        // `to`, only as far as that start.
        let goal = match starts.as_slice() {
            [a] if *a != b => Some(*a),
            _ => None,
        };
        let dist = petgraph::algo::dijkstra(Reversed(&self.graph), b, goal, |_| 1usize);
        let dist = |n: NodeIndex| dist.get(&n).copied();
        let length = |a: NodeIndex| {
            if a != b {
                dist(a)
            } else {
                // A cycle: one call out of `to`, then the shortest way back.
                self.graph
                    .neighbors(a)
                    .filter_map(dist)
                    .min()
                    .map(|d| d + 1)
            }
        };
        let lengths: Vec<(NodeIndex, usize)> = starts
            .iter()
            .filter_map(|&a| length(a).map(|len| (a, len)))
            .collect();
        let Some(shortest) = lengths.iter().map(|&(_, len)| len).min() else {
            return Ok(Vec::new());
        };
        let mut names = Names::new(db);
        let mut found = Vec::new();
        for &(a, len) in &lengths {
            if len == shortest {
                self.walk(&dist, len, &mut names, &mut vec![a], &mut found, max)?;
            }
        }
        let mut calls = HashMap::new();
        let mut paths = Vec::new();
        for p in &found {
            if let Some(steps) = self.steps(db, p, &mut calls)? {
                paths.push(steps);
            }
        }
        Ok(paths)
    }

    /// Extends `path` by `left` calls, each to a function one call nearer `to`, and
    /// keeps each complete path; the functions at each step are tried by name.
    fn walk(
        &self,
        dist: &dyn Fn(NodeIndex) -> Option<usize>,
        left: usize,
        names: &mut Names<'_>,
        path: &mut Vec<NodeIndex>,
        found: &mut Vec<Vec<NodeIndex>>,
        max: usize,
    ) -> Result<(), schema::Error> {
        let Some(&here) = path.last() else {
            return Ok(());
        };
        if left == 0 {
            found.push(path.clone());
            return Ok(());
        }
        let mut next: Vec<NodeIndex> = self
            .graph
            .neighbors(here)
            .filter(|&n| dist(n) == Some(left - 1))
            .collect();
        next.sort();
        next.dedup();
        let mut named = Vec::with_capacity(next.len());
        for n in next {
            let id = self.graph[n];
            named.push((names.name(id)?, id, n));
        }
        named.sort();
        for (_, _, n) in named {
            if found.len() >= max {
                break;
            }
            path.push(n);
            self.walk(dist, left - 1, names, path, found, max)?;
            path.pop();
        }
        Ok(())
    }

    /// The first call site of each call on `path`; None when the database no longer
    /// holds one (it was rewritten since the graph was read).
    fn steps(
        &self,
        db: &Db,
        path: &[NodeIndex],
        calls: &mut HashMap<SymbolId, Vec<CallEdge>>,
    ) -> Result<Option<Vec<Step>>, schema::Error> {
        let mut steps = Vec::new();
        for pair in path.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (caller, callee) = (self.graph[a], self.graph[b]);
            let mut direct = false;
            let mut pointers = Vec::new();
            for e in self.graph.edges_connecting(a, b) {
                match e.weight() {
                    None => direct = true,
                    Some(p) => pointers.push(*p),
                }
            }
            let made = match calls.entry(caller) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => v.insert(db.callees(caller)?),
            };
            // `callees` is in site order: the first match is the first site.
            let first = made.iter().find(|c| {
                if c.indirect {
                    pointers.contains(&c.callee)
                } else {
                    direct && c.callee == callee
                }
            });
            let Some(c) = first else {
                return Ok(None);
            };
            steps.push(Step {
                caller,
                callee,
                site: c.site,
                macro_name: c.macro_name.clone(),
                via: c.indirect.then_some(c.callee),
            });
        }
        Ok(Some(steps))
    }

    /// The functions up to `depth` calls away from `starts` (callers or callees), by
    /// levels and by name within each, at most `cap` of them; and the calls between
    /// each function and the next level.
    fn neighbourhood(
        &self,
        starts: &[SymbolId],
        callers: bool,
        depth: usize,
        cap: usize,
        names: &mut Names<'_>,
    ) -> Result<Neighbourhood, schema::Error> {
        let dir = if callers {
            Direction::Incoming
        } else {
            Direction::Outgoing
        };
        let mut hood = Neighbourhood::default();
        let mut kept = HashSet::new();
        for &s in starts {
            if kept.insert(s) {
                hood.nodes.push(s);
            }
        }
        let mut level = hood.nodes.clone();
        for _ in 0..depth {
            if level.is_empty() || hood.cut {
                break;
            }
            let mut next_level = Vec::new();
            for &here in &level {
                let Some(&n) = self.nodes.get(&here) else {
                    continue;
                };
                let mut links: HashMap<SymbolId, Link> = HashMap::new();
                for e in self.graph.edges_directed(n, dir) {
                    let other = self.graph[if callers { e.source() } else { e.target() }];
                    let link = links.entry(other).or_default();
                    match e.weight() {
                        None => link.direct = true,
                        Some(p) => link.pointers.push(*p),
                    }
                }
                let mut others = Vec::with_capacity(links.len());
                for (other, link) in links {
                    // Once full, only calls between functions already drawn are
                    // added: their order needs no names.
                    let key = if hood.cut {
                        String::new()
                    } else {
                        names.name(other)?
                    };
                    others.push((key, other, link));
                }
                others.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
                for (_, other, mut link) in others {
                    if !kept.contains(&other) {
                        if hood.nodes.len() >= cap {
                            hood.cut = true;
                            continue;
                        }
                        kept.insert(other);
                        hood.nodes.push(other);
                        next_level.push(other);
                    }
                    link.pointers.sort();
                    link.pointers.dedup();
                    let (caller, callee) = if callers {
                        (other, here)
                    } else {
                        (here, other)
                    };
                    hood.edges.push((caller, callee, link));
                }
            }
            level = next_level;
        }
        Ok(hood)
    }
}

#[derive(Default)]
struct Neighbourhood {
    /// The functions, the starts first, then in the order found.
    nodes: Vec<SymbolId>,
    /// (caller, callee, how).
    edges: Vec<(SymbolId, SymbolId, Link)>,
    /// Some functions were left out.
    cut: bool,
}

/// How one function calls another: directly, through pointers, or both.
#[derive(Default)]
struct Link {
    direct: bool,
    pointers: Vec<SymbolId>,
}

/// Symbols and files, each read once.
struct Names<'a> {
    db: &'a Db,
    symbols: HashMap<SymbolId, Symbol>,
    files: HashMap<FileId, File>,
}

impl<'a> Names<'a> {
    fn new(db: &'a Db) -> Names<'a> {
        Names {
            db,
            symbols: HashMap::new(),
            files: HashMap::new(),
        }
    }

    fn symbol(&mut self, id: SymbolId) -> Result<&Symbol, schema::Error> {
        Ok(match self.symbols.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(self.db.symbol(id)?),
        })
    }

    fn file(&mut self, id: FileId) -> Result<&File, schema::Error> {
        Ok(match self.files.entry(id) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(self.db.file(id)?),
        })
    }

    fn name(&mut self, id: SymbolId) -> Result<String, schema::Error> {
        Ok(self.symbol(id)?.display_name())
    }

    /// The name, with the file of the definition when another symbol has the same name
    /// (as `callers` and `callees` show it).
    fn label(&mut self, id: SymbolId) -> Result<String, schema::Error> {
        let s = self.symbol(id)?.clone();
        let same = self.db.symbols_named(&s.name)?;
        if same.iter().filter(|o| o.scope == s.scope).count() <= 1 {
            return Ok(s.display_name());
        }
        match self.home(id)? {
            Some((path, _)) => Ok(format!("{} [{path}]", s.display_name())),
            None => Ok(s.display_name()),
        }
    }

    /// `path:line:col`.
    fn site(&mut self, loc: Location) -> Result<String, schema::Error> {
        let path = shown_path(self.file(loc.file)?);
        Ok(format!("{path}:{}:{}", loc.line, loc.col))
    }

    /// The file and line of the first definition (or declaration).
    fn home(&mut self, id: SymbolId) -> Result<Option<(String, u32)>, schema::Error> {
        let Some(d) = self.db.definitions(id)?.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some((shown_path(self.file(d.loc.file)?), d.loc.line)))
    }
}

/// The functions `spec` names; anything else is a usage error for `cmd`.
fn functions(nav: &Navigator, spec: &str, cmd: &str) -> Result<Vec<SymbolId>, QueryError> {
    let found = nav.resolve(spec)?;
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

/// `path FROM TO`: the shortest chains of calls from one function to another. A name
/// that means several functions means the shortest chains between any of them.
pub fn path(
    nav: &Navigator,
    from: &str,
    to: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let froms = functions(nav, from, "path")?;
    let tos = functions(nav, to, "path")?;
    let db = nav.db();
    let graph = CallGraph::load(db)?;
    let mut best: Vec<Vec<Step>> = Vec::new();
    for &t in &tos {
        // One more than shown, to know when there are more.
        let found = graph.shortest_from_any(db, &froms, t, MAX_PATHS + 1)?;
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
    let mut names = Names::new(db);
    let no_path = || QueryError::NoPath {
        from: clean(from),
        to: clean(to),
    };
    if json {
        let mut all = Vec::new();
        for steps in &best {
            let mut v = Vec::new();
            for st in steps {
                v.push(step_json(&mut names, st)?);
            }
            all.push(serde_json::Value::Array(v));
        }
        write_json(out, &all)?;
        return if best.is_empty() {
            Err(no_path())
        } else {
            Ok(())
        };
    }
    let Some(len) = best.first().map(Vec::len) else {
        return Err(no_path());
    };
    let calls = if len == 1 { "call" } else { "calls" };
    let count = match best.len() {
        _ if more => format!(", more than {MAX_PATHS} paths (the first {MAX_PATHS} shown)"),
        1 => String::new(),
        n => format!(", {n} paths"),
    };
    writeln!(
        out,
        "{}",
        clean(&format!("{from} -> {to}: {len} {calls}{count}"))
    )?;
    for (i, steps) in best.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let mut rows = Vec::new();
        if let Some(first) = steps.first() {
            rows.push((names.label(first.caller)?, String::new(), Vec::new()));
        }
        for st in steps {
            let mut notes = vec![names.site(st.site)?];
            if st.macro_name.is_some() {
                notes.push(via_macro(&st.macro_name));
            }
            if let Some(p) = st.via {
                notes.push(format!("[indirect via {}]", names.name(p)?));
            }
            let name = format!("-> {}", names.label(st.callee)?);
            rows.push((name, notes.join("  "), Vec::new()));
        }
        write_rows(out, "  ", &rows)?;
    }
    Ok(())
}

fn step_json(names: &mut Names<'_>, st: &Step) -> Result<serde_json::Value, QueryError> {
    let f = names.file(st.site.file)?.clone();
    let via = match st.via {
        Some(p) => Some(names.name(p)?),
        None => None,
    };
    Ok(serde_json::json!({
        "caller": names.name(st.caller)?,
        "callee": names.name(st.callee)?,
        "caller_id": st.caller.0,
        "callee_id": st.callee.0,
        "root": f.root.as_str(),
        "file": f.path,
        "line": st.site.line,
        "col": st.site.col,
        "macro": st.macro_name,
        "via": via,
    }))
}

/// `graph SYMBOL`: the callers or callees of a function to some depth, as Graphviz DOT
/// on `out`, or in a file (and as SVG, through Graphviz's `dot`).
pub fn graph(
    nav: &Navigator,
    name: &str,
    opts: &GraphOptions,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let starts = functions(nav, name, "graph")?;
    let graph = CallGraph::load(nav.db())?;
    let (text, cut) = dot_text(nav.db(), &graph, &starts, name, opts.callers, opts.depth)?;
    if cut {
        eprintln!("nccnav: {}", cut_note());
    }
    let Some(output) = &opts.output else {
        out.write_all(text.as_bytes())?;
        return Ok(());
    };
    let picture = write_picture(&text, output)?;
    let shown = |p: &Path| clean(&p.display().to_string());
    match (&picture.dot, &picture.svg) {
        (Some(dot), Some(svg)) => eprintln!("nccnav: wrote {} and {}", shown(dot), shown(svg)),
        (None, Some(svg)) => eprintln!("nccnav: wrote {}", shown(svg)),
        (Some(dot), None) => eprintln!(
            "nccnav: wrote {} (with Graphviz installed, an SVG too: apt-get install graphviz)",
            shown(dot)
        ),
        (None, None) => {}
    }
    Ok(())
}

fn cut_note() -> String {
    format!("the graph was cut at {MAX_NODES} functions; a smaller --depth shows all of a neighbourhood")
}

/// The DOT text of the callers or callees of `starts` (named `name`) to `depth`, and
/// whether it was cut at [`MAX_NODES`] functions.
pub fn dot_text(
    db: &Db,
    graph: &CallGraph,
    starts: &[SymbolId],
    name: &str,
    callers: bool,
    depth: usize,
) -> Result<(String, bool), QueryError> {
    let mut names = Names::new(db);
    let hood = graph.neighbourhood(starts, callers, depth, MAX_NODES, &mut names)?;
    let what = if callers { "callers" } else { "callees" };
    let title = format!("{what} of {name} to depth {depth}");
    let text = dot(&hood, starts.len(), &title, &mut names)?;
    Ok((text, hood.cut))
}

/// The files a picture was written to.
pub struct Picture {
    pub dot: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

/// Writes DOT text into `output`: `FILE.dot`, and `FILE.svg` when Graphviz is
/// installed; or only `FILE.svg`, which needs Graphviz.
pub fn write_picture(text: &str, output: &Path) -> Result<Picture, QueryError> {
    let files = output_files(output)?;
    if files.svg_asked {
        // Only the SVG was asked for; the DOT file is written only if it cannot be.
        if run_dot(text, &files.svg)? {
            return Ok(Picture {
                dot: None,
                svg: Some(files.svg),
            });
        }
        std::fs::write(&files.dot, text).map_err(|e| with_path(&files.dot, e))?;
        return Err(QueryError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "cannot write {}: Graphviz's `dot` is not installed (apt-get install \
                 graphviz); the graph is in {}",
                clean(&files.svg.display().to_string()),
                clean(&files.dot.display().to_string())
            ),
        )));
    }
    std::fs::write(&files.dot, text).map_err(|e| with_path(&files.dot, e))?;
    let svg = run_dot(text, &files.svg)?.then_some(files.svg);
    Ok(Picture {
        dot: Some(files.dot),
        svg,
    })
}

/// Where `graph -o` writes.
struct OutputFiles {
    dot: PathBuf,
    svg: PathBuf,
    /// `-o FILE.svg`: without Graphviz, an error.
    svg_asked: bool,
}

fn output_files(output: &Path) -> Result<OutputFiles, QueryError> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("dot" | "gv") => Ok(OutputFiles {
            dot: output.to_owned(),
            svg: output.with_extension("svg"),
            svg_asked: false,
        }),
        Some("svg") => Ok(OutputFiles {
            dot: output.with_extension("dot"),
            svg: output.to_owned(),
            svg_asked: true,
        }),
        _ => Err(QueryError::Usage(format!(
            "graph: -o takes FILE.dot or FILE.svg, not {}",
            clean(&output.display().to_string())
        ))),
    }
}

fn with_path(path: &Path, e: std::io::Error) -> QueryError {
    let shown = clean(&path.display().to_string());
    QueryError::Io(std::io::Error::new(e.kind(), format!("{shown}: {e}")))
}

/// Runs Graphviz's `dot -Tsvg` on DOT text, into `svg`; false when Graphviz is not
/// installed.
fn run_dot(text: &str, svg: &Path) -> Result<bool, QueryError> {
    // A relative path starting with `-` would read as an option.
    let svg_arg = if svg.is_relative() {
        Path::new(".").join(svg)
    } else {
        svg.to_owned()
    };
    let mut out_arg = std::ffi::OsString::from("-o");
    out_arg.push(&svg_arg);
    let child = Command::new("dot")
        .arg("-Tsvg")
        .arg(out_arg)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(with_path(Path::new("dot"), e)),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // dot reports its own errors; a broken pipe here is one of them.
        let _ = stdin.write_all(text.as_bytes());
    }
    let done = child.wait_with_output()?;
    if !done.status.success() {
        let said = String::from_utf8_lossy(&done.stderr);
        return Err(QueryError::Io(std::io::Error::other(format!(
            "dot -Tsvg -o {} failed ({}): {}",
            clean(&svg.display().to_string()),
            done.status,
            clean(said.trim())
        ))));
    }
    Ok(true)
}

/// `s` inside a DOT string: terminal-safe text (control characters as `\x1b`, as
/// everywhere else), with quotes and backslashes escaped.
fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The neighbourhood as a DOT graph: the first `starts` nodes highlighted, an
/// indirect call dashed and labelled with the pointers it goes through.
fn dot(
    hood: &Neighbourhood,
    starts: usize,
    title: &str,
    names: &mut Names<'_>,
) -> Result<String, schema::Error> {
    let mut s = format!("// {}\n", clean(title));
    if hood.cut {
        s.push_str(&format!(
            "// cut at {MAX_NODES} functions: others as near were left out\n"
        ));
    }
    s.push_str("digraph calls {\n");
    s.push_str("  rankdir=LR;\n");
    s.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n");
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let mut index = HashMap::new();
    for (i, &id) in hood.nodes.iter().enumerate() {
        index.insert(id, i);
        let mut label = dot_escape(&names.name(id)?);
        let mut attrs = String::new();
        if let Some((path, line)) = names.home(id)? {
            let place = dot_escape(&format!("{path}:{line}"));
            label.push_str(&format!("\\n{place}"));
            attrs.push_str(&format!(", tooltip=\"{place}\""));
        }
        if i < starts {
            attrs.push_str(", style=\"rounded,filled,bold\", fillcolor=\"#ffd966\"");
        }
        s.push_str(&format!("  n{i} [label=\"{label}\"{attrs}];\n"));
    }
    for (caller, callee, link) in &hood.edges {
        let (Some(a), Some(b)) = (index.get(caller), index.get(callee)) else {
            continue;
        };
        if link.direct {
            s.push_str(&format!("  n{a} -> n{b};\n"));
            continue;
        }
        let mut vias = Vec::new();
        for &p in &link.pointers {
            vias.push(names.name(p)?);
        }
        vias.sort();
        if vias.len() > MAX_VIAS {
            let more = vias.len() - MAX_VIAS;
            vias.truncate(MAX_VIAS);
            vias.push(format!("{more} more"));
        }
        let label = dot_escape(&vias.join(", "));
        s.push_str(&format!(
            "  n{a} -> n{b} [style=dashed, label=\"{label}\"];\n"
        ));
    }
    s.push_str("}\n");
    Ok(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use schema::{
        FileIx, Linkage, NewCall, NewDefinition, NewFile, NewStore, NewSymbol, Root, TuFacts, TuRecord,
        SymbolIx, TuStatus,
    };

    /// The functions of the test unit (and the member `ops::go`), by index.
    const NAMES: &[&str] = &[
        "top", "right", "left", "bottom", "go", "z", "alone", "rec", "a_far",
    ];
    const GO: usize = 4;

    /// One unit, `t.c`, whose calls are (caller, callee, line, indirect): `top` reaches
    /// `bottom` through `left` and through `right`, calls `right` through `ops::go`
    /// before calling it directly, and reaches `z` only through `ops::go`.
    fn database(dir: &Path) -> Db {
        let calls = [
            (0, 1, 3, false),
            (0, GO, 1, true),
            (0, 1, 7, false),
            (0, 2, 2, false),
            (1, 3, 20, false),
            (2, 3, 10, false),
            (2, 3, 11, false),
            (7, 7, 30, false),
            (5, 8, 40, false),
        ];
        let stores = [(GO, 1, 50), (GO, 5, 51)];
        let symbols = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| NewSymbol {
                usr: format!("c:@F@{name}"),
                name: (*name).to_owned(),
                scope: (i == GO).then(|| "ops".to_owned()),
                kind: if i == GO { Kind::Field } else { Kind::Function },
                linkage: Linkage::External,
            })
            .collect();
        let facts = TuFacts {
            main_file: Some(FileIx(0)),
            files: vec![NewFile::new(Root::Src, "t.c")],
            symbols,
            definitions: (0..NAMES.len())
                .map(|i| NewDefinition {
                    symbol: SymbolIx(i as u32),
                    file: FileIx(0),
                    line: 100 + i as u32,
                    col: 6,
                    macro_name: None,
                    definition: true,
                    owner: FileIx(0),
                })
                .collect(),
            calls: calls
                .iter()
                .map(|&(caller, callee, line, indirect)| NewCall {
                    caller: SymbolIx(caller as u32),
                    callee: SymbolIx(callee as u32),
                    file: FileIx(0),
                    line,
                    col: 2,
                    indirect,
                    macro_name: (line == 7).then(|| "M".to_owned()),
                    owner: FileIx(0),
                })
                .collect(),
            stores: stores
                .iter()
                .map(|&(target, value, line)| NewStore {
                    target: SymbolIx(target as u32),
                    value: SymbolIx(value as u32),
                    file: FileIx(0),
                    line,
                    col: 9,
                    macro_name: None,
                    owner: FileIx(0),
                })
                .collect(),
            ..TuFacts::default()
        };
        let tu = TuRecord {
            object: "/b/t.o".into(),
            source: None,
            directory: "/b".into(),
            command: vec!["gcc".into()],
            module: false,
            modname: None,
            status: TuStatus::Ok,
            reason: None,
        };
        let path = dir.join("t.db");
        Db::open_writer(&path)
            .unwrap()
            .write_tu(&tu, &facts)
            .unwrap();
        Db::open_readonly(&path).unwrap()
    }

    fn id(db: &Db, name: &str) -> SymbolId {
        db.symbols_named(name).unwrap()[0].id
    }

    /// Each path as `caller -(line[ via P][ M])-> callee ...`.
    fn shown(db: &Db, paths: &[Vec<Step>]) -> Vec<String> {
        let name = |s: SymbolId| db.symbol(s).unwrap().display_name();
        paths
            .iter()
            .map(|steps| {
                let mut s = name(steps[0].caller);
                for st in steps {
                    let via = st.via.map(|p| format!(" via {}", name(p)));
                    let m = st.macro_name.as_deref().map(|m| format!(" {m}"));
                    s += &format!(
                        " -({}{}{})-> {}",
                        st.site.line,
                        via.unwrap_or_default(),
                        m.unwrap_or_default(),
                        name(st.callee)
                    );
                }
                s
            })
            .collect()
    }

    #[test]
    fn shortest_paths_come_by_name_with_their_first_sites() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        let g = CallGraph::load(&db).unwrap();
        let paths = |from: &str, to: &str, max: usize| {
            shown(
                &db,
                &g.shortest_paths(&db, id(&db, from), id(&db, to), max)
                    .unwrap(),
            )
        };
        // `right` was defined and called first; `left` still comes first by name.
        assert_eq!(
            paths("top", "bottom", 10),
            [
                "top -(2)-> left -(10)-> bottom",
                "top -(1 via ops::go)-> right -(20)-> bottom",
            ]
        );
        assert_eq!(
            paths("top", "bottom", 1),
            ["top -(2)-> left -(10)-> bottom"]
        );
        assert!(paths("top", "bottom", 0).is_empty());
        // Only through the member.
        assert_eq!(paths("top", "z", 10), ["top -(1 via ops::go)-> z"]);
        assert_eq!(
            paths("top", "a_far", 10),
            ["top -(1 via ops::go)-> z -(40)-> a_far"]
        );
        // Against the direction of calls, from a function without calls, to itself.
        assert!(paths("bottom", "top", 10).is_empty());
        assert!(paths("alone", "top", 10).is_empty());
        assert!(paths("top", "top", 10).is_empty());
        assert_eq!(paths("rec", "rec", 10), ["rec -(30)-> rec"]);
        // Several starts: the nearest, or all of those as near.
        let any = |froms: &[&str], max: usize| {
            let ids: Vec<SymbolId> = froms.iter().map(|f| id(&db, f)).collect();
            shown(
                &db,
                &g.shortest_from_any(&db, &ids, id(&db, "bottom"), max)
                    .unwrap(),
            )
        };
        assert_eq!(any(&["alone", "top", "left"], 10), ["left -(10)-> bottom"]);
        assert_eq!(
            any(&["right", "top", "left"], 10),
            ["right -(20)-> bottom", "left -(10)-> bottom"]
        );
        assert_eq!(any(&["right", "left"], 1), ["right -(20)-> bottom"]);
        assert!(any(&["alone", "rec"], 10).is_empty());
    }

    #[test]
    fn neighbourhoods_stop_at_the_depth_and_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        let g = CallGraph::load(&db).unwrap();
        let mut names = Names::new(&db);
        let mut hood = |name: &str, callers: bool, depth: usize, cap: usize| {
            let h = g
                .neighbourhood(&[id(&db, name)], callers, depth, cap, &mut names)
                .unwrap();
            let name = |s: SymbolId| db.symbol(s).unwrap().name;
            let nodes: Vec<String> = h.nodes.iter().map(|&s| name(s)).collect();
            let edges: Vec<String> = h
                .edges
                .iter()
                .map(|(a, b, l)| {
                    let dashed = if l.direct { "" } else { " dashed" };
                    format!("{}->{}{dashed}", name(*a), name(*b))
                })
                .collect();
            (nodes.join(" "), edges.join(" "), h.cut)
        };
        assert_eq!(hood("top", false, 0, 300), ("top".into(), "".into(), false));
        assert_eq!(
            hood("top", false, 1, 300),
            (
                "top left right z".into(),
                "top->left top->right top->z dashed".into(),
                false
            )
        );
        assert_eq!(
            hood("top", false, usize::MAX, 300).0,
            "top left right z bottom a_far"
        );
        assert_eq!(
            hood("bottom", true, 5, 300),
            (
                "bottom left right top".into(),
                "left->bottom right->bottom top->left top->right".into(),
                false
            )
        );
        // Cut at three: `z` is left out, the calls between those drawn are kept.
        assert_eq!(
            hood("top", false, 2, 3),
            ("top left right".into(), "top->left top->right".into(), true)
        );
        assert_eq!(
            hood("rec", false, 3, 300),
            ("rec".into(), "rec->rec".into(), false)
        );
    }

    #[test]
    fn dot_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(dot_escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(dot_escape("x\ny\u{1b}[1m"), r"x\\x0ay\\x1b[1m");
        // A file name that was not UTF-8, as the database stores it.
        assert_eq!(dot_escape(r"f\xff.c"), r"f\\xff.c");
    }
}
