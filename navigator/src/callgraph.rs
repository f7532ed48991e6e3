//! The whole call graph of a database, read at once ([`CallGraph::load`]): an edge
//! for each direct call, and for each call through a member or pointer an edge to
//! every function that can be behind it. Shortest call paths and call
//! neighbourhoods are answered on it; call sites are read only for the edges shown.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction as Edges;
use schema::{CallEdge, Db, Location, SymbolId};

use crate::names::Names;

/// Which way along the calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Callers,
    Callees,
}

impl Direction {
    /// `callers` or `callees`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Callers => "callers",
            Direction::Callees => "callees",
        }
    }
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
    /// In code this configuration never runs (only in a graph read with dead calls).
    pub dead: bool,
    /// `caller` is an alias of `callee` (`sys_read` of `__se_sys_read`).
    pub alias: bool,
}

/// The call graph of a whole database: a node per function that calls or is called;
/// an edge per caller, callee and way of calling: `None` for a direct call, the
/// pointer for a call through a pointer that can hold the callee.
pub struct CallGraph {
    /// The direct calls (caller, callee) recorded only in code this configuration
    /// never runs (in a graph read with them).
    dead_only: HashSet<(SymbolId, SymbolId)>,
    graph: DiGraph<SymbolId, Option<SymbolId>>,
    nodes: HashMap<SymbolId, NodeIndex>,
    /// Each function's callees and callers once each, by node index, in flat arrays:
    /// the searches for paths walk these, not the graph's linked edge lists.
    callees: Adjacency,
    callers: Adjacency,
}

/// The neighbours of each node, once each, in one array (compressed rows).
#[derive(Default)]
struct Adjacency {
    /// Node `n`'s neighbours are `targets[starts[n]..starts[n + 1]]`.
    starts: Vec<u32>,
    targets: Vec<u32>,
}

impl Adjacency {
    fn of(graph: &DiGraph<SymbolId, Option<SymbolId>>, dir: Edges) -> Adjacency {
        let mut a = Adjacency::default();
        let mut here = Vec::new();
        for n in graph.node_indices() {
            a.starts.push(a.targets.len() as u32);
            here.clear();
            here.extend(graph.neighbors_directed(n, dir).map(|m| m.index() as u32));
            here.sort_unstable();
            here.dedup();
            a.targets.extend_from_slice(&here);
        }
        a.starts.push(a.targets.len() as u32);
        a
    }

    fn of_node(&self, n: usize) -> &[u32] {
        &self.targets[self.starts[n] as usize..self.starts[n + 1] as usize]
    }
}

