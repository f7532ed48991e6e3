//! The navigator: the whole app driven with scripted keys on ratatui's TestBackend
//! (screens kept as insta snapshots), and in a real terminal under tmux.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use navigator::tui::{Action, App, Msg};
use navigator::Navigator;
use nccrs_e2e::bin;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;

use crate::fixture::built;

/// A tree row without its indent and its expansion marker.
fn row_text(line: &str) -> &str {
    let t = line.trim_start();
    t.strip_prefix("> ")
        .or_else(|| t.strip_prefix("v "))
        .unwrap_or(t)
}

struct Screen {
    app: App,
    term: Terminal<TestBackend>,
}

impl Screen {
    fn new(start: Option<&str>) -> Screen {
        Screen::sized(start, 80, 24, None)
    }

    fn sized(start: Option<&str>, w: u16, h: u16, srctree: Option<PathBuf>) -> Screen {
        Screen::on(&built().db, start, w, h, srctree)
    }

    fn on(db: &Path, start: Option<&str>, w: u16, h: u16, srctree: Option<PathBuf>) -> Screen {
        let nav = Navigator::open(db).expect("database opens");
        let mut app = App::new(nav, srctree);
        app.colour = false;
        app.update(Msg::Resize(w, h));
        app.load_index().expect("symbol list");
        app.start(start);
        let term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        let mut s = Screen { app, term };
        s.draw();
        s
    }

    /// The navigator as it starts in a terminal: the symbol list not read yet.
    fn before_the_symbol_list(start: Option<&str>) -> Screen {
        let nav = Navigator::open(&built().db).expect("database opens");
        let mut app = App::new(nav, None);
        app.colour = false;
        app.update(Msg::Resize(80, 24));
        app.start(start);
        let term = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        let mut s = Screen { app, term };
        s.draw();
        s
    }

    fn draw(&mut self) {
        let app = &self.app;
        self.term.draw(|f| app.view(f)).expect("draws");
    }

    fn key(&mut self, code: KeyCode) -> Action {
        self.key_with(code, KeyModifiers::NONE)
    }

    fn key_with(&mut self, code: KeyCode, mods: KeyModifiers) -> Action {
        let a = self.app.update(Msg::Key(KeyEvent::new(code, mods)));
        self.draw();
        if self.app.busy() {
            // What the terminal loop does: the "working" line first, then the work.
            self.app.work();
            self.draw();
        }
        a
    }

