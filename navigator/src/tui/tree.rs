//! A page's tree: its rows as the screen lists them (an open node shows its
//! children), and the node each row stands for, by the child positions that lead to
//! it.

use schema::SymbolId;

use super::loader::Node;

/// One listed row: its depth and the child positions that lead to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visible {
    pub depth: usize,
    pub path: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub roots: Vec<Node>,
    /// The page's filter: the words every row of its lists must hold (in its name,
    /// the start of its path, or its note: `fs/`, `write`, `ext4_`); empty lists all.
    filter: Vec<String>,
}

impl Tree {
    pub fn new(roots: Vec<Node>) -> Tree {
        Tree {
            roots,
            filter: Vec::new(),
        }
    }

    /// Lists only the rows of the page's lists (the rows under its sections) that
    /// hold every word of `text`, with what is under them.
    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.split_whitespace().map(str::to_owned).collect();
    }

    /// Whether the filter lets the row of `node`, one of a list, be listed.
    fn passes(&self, node: &Node) -> bool {
        let r = &node.row;
        // The row that reads more of a list stays: what it reads may match.
        matches!(node.expand, super::loader::Expand::More { .. })
            || self.filter.iter().all(|w| {
                r.label.contains(w.as_str())
                    || r.note.contains(w.as_str())
                    || r.site
                        .as_ref()
                        .is_some_and(|s| s.shown.starts_with(w.as_str()))
            })
    }

    /// The rows as listed, top to bottom.
    pub fn visible(&self) -> Vec<Visible> {
        let mut out = Vec::new();
        self.walk(&self.roots, 0, &mut Vec::new(), &mut out);
        out
    }

    fn walk(&self, nodes: &[Node], depth: usize, path: &mut Vec<usize>, out: &mut Vec<Visible>) {
        for (i, n) in nodes.iter().enumerate() {
            if depth == 1 && !self.filter.is_empty() && !self.passes(n) {
                continue;
            }
            path.push(i);
            out.push(Visible {
                depth,
                path: path.clone(),
            });
            if n.expanded {
                if let Some(c) = &n.children {
                    self.walk(c, depth + 1, path, out);
                }
            }
            path.pop();
        }
    }

    /// The node at `path`.
    pub fn node(&self, path: &[usize]) -> Option<&Node> {
        let (first, rest) = path.split_first()?;
        let mut node = self.roots.get(*first)?;
        for &i in rest {
            node = node.children.as_ref()?.get(i)?;
        }
        Some(node)
    }

    /// The node at `path`, to change.
    pub fn node_mut(&mut self, path: &[usize]) -> Option<&mut Node> {
        let (first, rest) = path.split_first()?;
        let mut node = self.roots.get_mut(*first)?;
        for &i in rest {
            node = node.children.as_mut()?.get_mut(i)?;
        }
        Some(node)
    }

    /// The node of listed row `row`, and its path.
    pub fn row(&self, row: usize) -> Option<(Vec<usize>, &Node)> {
        let path = self.visible().into_iter().nth(row)?.path;
        let node = self.node(&path)?;
        Some((path, node))
    }

    /// The symbols of the nodes from the top down to the one at `path`, inclusive.
    pub fn symbols_to(&self, path: &[usize]) -> Vec<SymbolId> {
        (1..=path.len())
            .filter_map(|end| self.node(&path[..end]).and_then(|n| n.row.symbol))
            .collect()
    }

    /// What names the node at `path` when the tree is read again: what each node on
    /// the way down stands for, rather than positions that new rows move.
    pub fn key(&self, path: &[usize]) -> Vec<String> {
        (1..=path.len())
            .filter_map(|end| self.node(&path[..end]))
            .map(|n| {
                // A section's title carries its count, which new facts change.
                let label = if n.row.section { "" } else { &n.row.label };
                format!("{:?} {:?} {:?} {label}", n.expand, n.row.symbol, n.row.site)
            })
            .collect()
    }

    /// The keys of the open nodes, top down.
    pub fn open_keys(&self) -> Vec<Vec<String>> {
        self.visible()
            .iter()
            .filter(|v| self.node(&v.path).is_some_and(|n| n.expanded))
            .map(|v| self.key(&v.path))
            .collect()
    }

    /// The first listed row whose node has key `key`.
    pub fn find(&self, key: &[String]) -> Option<usize> {
        self.visible().iter().position(|v| self.key(&v.path) == key)
    }

    /// The listed row of the parent of the node at `path`.
    pub fn parent_row(&self, path: &[usize]) -> Option<usize> {
        let parent = path.get(..path.len().checked_sub(1)?)?;
        if parent.is_empty() {
            return None;
        }
        self.visible().iter().position(|v| v.path == parent)
    }
}

