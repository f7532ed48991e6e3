//! What a long-running server (`nccnav lsp`, `nccnav mcp`) keeps between requests:
//! the query layer, and the symbol search and call graph built on first use. A
//! database that a build still fills is read afresh when SQLite's `data_version` says
//! another connection changed it, and only then.

use schema::{Db, Trees};

use crate::answer::Navigator;
use crate::callgraph::CallGraph;
use crate::search::Index;

pub struct Served {
    pub nav: Navigator,
    /// The trees the stored paths are relative to.
    pub trees: Trees,
    /// The `data_version` the caches below were read at.
    version: Option<i64>,
    index: Option<Index>,
    /// The call graph without and with the dead calls.
    graphs: [Option<CallGraph>; 2],
}

impl Served {
    pub fn new(nav: Navigator) -> Served {
        let trees = nav.db().trees().unwrap_or_default();
        let version = nav.db().data_version().ok();
        Served {
            nav,
            trees,
            version,
            index: None,
            graphs: [None, None],
        }
    }

    pub fn db(&self) -> &Db {
        self.nav.db()
    }

    /// Before each request: drops what was read if the database changed since; says
    /// whether it did.
    pub fn refresh(&mut self) -> bool {
        let now = self.nav.db().data_version().ok();
        let changed = now != self.version;
        if changed {
            self.nav.forget();
            self.index = None;
            self.graphs = [None, None];
            self.trees = self.nav.db().trees().unwrap_or_default();
            self.version = now;
        }
        changed
    }

    /// The navigator's symbol search over the whole database.
    pub fn index(&mut self) -> Result<&mut Index, schema::Error> {
        let index = match self.index.take() {
            Some(i) => i,
            None => Index::new(self.nav.db().searchable_symbols()?),
        };
        Ok(self.index.insert(index))
    }

    /// The whole call graph (with the dead calls when the navigator answers them), and
    /// the navigator to name what it holds.
    pub fn graph(&mut self) -> Result<(&CallGraph, &mut Navigator), schema::Error> {
        let slot = &mut self.graphs[usize::from(self.nav.dead)];
        let graph = match slot.take() {
            Some(g) => g,
            None => self.nav.call_graph()?,
        };
        Ok((slot.insert(graph), &mut self.nav))
    }
}