    fn keys(&mut self, keys: &[KeyCode]) {
        for k in keys {
            assert_eq!(self.key(*k), Action::None, "{k:?}");
        }
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            assert_eq!(self.key(KeyCode::Char(c)), Action::None);
        }
    }

    fn text(&self) -> String {
        let buf = self.term.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut line = String::new();
            for x in 0..buf.area.width {
                line.push_str(buf[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The screen as a snapshot: the fixture's absolute paths replaced.
    fn snapshot(&self, name: &str) {
        let root = nccrs_e2e::root().display().to_string();
        let text = self.text().replace(&root, "[ROOT]");
        insta::assert_snapshot!(name, text);
    }

    /// Moves the selection to the row that starts (after its indent and marker) with
    /// `label` and carries `rest`.
    fn select(&mut self, label: &str, rest: &str) {
        for _ in 0..200 {
            if self
                .selected_line()
                .is_some_and(|l| row_text(&l).starts_with(label) && l.contains(rest))
            {
                return;
            }
            self.key(KeyCode::Down);
        }
        panic!("no row {label:?} with {rest:?}:\n{}", self.text());
    }

    /// The cell of the first `symbol` on the first screen line that holds `text`.
    fn cell(&self, text: &str, symbol: &str) -> ratatui::buffer::Cell {
        let buf = self.term.backend().buffer();
        let y = (0..buf.area.height)
            .find(|&y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains(text)
            })
            .unwrap_or_else(|| panic!("no line with {text:?}:\n{}", self.text()));
        let x = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == symbol)
            .unwrap_or_else(|| panic!("no {symbol:?} on the line with {text:?}"));
        buf[(x, y)].clone()
    }

    fn selected_line(&self) -> Option<String> {
        let buf = self.term.backend().buffer();
        (0..buf.area.height).find_map(|y| {
            let reversed = (0..buf.area.width).all(|x| {
                buf[(x, y)]
                    .modifier
                    .contains(ratatui::style::Modifier::REVERSED)
                    || buf[(x, y)].symbol() == " "
            }) && buf[(0, y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED);
            reversed.then(|| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
        })
    }
}

#[test]
fn search_ranks_exact_prefix_substring_and_opens() {
    let mut s = Screen::new(None);
    assert!(s.text().contains("Search:"), "{}", s.text());
    s.typed("read");
    s.snapshot("search_read");
    let text = s.text();
    let pos = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{text}"))
    };
    // Exact names first, then prefixes, then substrings; functions before fields.
    assert!(pos("file_operations::read ") < pos("vfs_read"));
    assert!(pos("vfs_read") < pos("ksys_read"));
    s.keys(&[KeyCode::Backspace; 4]);
    s.typed("vfs_read");
    s.key(KeyCode::Enter);
    s.snapshot("vfs_read_page");
    assert!(s.text().contains("function vfs_read (external)"));
    assert!(s.text().contains("defined at fs/read_write.c:7:9"));
}

#[test]
fn a_variable_shows_its_macro_and_users_and_walks_up_their_callers() {
    let mut s = Screen::new(Some("mmlist_lock"));
    let text = s.text();
    assert!(text.contains("variable mmlist_lock (external)"), "{text}");
    assert!(
        text.contains("defined at kernel/fork.c:8:17  by macro DEFINE_SPINLOCK"),
        "{text}"
    );
    s.select("mmput", "kernel/fork.c:21");
    assert!(
        s.selected_line().is_some_and(|l| l.contains("addr")),
        "the use is &mmlist_lock"
    );
    // The source pane shows the use.
    assert!(
        s.text().contains("21>         spin_lock(&mmlist_lock);"),
        "{}",
        s.text()
    );
    // Nothing calls mmput in the fixture.
    s.key(KeyCode::Right);
    s.snapshot("mmlist_lock_users");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(
        text.contains("function mmput (external)  page 2 of 2"),
        "{text}"
    );
    assert!(
        text.contains("Uses (globals, members, functions named, macros expanded)"),
        "{text}"
    );
    s.select("Uses", "");
    s.key(KeyCode::Right);
    s.select("mmlist_lock", "kernel/fork.c:23");
    assert!(s.selected_line().is_some_and(|l| l.contains("addr")));
}

#[test]
fn callers_expand_lazily_back_and_forward_keep_the_place() {
    let mut s = Screen::new(Some("vfs_read"));
    s.select("ksys_read", "fs/read_write.c:20");
    s.key(KeyCode::Right);
    s.key(KeyCode::Down);
    s.key(KeyCode::Right);
    // The page without its history position, which moves.
    let page = |s: &Screen| s.text().replace("page 1 of 2", "page 1 of 1");
    let expanded = page(&s);
    assert!(
        expanded.contains("__se_sys_read"),
        "two levels up:\n{expanded}"
    );
    s.snapshot("vfs_read_callers_two_levels");
    s.select("__do_sys_read", "");
    s.key(KeyCode::Enter);
    assert!(s.text().contains("function __do_sys_read"), "{}", s.text());
    assert!(s.text().contains("page 2 of 2"));
    s.key(KeyCode::Char('b'));
    assert_eq!(page(&s), expanded, "back restores the page as it was");
    s.key(KeyCode::Char('f'));
    assert!(s.text().contains("function __do_sys_read"));
    s.key_with(KeyCode::Left, KeyModifiers::ALT);
    assert_eq!(page(&s), expanded);
    // Left on an open row closes it; on a child, it goes to the parent.
    s.key(KeyCode::Left);
    assert!(
        s.selected_line()
            .is_some_and(|l| l.contains("__do_sys_read")),
        "{}",
        s.text()
    );
}

#[test]
fn recursion_is_marked_and_not_expanded() {
    let mut s = Screen::new(Some("is_even"));
    s.select("is_odd", "kernel/sched.c:45");
    s.key(KeyCode::Right);
    s.key(KeyCode::Down);
    let line = s.selected_line().expect("a row is selected");
    assert!(
        line.contains("is_even") && line.contains("(recursive)"),
        "{line}"
    );
    s.key(KeyCode::Right);
    assert!(s.text().contains("nothing to open here"), "{}", s.text());
    let mut s = Screen::new(Some("count_ancestors"));
    s.select("count_ancestors", "kernel/sched.c:32");
    assert!(s.selected_line().is_some_and(|l| l.contains("(recursive)")));
}

#[test]
fn calls_through_ops_tables_show_the_functions_behind_them() {
    let mut s = Screen::new(Some("vfs_read"));
    s.select("file_operations::read", "fs/read_write.c:12");
    assert!(s
        .selected_line()
        .is_some_and(|l| l.contains("[call through field]")));
    s.key(KeyCode::Right);
    s.snapshot("vfs_read_through_ops");
}

#[test]
fn path_from_a_syscall_to_vfs_read() {
    let mut s = Screen::new(Some("__do_sys_read"));
    s.key(KeyCode::Char('p'));
    assert!(
        s.text().contains("Path from __do_sys_read to:"),
        "{}",
        s.text()
    );
    // Only functions are offered.
    s.typed("read");
    let text = s.text();
    assert!(
        !text.contains("file_operations::read") && text.contains("function   vfs_read"),
        "{text}"
    );
    s.keys(&[KeyCode::Backspace; 4]);
    s.typed("vfs_read");
    s.key(KeyCode::Enter);
    s.snapshot("path_do_sys_read_vfs_read");
    let text = s.text();
    assert!(
        text.contains("Call paths from __do_sys_read to vfs_read"),
        "{text}"
    );
    assert!(text.contains("-> ksys_read  fs/read_write.c:25"), "{text}");
    assert!(text.contains("-> vfs_read  fs/read_write.c:20"), "{text}");
    // A function that cannot reach the other says so.
    s.select("-> vfs_read", "");
    s.key(KeyCode::Char('p'));
    s.typed("schedule");
    s.key(KeyCode::Enter);
    assert!(
        s.text().contains("no call path from vfs_read to schedule"),
        "{}",
        s.text()
    );
}

#[test]
fn g_draws_the_callers_or_callees_it_looks_at() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Screen::new(Some("vfs_read"));
    s.app.graph_dir = dir.path().to_owned();
    s.select("ksys_read", "fs/read_write.c:20");
    s.key(KeyCode::Char('g'));
    // It asks first, naming the files and the directory.
    let text = s.text();
    assert!(
        text.contains("write ksys_read.callers.svg and .dot in"),
        "{text}"
    );
    assert!(!dir.path().join("ksys_read.callers.dot").exists());
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(
        text.contains("ksys_read.callers.svg (and .dot): callers, 2"),
        "{text}"
    );
    let dot =
        std::fs::read_to_string(dir.path().join("ksys_read.callers.dot")).expect("DOT written");
    assert!(
        dot.contains("__do_sys_read") && dot.contains("__se_sys_read"),
        "{dot}"
    );
    assert!(
        dot.contains("ksys_read") && !dot.contains("vfs_read"),
        "{dot}"
    );
    let svg = std::fs::read_to_string(dir.path().join("ksys_read.callers.svg"))
        .expect("an SVG: Graphviz is installed by .ci/install-deps");
    assert!(svg.contains("<svg"), "{svg}");
    s.select("file_operations::read", "");
    s.key(KeyCode::Char('g'));
    s.key(KeyCode::Enter);
    let dot =
        std::fs::read_to_string(dir.path().join("vfs_read.callees.dot")).expect("DOT written");
    assert!(
        dot.contains("ramfs_read") && dot.contains("dashed"),
        "{dot}"
    );
}

#[test]
fn help_lists_every_key_in_80_by_24() {
    let mut s = Screen::new(Some("vfs_read"));
    s.key(KeyCode::Char('?'));
    s.snapshot("help");
    s.key(KeyCode::Char('x'));
    assert!(!s.text().contains("nccnav keys"));
}

#[test]
fn resizes_and_tiny_windows_do_not_break_it() {
    let mut s = Screen::new(Some("vfs_read"));
    for (w, h) in [(120, 40), (40, 10), (10, 3), (80, 24), (200, 60)] {
        s.term.backend_mut().resize(w, h);
        s.term
            .resize(ratatui::layout::Rect::new(0, 0, w, h))
            .expect("resize");
        s.app.update(Msg::Resize(w, h));
        s.draw();
        if w >= 80 {
            assert!(
                s.text().contains("function vfs_read"),
                "{w}x{h}:\n{}",
                s.text()
            );
        }
    }
}

#[test]
fn the_mouse_scrolls_and_selects() {
    let mut s = Screen::new(Some("vfs_read"));
    let before = s.selected_line();
    let at = |kind, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    s.app.update(at(MouseEventKind::ScrollDown, 4));
    s.draw();
    assert_ne!(s.selected_line(), before);
    s.app.update(at(MouseEventKind::Down(MouseButton::Left), 2));
    s.draw();
    assert!(
        s.selected_line().is_some_and(|l| l.contains("Definitions")),
        "{}",
        s.text()
    );
}

#[test]
fn e_asks_for_the_editor_at_the_selected_line() {
    let mut s = Screen::new(Some("vfs_read"));
    s.select("ksys_read", "fs/read_write.c:20");
    match s.key(KeyCode::Char('e')) {
        Action::Edit { path, line } => {
            assert!(path.ends_with("fs/read_write.c"), "{}", path.display());
            assert!(path.is_file());
            assert_eq!(line, 20);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.key(KeyCode::Char('q')), Action::Quit);
}

#[test]
fn a_missing_source_tree_is_said_clearly() {
    let empty = tempfile::tempdir().expect("tempdir");
    let mut s = Screen::sized(Some("vfs_read"), 80, 24, Some(empty.path().to_owned()));
    s.draw();
    let text = s.text();
    assert!(text.contains("cannot read"), "{text}");
    assert!(text.contains("--srctree DIR"), "{text}");
    assert!(matches!(s.key(KeyCode::Char('e')), Action::None));
    assert!(
        s.text().contains("is missing: use --srctree DIR"),
        "{}",
        s.text()
    );
}

#[test]
fn unknown_and_ambiguous_names_open_the_search() {
    let s = Screen::new(Some("vfs_reed"));
    let text = s.text();
    assert!(text.contains("Search: vfs_reed"), "{text}");
    assert!(
        text.contains("vfs_read"),
        "close matches are named:\n{text}"
    );
    let s = Screen::new(Some("init"));
    let text = s.text();
    assert!(text.contains("Search: init"), "{text}");
    assert!(text.contains("pick one"), "{text}");
}

/// Opens `symbol`'s page on `db` and walks every row: no control character from a
/// name, a path or a source line reaches the screen.
pub(crate) fn assert_terminal_safe(db: &Path, symbol: &str) -> String {
    let mut s = Screen::on(db, Some(symbol), 80, 24, None);
    let mut seen = String::new();
    for _ in 0..12 {
        let buf = s.term.backend().buffer();
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()),
                "a control character reaches the screen:\n{}",
                s.text()
            );
        }
        seen.push_str(&s.text());
        s.key(KeyCode::Right);
        s.key(KeyCode::Down);
    }
    seen
}