impl CallGraph {
    /// Reads every call (the dead ones too when `dead`), and what every pointer called
    /// through can hold.
    pub fn load(db: &Db, dead: bool) -> Result<CallGraph, schema::Error> {
        let mut behind: HashMap<SymbolId, Vec<SymbolId>> = HashMap::new();
        for (pointer, function) in db.pointer_functions()? {
            behind.entry(pointer).or_default().push(function);
        }
        let mut g = CallGraph {
            graph: DiGraph::new(),
            nodes: HashMap::new(),
            dead_only: HashSet::new(),
            callees: Adjacency::default(),
            callers: Adjacency::default(),
        };
        // A call is recorded once per site (and per chunk): keep one edge of each.
        let mut seen = HashSet::new();
        let mut live_direct = HashSet::new();
        for (caller, callee, indirect, is_dead) in db.call_pairs(dead)? {
            if !indirect {
                if is_dead {
                    g.dead_only.insert((caller, callee));
                } else {
                    live_direct.insert((caller, callee));
                }
            }
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
        g.dead_only.retain(|pair| !live_direct.contains(pair));
        g.callees = Adjacency::of(&g.graph, Edges::Outgoing);
        g.callers = Adjacency::of(&g.graph, Edges::Incoming);
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
        if !starts.contains(&b) && !self.connected(&starts, b) {
            return Ok(Vec::new());
        }
        // How many calls each function is away from `to`: with one start other than
        // `to`, only as far as that start.
        let goal = match starts.as_slice() {
            [a] if *a != b => Some(*a),
            _ => None,
        };
        let dist = self.distances_to(b, goal);
        let dist = |n: NodeIndex| dist.get(n.index()).copied().filter(|&d| d != usize::MAX);
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
        let mut names = Names::default();
        let mut name = |id: SymbolId| names.name(db, id);
        let mut found = Vec::new();
        for &(a, len) in &lengths {
            if len == shortest {
                self.walk(&dist, len, &mut name, &mut vec![a], &mut found, max)?;
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

    /// How many calls each function is away from `to` (`usize::MAX`: no chain of
    /// calls leads there), by node index: a breadth-first search back from `to`. With
    /// a `goal`, it stops once the goal is reached, when every function nearer than
    /// the goal has its final distance.
    fn distances_to(&self, to: NodeIndex, goal: Option<NodeIndex>) -> Vec<usize> {
        let mut dist = vec![usize::MAX; self.graph.node_count()];
        dist[to.index()] = 0;
        let goal = goal.map(NodeIndex::index);
        let mut queue = std::collections::VecDeque::from([to.index()]);
        while let Some(n) = queue.pop_front() {
            let d = dist[n] + 1;
            for &m in self.callers.of_node(n) {
                let m = m as usize;
                if dist[m] == usize::MAX {
                    dist[m] = d;
                    if Some(m) == goal {
                        return dist;
                    }
                    queue.push_back(m);
                }
            }
        }
        dist
    }

    /// Whether some chain of calls leads from one of `starts` to `to`: a search forward
    /// from the starts and backward from `to` at once, each step widening the smaller
    /// side, so that a missing path is known as soon as either side runs out (most
    /// functions have few callers or few callees).
    fn connected(&self, starts: &[NodeIndex], to: NodeIndex) -> bool {
        const FORWARD: u8 = 1;
        const BACKWARD: u8 = 2;
        let mut seen = vec![0u8; self.graph.node_count()];
        let mut fronts: [Vec<usize>; 2] =
            [starts.iter().map(|n| n.index()).collect(), vec![to.index()]];
        for &n in &fronts[0] {
            seen[n] |= FORWARD;
        }
        seen[to.index()] |= BACKWARD;
        while !fronts[0].is_empty() && !fronts[1].is_empty() {
            let side = usize::from(fronts[1].len() < fronts[0].len());
            let (adjacency, mine, other) = if side == 0 {
                (&self.callees, FORWARD, BACKWARD)
            } else {
                (&self.callers, BACKWARD, FORWARD)
            };
            let mut next = Vec::new();
            for &n in &fronts[side] {
                for &m in adjacency.of_node(n) {
                    let m = m as usize;
                    if seen[m] & other != 0 {
                        return true;
                    }
                    if seen[m] & mine == 0 {
                        seen[m] |= mine;
                        next.push(m);
                    }
                }
            }
            fronts[side] = next;
        }
        false
    }

    /// Extends `path` by `left` calls, each to a function one call nearer `to`, and
    /// keeps each complete path; the functions at each step are tried by name.
    fn walk(
        &self,
        dist: &dyn Fn(NodeIndex) -> Option<usize>,
        left: usize,
        name: &mut dyn FnMut(SymbolId) -> Result<String, schema::Error>,
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
            named.push((name(id)?, id, n));
        }
        named.sort();
        for (_, _, n) in named {
            if found.len() >= max {
                break;
            }
            path.push(n);
            self.walk(dist, left - 1, name, path, found, max)?;
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
            // `callees` is in site order: the first match is the first site; a site
            // this configuration runs before a dead one (in a graph read with them).
            let matches = |c: &&CallEdge| {
                if c.indirect {
                    pointers.contains(&c.callee)
                } else {
                    direct && c.callee == callee
                }
            };
            let first = made
                .iter()
                .filter(|c| !c.dead)
                .find(matches)
                .or_else(|| made.iter().find(matches));
            let Some(c) = first else {
                return Ok(None);
            };
            steps.push(Step {
                caller,
                callee,
                site: c.site,
                macro_name: c.macro_name.clone(),
                via: c.indirect.then_some(c.callee),
                dead: c.dead,
                alias: c.alias,
            });
        }
        Ok(Some(steps))
    }

    /// The functions up to `depth` calls away from `starts` (callers or callees), by
    /// levels and by name within each, at most `cap` of them; and the calls between
    /// each function and the next level.
    pub fn neighbourhood(
        &self,
        starts: &[SymbolId],
        dir: Direction,
        depth: usize,
        cap: usize,
        db: &Db,
        names: &mut Names,
    ) -> Result<Neighbourhood, schema::Error> {
        let callers = dir == Direction::Callers;
        let edges = if callers {
            Edges::Incoming
        } else {
            Edges::Outgoing
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
                for e in self.graph.edges_directed(n, edges) {
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
                        names.name(db, other)?
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
                    link.dead = link.direct && self.dead_only.contains(&(caller, callee));
                    hood.edges.push((caller, callee, link));
                }
            }
            level = next_level;
        }
        Ok(hood)
    }
}

#[derive(Default)]
pub struct Neighbourhood {
    /// The functions, the starts first, then in the order found.
    pub nodes: Vec<SymbolId>,
    /// (caller, callee, how).
    pub edges: Vec<(SymbolId, SymbolId, Link)>,
    /// Some functions were left out.
    pub cut: bool,
}

/// How one function calls another: directly, through pointers, or both.
#[derive(Default)]
pub struct Link {
    pub direct: bool,
    pub pointers: Vec<SymbolId>,
    /// A direct call only in code this configuration never runs.
    pub dead: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use schema::{
        FileIx, Kind, Linkage, NewCall, NewDefinition, NewFile, NewStore, NewSymbol, Root,
        SymbolIx, TuFacts, TuRecord, TuStatus,
    };
    use std::path::Path;

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
                    dead: false,
                    alias: false,
                    weak: false,
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
                    within: SymbolIx(value as u32),
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
            facts: None,
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
        let g = CallGraph::load(&db, false).unwrap();
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
        let g = CallGraph::load(&db, false).unwrap();
        let mut names = Names::default();
        let mut hood = |name: &str, callers: bool, depth: usize, cap: usize| {
            let dir = if callers {
                Direction::Callers
            } else {
                Direction::Callees
            };
            let h = g
                .neighbourhood(&[id(&db, name)], dir, depth, cap, &db, &mut names)
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
}