#[cfg(test)]
mod tests {
    use super::super::loader::{Expand, Node, Row};
    use super::*;

    fn leaf(label: &str, symbol: Option<i64>) -> Node {
        let mut row = Row::message(label);
        row.symbol = symbol.map(SymbolId);
        Node::leaf(row)
    }

    fn open(label: &str, symbol: i64, children: Vec<Node>) -> Node {
        let mut n = leaf(label, Some(symbol));
        n.expand = Expand::Fixed;
        n.children = Some(children);
        n.expanded = true;
        n
    }

    /// a (open: b, c (open: d)), e; c's child d is listed, e's nothing.
    fn tree() -> Tree {
        Tree::new(vec![
            open(
                "a",
                1,
                vec![leaf("b", Some(2)), open("c", 3, vec![leaf("d", Some(4))])],
            ),
            leaf("e", None),
        ])
    }

    fn labels(t: &Tree) -> Vec<String> {
        t.visible()
            .iter()
            .map(|v| {
                let n = t.node(&v.path).expect("listed rows exist");
                format!("{}{}", "  ".repeat(v.depth), n.row.label)
            })
            .collect()
    }

    #[test]
    fn open_nodes_list_their_children_in_order() {
        assert_eq!(labels(&tree()), ["a", "  b", "  c", "    d", "e"]);
    }

    #[test]
    fn a_closed_node_hides_its_whole_subtree() {
        let mut t = tree();
        t.node_mut(&[0]).expect("a").expanded = false;
        assert_eq!(labels(&t), ["a", "e"]);
        t.node_mut(&[0]).expect("a").expanded = true;
        t.node_mut(&[0, 1]).expect("c").expanded = false;
        assert_eq!(labels(&t), ["a", "  b", "  c", "e"]);
    }

    #[test]
    fn rows_paths_and_parents() {
        let t = tree();
        let (path, node) = t.row(3).expect("row 3");
        assert_eq!(
            (path.as_slice(), node.row.label.as_str()),
            (&[0, 1, 0][..], "d")
        );
        assert_eq!(t.parent_row(&path), Some(2));
        assert_eq!(t.parent_row(&[0]), None);
        assert!(t.row(5).is_none());
        assert!(t.node(&[0, 7]).is_none());
        assert!(t.node(&[]).is_none());
    }

    #[test]
    fn keys_find_nodes_after_rows_moved() {
        let t = tree();
        let key = t.key(&[0, 1, 0]);
        assert_eq!(t.open_keys(), [t.key(&[0]), t.key(&[0, 1])]);
        // A new first child moves c and d down one row; their keys stay.
        let mut moved = tree();
        let a = moved.node_mut(&[0]).expect("a");
        a.children
            .as_mut()
            .expect("children")
            .insert(0, leaf("new", Some(9)));
        assert_eq!(moved.find(&key), Some(4));
        assert_eq!(moved.find(&t.key(&[1])), Some(5));
        assert_eq!(moved.find(&["nothing".to_owned()]), None);
    }

    #[test]
    fn a_filter_lists_the_rows_of_lists_that_hold_every_word() {
        let mut t = tree();
        t.set_filter("c");
        // `a` is a section: it stays, with what passes of its rows.
        assert_eq!(labels(&t), ["a", "  c", "    d", "e"]);
        t.set_filter("nothing");
        assert_eq!(labels(&t), ["a", "e"]);
        t.set_filter("");
        assert_eq!(labels(&t), ["a", "  b", "  c", "    d", "e"]);
    }

    #[test]
    fn the_symbols_on_the_way_down() {
        let t = tree();
        assert_eq!(
            t.symbols_to(&[0, 1, 0]),
            [SymbolId(1), SymbolId(3), SymbolId(4)]
        );
        // A row without a symbol adds nothing.
        assert!(t.symbols_to(&[1]).is_empty());
    }
}