/// The walk of the navigator's issue, on a real kernel's database: find mmlist_lock,
/// see its macro, go to a function that uses it, walk its callers three levels up with
/// the source of each call site, find how __do_sys_read reaches vfs_read, and draw it.
pub(crate) fn kernel_walk(db: &Path) {
    let mut s = Screen::on(db, None, 100, 32, None);
    s.typed("mmlist_lo");
    assert!(
        s.text().contains("variable   mmlist_lock  kernel/fork.c:"),
        "{}",
        s.text()
    );
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(text.contains("variable mmlist_lock (external)"), "{text}");
    assert!(text.contains("by macro DEFINE_SPINLOCK"), "{text}");
    assert!(
        text.contains("DEFINE_SPINLOCK(mmlist_lock);"),
        "the source pane:\n{text}"
    );
    s.select("__mmput", "kernel/fork.c:");
    assert!(
        s.text().contains("spin_lock(&mmlist_lock);"),
        "{}",
        s.text()
    );
    // __mmput <- mmput <- ... three levels up, each with its call site's source.
    let mut levels = Vec::new();
    for _ in 0..3 {
        s.key(KeyCode::Right);
        s.key(KeyCode::Down);
        let line = s.selected_line().expect("a caller is selected");
        let mut words = row_text(&line).split_whitespace();
        let name = words.next().unwrap_or("").to_owned();
        let site = words.next().unwrap_or("").to_owned();
        let (file, lineno) = site.rsplit_once(':').expect("a call site");
        let text = s.text();
        assert!(
            text.contains(&format!(" {site} ")),
            "the source pane shows {site}:\n{text}"
        );
        assert!(
            text.contains(&format!("{lineno}>")),
            "line {lineno} of {file} is marked:\n{text}"
        );
        levels.push(name);
    }
    assert_eq!(levels[0], "mmput", "{levels:?}");
    // How read(2) reaches vfs_read.
    s.key(KeyCode::Char('/'));
    s.typed("__do_sys_read");
    s.key(KeyCode::Enter);
    s.key(KeyCode::Char('p'));
    s.typed("vfs_read");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(
        text.contains("Call paths from __do_sys_read to vfs_read"),
        "{text}"
    );
    assert!(text.contains("-> ksys_read  fs/read_write.c:623"), "{text}");
    assert!(text.contains("-> vfs_read  fs/read_write.c:613"), "{text}");
    let dir = tempfile::tempdir().expect("tempdir");
    s.app.graph_dir = dir.path().to_owned();
    s.select("-> ksys_read", "");
    s.key(KeyCode::Char('g'));
    s.key(KeyCode::Enter);
    let svg = std::fs::read_to_string(dir.path().join("ksys_read.callees.svg")).expect("a picture");
    assert!(svg.contains("vfs_read"), "the picture has vfs_read");
    eprintln!(
        "navigator walk on the kernel: mmlist_lock, callers {levels:?}, path and picture: ok"
    );
}

#[test]
fn structs_list_their_fields_and_macros_what_they_made_and_where() {
    let mut s = Screen::new(Some("file_operations"));
    let text = s.text();
    assert!(text.contains("struct file_operations"), "{text}");
    assert!(text.contains("Fields ("), "{text}");
    s.select("file_operations::read", "include/linux/fs.h:");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(text.contains("field file_operations::read"), "{text}");
    assert!(
        text.contains("Stored here (1)") && text.contains("ramfs_read"),
        "{text}"
    );
    // A macro's page lists what its expansions defined: every lock, at its place.
    let s = Screen::new(Some("DEFINE_SPINLOCK"));
    let text = s.text();
    assert!(text.contains("macro DEFINE_SPINLOCK"), "{text}");
    assert!(text.contains("Made by its expansions (3)"), "{text}");
    for lock in [
        "dcache_lock  fs/dcache.c:7",
        "demo_lock  drivers/demo/demo.c:6",
        "mmlist_lock  kernel/fork.c:8",
    ] {
        assert!(text.contains(lock), "{lock}: {text}");
    }
    // And the functions that expand it, where.
    let s = Screen::new(Some("wait_event"));
    let text = s.text();
    assert!(text.contains("Expanded in (1)"), "{text}");
    assert!(
        text.contains("wait_for_children  kernel/sched.c:50"),
        "{text}"
    );
}

#[test]
fn the_search_takes_file_colon_name() {
    let mut s = Screen::new(None);
    s.typed("fs/dcache.c:init");
    let text = s.text();
    assert!(text.contains("1 matches"), "{text}");
    assert!(text.contains("function   init  fs/dcache.c:"), "{text}");
    s.key(KeyCode::Enter);
    assert!(
        s.text().contains("function init (internal)"),
        "{}",
        s.text()
    );
    // Enter on the page's own symbol stays.
    let mut s = Screen::new(Some("vfs_read"));
    s.select("vfs_read", "include/linux/fs.h:");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(
        text.contains("this is its page already") && text.contains("page 1 of 1"),
        "{text}"
    );
}

/// What a cscope user types on a page: letters that are no command say how to search,
/// and no key writes a file without asking (`g` asks; the `e` after it answers no).
#[test]
fn letters_typed_on_a_page_write_nothing_and_start_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Screen::new(Some("vfs_read"));
    s.app.graph_dir = dir.path().to_owned();
    let mut actions = Vec::new();
    for c in "getpid".chars() {
        actions.push(s.key(KeyCode::Char(c)));
    }
    assert!(actions.iter().all(|a| *a == Action::None), "{actions:?}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    // `p` opened the path search; `x` on a page is no command.
    let mut s = Screen::new(Some("vfs_read"));
    s.key(KeyCode::Char('x'));
    let text = s.text();
    assert!(text.contains("/ to search, ? for the keys"), "{text}");
    assert!(text.contains("function vfs_read"), "{text}");
    // `g`, then Esc: nothing written.
    s.app.graph_dir = dir.path().to_owned();
    s.key(KeyCode::Char('g'));
    s.key(KeyCode::Esc);
    assert!(s.text().contains("nothing written"), "{}", s.text());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn the_search_clears_on_esc_comes_back_with_its_query_and_offers_close_names() {
    let mut s = Screen::new(None);
    s.typed("vfs_rea");
    s.key(KeyCode::Esc);
    let text = s.text();
    assert!(
        text.contains("Search:") && !text.contains("vfs_rea"),
        "{text}"
    );
    // A second Esc on the first screen quits.
    assert_eq!(s.key(KeyCode::Esc), Action::Quit);

    // The wrong one of several, then back: the search with the query.
    let mut s = Screen::new(None);
    s.typed("read");
    s.key(KeyCode::Enter);
    assert!(s.text().contains("page 1 of 1"), "{}", s.text());
    s.key(KeyCode::Char('b'));
    let text = s.text();
    assert!(text.contains("Search: read"), "{text}");
    // Typing replaces the query shown again.
    s.typed("vfs_read");
    assert!(s.text().contains("Search: vfs_read "), "{}", s.text());
    s.key(KeyCode::Enter);
    s.key(KeyCode::Char('/'));
    assert!(s.text().contains("Search: vfs_read"), "{}", s.text());

    // A typo: the closest names, which Enter opens.
    let mut s = Screen::new(None);
    s.typed("vfs_reed");
    let text = s.text();
    assert!(
        text.contains("nothing matches; the closest names:"),
        "{text}"
    );
    assert!(text.contains("function   vfs_read"), "{text}");
    s.key(KeyCode::Enter);
    assert!(s.text().contains("function vfs_read"), "{}", s.text());
}

#[test]
fn the_search_takes_a_path_and_several_words() {
    let mut s = Screen::new(None);
    s.typed("fs/read_write.c");
    let text = s.text();
    for name in ["vfs_read", "ksys_read", "__do_sys_read"] {
        assert!(text.contains(name), "{name} in {text}");
    }
    assert!(!text.contains("d_alloc"), "{text}");
    let mut s = Screen::new(None);
    s.typed("ramfs read");
    let text = s.text();
    assert!(text.contains("ramfs_read  fs/ramfs/file.c:"), "{text}");
    assert!(!text.contains("vfs_read"), "{text}");
}

#[test]
fn long_lists_read_on_and_several_sites_of_one_caller_are_one_row() {
    // Two rows at a time: the last row reads the next two.
    let mut s = Screen::new(None);
    s.app.loader.page_size = 2;
    s.typed("vfs_read");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(text.contains("... and 1 more (Enter lists them)"), "{text}");
    s.select("... and 1 more", "");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(!text.contains("more (Enter"), "{text}");
    for caller in ["ksys_read", "demo_init", "broken_ok"] {
        assert!(text.contains(caller), "{caller} in {text}");
    }

    let mut s = Screen::new(Some("insert_barrier"));
    let text = s.text();
    assert!(
        text.contains("insert_barriers  kernel/workqueue.c:102  (2 sites)"),
        "{text}"
    );
    s.select("insert_barriers", "(2 sites)");
    s.key(KeyCode::Right);
    let text = s.text();
    assert!(
        text.contains("insert_barriers  kernel/workqueue.c:102")
            && text.contains("insert_barriers  kernel/workqueue.c:103"),
        "{text}"
    );
    // A site opens as any caller row does: its callers (insert_barriers has none).
    s.select("insert_barriers", "workqueue.c:103");
    s.key(KeyCode::Right);
    let text = s.text();
    assert!(
        !text.contains("(recursive)") && text.contains("(none recorded)"),
        "{text}"
    );
}

#[test]
fn a_row_opened_at_the_bottom_scrolls_its_rows_into_view() {
    let mut s = Screen::sized(Some("vfs_read"), 80, 16, None);
    s.key(KeyCode::End);
    assert!(
        s.selected_line().is_some_and(|l| l.contains("Uses")),
        "{}",
        s.text()
    );
    s.key(KeyCode::Right);
    let text = s.text();
    assert!(
        text.contains("Uses") && text.contains("file::f_op"),
        "{text}"
    );
}

#[test]
fn alt_left_goes_back_from_the_source_pane_too() {
    let mut s = Screen::new(Some("vfs_read"));
    s.select("ksys_read", "fs/read_write.c:20");
    s.key(KeyCode::Enter);
    assert!(s.text().contains("page 2 of 2"), "{}", s.text());
    s.key(KeyCode::Tab);
    s.key_with(KeyCode::Left, KeyModifiers::ALT);
    assert!(s.text().contains("page 1 of 2"), "{}", s.text());
}

#[test]
fn a_page_filters_its_lists() {
    let mut s = Screen::new(Some("vfs_read"));
    s.key(KeyCode::Char('&'));
    s.typed("drivers/");
    let text = s.text();
    assert!(text.contains("demo_init"), "{text}");
    assert!(!text.contains("ksys_read"), "{text}");
    assert!(text.contains("Filter: drivers/"), "{text}");
    s.key(KeyCode::Enter);
    assert!(s.text().contains("filter: drivers/"), "{}", s.text());
    s.key(KeyCode::Char('&'));
    s.key(KeyCode::Esc);
    assert!(s.text().contains("ksys_read"), "{}", s.text());
}

#[test]
fn y_copies_the_place_and_m_gives_the_mouse_back() {
    let mut s = Screen::new(Some("vfs_read"));
    s.select("ksys_read", "fs/read_write.c:20");
    assert_eq!(
        s.key(KeyCode::Char('y')),
        Action::Copy("fs/read_write.c:20".to_owned())
    );
    assert_eq!(s.key(KeyCode::Char('m')), Action::Mouse(false));
    assert!(s.text().contains("mouse off"), "{}", s.text());
    assert_eq!(s.key(KeyCode::Char('m')), Action::Mouse(true));
    // The source pane scrolls sideways.
    let before = s.text();
    assert!(before.contains("ssize_t ksys_read("), "{before}");
    s.key(KeyCode::Tab);
    s.key(KeyCode::Right);
    let after = s.text();
    assert!(
        !after.contains("ssize_t ksys_read(") && after.contains("ksys_read("),
        "{after}"
    );
}

#[test]
fn a_narrow_row_keeps_its_line_number_and_note() {
    let s = Screen::sized(Some("wq_barrier_func"), 60, 24, None);
    let text = s.text();
    assert!(
        text.lines().any(|l| l.contains("process_one_work")
            && l.contains(":16")
            && l.contains("[indirect via")),
        "{text}"
    );
}

// ---- a real terminal ----

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(db: &Path, w: u16, h: u16) -> Tmux {
        let script = format!(
            "printf 'BEFORE\\n'; {} {}; echo \"AFTER rc=$?\"; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; sleep 600",
            bin("nccnav").display(),
            db.display()
        );
        Tmux::run(&script, w, h)
    }

    /// A shell script in a new session of `w` columns and `h` rows.
    fn run(script: &str, w: u16, h: u16) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "tmux is needed for this test: apt-get install tmux (.ci/install-deps does)"
        );
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("nccrs-test-{}-{n}", std::process::id());
        let t = Tmux { socket };
        let ok = t
            .cmd(&[
                "new-session",
                "-d",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                "sh",
                "-c",
                script,
            ])
            .status
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .env("NO_COLOR", "1")
            .output()
            .expect("tmux runs")
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    fn pane(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.pane();
            if pane.contains(what) {
                return pane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited for {what:?}; the screen is:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// The nccnav process under the pane's shell.
    fn nccnav_pid(&self) -> String {
        let shell = String::from_utf8_lossy(&self.cmd(&["list-panes", "-F", "#{pane_pid}"]).stdout)
            .trim()
            .to_owned();
        let out = Command::new("pgrep")
            .args(["-P", &shell, "-x", "nccnav"])
            .output()
            .expect("pgrep runs");
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!pid.is_empty(), "no nccnav under the pane's shell {shell}");
        pid
    }

    fn assert_restored(&self, rc: &str) {
        let after = self.wait_for(&format!("AFTER rc={rc}"));
        assert!(
            after.contains("BEFORE"),
            "the main screen is back:\n{after}"
        );
        assert!(
            !after.contains("Search:") && !after.contains("Callers ("),
            "{after}"
        );
        let after = self.wait_for("echo");
        assert!(
            after.lines().any(|l| l.trim() == "icanon")
                && after.lines().any(|l| l.trim() == "echo"),
            "the terminal is out of raw mode:\n{after}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn in_tmux_search_open_expand_back_quit_and_the_terminal_is_restored() {
    let t = Tmux::start(&built().db, 100, 30);
    t.wait_for("Search:");
    t.send(&["-l", "vfs_read"]);
    t.wait_for("function   vfs_read");
    t.send(&["Enter"]);
    let page = t.wait_for("function vfs_read (external)");
    assert!(page.contains("Callers (3)"), "{page}");
    // Down past the definitions to ksys_read, the first caller; expand its callers,
    // then theirs.
    t.send(&["Down", "Down", "Down", "Down"]);
    t.send(&["Right", "Down", "Right"]);
    let two = t.wait_for("__se_sys_read");
    assert!(two.contains("__do_sys_read"), "{two}");
    t.send(&["Enter"]);
    t.wait_for("function __do_sys_read");
    t.send(&["b"]);
    let back = t.wait_for("function vfs_read (external)");
    assert!(
        back.contains("__se_sys_read"),
        "back keeps the expanded tree:\n{back}"
    );
    t.send(&["q"]);
    t.assert_restored("0");
}

#[test]
fn in_tmux_a_terminating_signal_gives_the_terminal_back() {
    let t = Tmux::start(&built().db, 80, 24);
    t.wait_for("Search:");
    t.send(&["-l", "vfs"]);
    t.wait_for("vfs_read");
    let pid = t.nccnav_pid();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    t.assert_restored("143");
}

/// The navigator's first screen, opened on `symbol` of the database at `db`: its
/// definition, with the source pane showing it.
pub(crate) fn opened_on(db: &Path, symbol: &str) -> String {
    Screen::on(db, Some(symbol), 100, 32, None).text()
}

/// Before the symbol list is read (a big kernel takes most of a second), the search
/// answers from the database's name index: names that start as typed. The list then
/// brings the rest.
#[test]
fn the_search_answers_before_the_symbol_list_is_read() {
    let mut s = Screen::before_the_symbol_list(None);
    assert!(s.text().contains("reading every symbol..."), "{}", s.text());
    s.typed("spin_");
    let early = s.text();
    assert!(early.contains("spin_lock"), "{early}");
    assert!(early.contains("names starting so"), "{early}");
    assert!(
        !early.contains("raw_spin_lock"),
        "a substring before the list: {early}"
    );
    // The list arrives; the same query now has every match.
    let nav = Navigator::open(&built().db).expect("database opens");
    let index = navigator::search::Index::new(nav.db().searchable_symbols().expect("symbols"));
    s.app.update(Msg::Index(Ok(index)));
    s.draw();
    let full = s.text();
    assert!(
        full.contains("matches") && full.contains("spin_lock"),
        "{full}"
    );
    // Enter opens what the early list showed first as well.
    let mut s = Screen::before_the_symbol_list(None);
    s.typed("mmlist_lock");
    s.key(KeyCode::Enter);
    assert!(
        s.text().contains("variable mmlist_lock (external)"),
        "{}",
        s.text()
    );
}

/// A database that fills while the navigator is open: the status line says how far the
/// indexing is, and the page shown and the search take in the new facts without a
/// restart, with the same rows open.
#[test]
fn a_database_that_fills_while_the_navigator_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let db = objdir.join("vmlinux.db");
    let make = |target: &str| {
        let out = nccrs_e2e::make("minikernel", &objdir, &bin("nccrs"), &[], &[target]);
        assert!(out.status.success(), "{out:?}");
    };
    // fs/read_write.c alone first: vfs_read and its caller ksys_read.
    make(objdir.join("fs/read_write.o").to_str().expect("utf-8"));
    // A compile under way, this process: the build is not over.
    let job = nccrs_e2e::pending_job_of_this_process(&db);
    let mut s = Screen::on(&db, Some("vfs_read"), 80, 24, None);
    s.select("ksys_read", "fs/read_write.c:20");
    s.key(KeyCode::Right);
    let tick = |s: &mut Screen| {
        let a = s.app.update(Msg::Tick(schema::pending::progress(&db)));
        s.draw();
        a
    };
    assert_eq!(
        tick(&mut s),
        Action::None,
        "nothing was written since it opened"
    );
    let before = s.text();
    assert!(
        before.contains("indexing: 1 of 2 compiles indexed; pages refresh as facts arrive"),
        "{before}"
    );
    assert!(
        before.contains("__do_sys_read") && !before.contains("demo_init"),
        "{before}"
    );

    // The rest of the build is indexed.
    make("all");
    assert_eq!(tick(&mut s), Action::ReadSymbols);
    let after = s.text();
    assert!(after.contains("demo_init"), "a new caller:\n{after}");
    assert!(
        after.contains("__do_sys_read"),
        "the open row stays open:\n{after}"
    );
    assert!(
        s.selected_line().is_some_and(|l| l.contains("ksys_read")),
        "the selection stays on its row:\n{after}"
    );
    // What the terminal does on ReadSymbols: the search's list read again.
    s.app.load_index().expect("symbol list");
    s.key(KeyCode::Char('/'));
    s.typed("demo_ini");
    assert!(s.text().contains("function   demo_init"), "{}", s.text());
    s.key(KeyCode::Esc);

    std::fs::remove_file(&job).expect("the compile ends");
    tick(&mut s);
    assert!(s.text().contains("indexing finished"), "{}", s.text());
}

/// `nccrs --wait` on a terminal shows how far the indexing is while it waits, then the
/// indexing's warnings and the line that says the database is complete; the navigator
/// opened on that database says on its first screen which unit could not be indexed.
#[test]
fn in_tmux_nccrs_wait_shows_progress_then_the_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let db = objdir.join("vmlinux.db");
    let out = nccrs_e2e::make(
        "minikernel",
        &objdir,
        &bin("nccrs"),
        &[
            ("NCCRS_INDEX", Path::new("")),
            ("NCCRS_FAULT", Path::new("crash:kernel/fork.c")),
        ],
        &["all"],
    );
    assert!(out.status.success(), "{out:?}");
    // The build's jobs indexed first: beside a compile under way, the drainer leaves a
    // small machine's processors to the build.
    let deadline = Instant::now() + Duration::from_secs(300);
    while schema::pending::count(&db) > 0 {
        assert!(
            Instant::now() < deadline,
            "the build's jobs are not indexed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A compile still under way (this process): --wait waits for it.
    let job = nccrs_e2e::pending_job_of_this_process(&db);
    let script = format!(
        "{} --wait {}; echo \"WAITED rc=$?\"; sleep 600",
        bin("nccrs").display(),
        db.display()
    );
    // Wide enough for the warning's line, with the fixture's absolute path, not to wrap.
    let t = Tmux::run(&script, 250, 10);
    // The build's compiles, indexed, and the one under way.
    let compiled = nccrs_e2e::files_under(&objdir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "o") && !p.ends_with("vmlinux.o"))
        .count();
    let shown = t.wait_for(&format!("{compiled}/{} compiles indexed", compiled + 1));
    assert!(shown.contains(" left"), "rate and time left:\n{shown}");
    std::fs::remove_file(&job).expect("the compile ends");
    let done = t.wait_for("WAITED rc=1");
    assert!(
        done.contains("kernel/fork.c: not indexed: ") && done.contains("killed by signal 6"),
        "{done}"
    );
    assert!(
        done.contains("indexed, 1 warning(s) above") && !done.contains("compiles indexed"),
        "the progress line is gone:\n{done}"
    );

    let nav = Tmux::start(&db, 100, 24);
    let first = nav.wait_for("could not be indexed");
    assert!(
        first.contains("1 unit(s) could not be indexed: kernel/fork.c (")
            && first.contains("signal 6"),
        "{first}"
    );
}

/// Calls in code this configuration never runs are apart, in their own sections,
/// dimmed; the lists of calls that run do not have them.
#[test]
fn dead_calls_stand_apart_and_dimmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = nccrs_e2e::dead_calls_db(dir.path());
    let mut s = Screen::on(&db, Some("f"), 80, 24, None);
    let text = s.text();
    assert!(text.contains("Callees (1)"), "{text}");
    assert!(
        text.contains("Dead callees: code this configuration never runs (1)"),
        "{text}"
    );
    assert!(!text.contains("Dead callers"), "f has none:\n{text}");
    s.select("a", "d.c:4");
    assert!(
        s.cell("a  ", "a")
            .modifier
            .contains(ratatui::style::Modifier::DIM),
        "the dead callee is dimmed"
    );
    // Its page: no callers that run, one dead.
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(text.contains("Callers (0)"), "{text}");
    assert!(
        text.contains("Dead callers: code this configuration never runs (1)"),
        "{text}"
    );
    s.select("f", "d.c:4");
}

#[test]
fn in_tmux_dead_calls_stand_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = nccrs_e2e::dead_calls_db(dir.path());
    let t = Tmux::start(&db, 80, 24);
    t.wait_for("Search:");
    t.send(&["-l", "f"]);
    t.wait_for("function   f");
    t.send(&["Enter"]);
    let page = t.wait_for("Dead callees: code this configuration never runs (1)");
    assert!(page.contains("Callees (1)"), "{page}");
    assert!(!page.contains("Dead callers"), "f has none:\n{page}");
    // Its dead callee's page: no callers that run, one dead.
    t.send(&["/"]);
    t.send(&["-l", "a"]);
    t.wait_for("function   a");
    t.send(&["Enter"]);
    let a = t.wait_for("Dead callers: code this configuration never runs (1)");
    assert!(a.contains("Callers (0)"), "{a}");
    t.send(&["q"]);
    t.assert_restored("0");
}

#[test]
fn compiled_out_lines_are_dimmed_or_marked_in_the_source() {
    // Without colour, a compiled-out line is marked in the column before its text.
    let s = Screen::sized(Some("copy_process"), 100, 50, None);
    let text = s.text();
    let line = |n: u32| -> String {
        text.lines()
            .find(|l| {
                l.trim_start().starts_with(&format!("{n} "))
                    || l.trim_start().starts_with(&format!("{n}>"))
            })
            .unwrap_or_else(|| panic!("no line {n}:\n{text}"))
            .to_owned()
    };
    assert!(line(35).ends_with("-void debug_fork_dump(void)"), "{text}");
    assert!(line(48).contains(" -        debug_fork_dump();"), "{text}");
    assert!(line(45).contains("          count_fork();"), "{text}");
    assert!(
        !line(33).contains("-#ifdef"),
        "the directive was compiled:\n{text}"
    );
    // With colour, dimmed and grey.
    let mut s = Screen::sized(Some("copy_process"), 100, 50, None);
    s.app.colour = true;
    s.draw();
    let cell = s.cell("void debug_fork_dump(void)", "v");
    assert!(cell.modifier.contains(ratatui::style::Modifier::DIM));
    assert_eq!(cell.fg, ratatui::style::Color::DarkGray);
    // A header's lines that one unit compiled are not compiled out.
    let s = Screen::sized(Some("spin_unlock"), 100, 80, None);
    let text = s.text();
    assert!(text.contains(" #define SPIN_OWNER_MODULE 1"), "{text}");
    assert!(text.contains("-static inline void spin_debug"), "{text}");
}

#[test]
fn the_search_says_where_a_compiled_out_name_would_be() {
    let mut s = Screen::sized(None, 140, 24, None);
    s.typed("debug_fork_dump");
    s.key(KeyCode::Enter);
    let text = s.text();
    assert!(
        text.contains(
            "debug_fork_dump: not compiled in this configuration: kernel/fork.c:35, inside #ifdef CONFIG_DEBUG_FORK (kernel/fork.c:33)"
        ),
        "{text}"
    );
    assert!(
        text.contains("Search: debug_fork_dump"),
        "still searching:\n{text}"
    );
}
