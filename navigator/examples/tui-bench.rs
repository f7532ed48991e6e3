//! Times the navigator on a database, without a terminal (ratatui's TestBackend, 120x40):
//! start-up to the first frame, each keystroke of the search, and each expansion of a
//! tree row, each including the frame drawn after it.
//!
//!     cargo run --release -p nccnav --example tui-bench -- vmlinux.db [SAMPLES]

use std::time::{Duration, Instant};

use navigator::tui::{App, Msg};
use navigator::Navigator;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn key(app: &mut App, term: &mut Terminal<TestBackend>, code: KeyCode) -> Duration {
    let t = Instant::now();
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    term.draw(|f| app.view(f)).expect("draw");
    t.elapsed()
}

fn report(what: &str, mut times: Vec<Duration>) {
    if times.is_empty() {
        println!("{what:<28} n=0");
        return;
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<28} n={:<6} median {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        times.len(),
        ms(pick(0.5)),
        ms(pick(0.99)),
        ms(times[times.len() - 1])
    );
}

/// A small deterministic generator, so that runs compare.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db = std::path::PathBuf::from(args.get(1).expect("usage: tui-bench DB [SAMPLES]"));
    let samples: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300);

    // Start-up: open the database, draw the first frame (the search, or a symbol's page).
    let mut startup = Vec::new();
    let mut on_symbol = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let mut app = App::new(Navigator::open(&db).expect("database"), None);
        app.update(Msg::Resize(120, 40));
        app.start(None);
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        term.draw(|f| app.view(f)).expect("draw");
        startup.push(t.elapsed());
        let t = Instant::now();
        let mut app = App::new(Navigator::open(&db).expect("database"), None);
        app.update(Msg::Resize(120, 40));
        app.start(Some("vfs_read"));
        term.draw(|f| app.view(f)).expect("draw");
        on_symbol.push(t.elapsed());
    }
    report("start-up, search screen", startup);
    report("start-up on vfs_read", on_symbol);

    // Before the symbol list is read, the search answers from the name index: from
    // start-up to the first answer (the database opened, the search drawn, one key,
    // the answer drawn) for each first letter a user may type.
    let mut early = Vec::new();
    for c in "abcdefghijklmnopqrstuvwxyz_".chars() {
        let t = Instant::now();
        let mut app = App::new(Navigator::open(&db).expect("database"), None);
        app.update(Msg::Resize(120, 40));
        app.start(None);
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        term.draw(|f| app.view(f)).expect("draw");
        key(&mut app, &mut term, KeyCode::Char(c));
        key(&mut app, &mut term, KeyCode::Char('_'));
        early.push(t.elapsed());
    }
    report("start to 2 keys answered", early);

    let mut loads = Vec::new();
    let mut app = App::new(Navigator::open(&db).expect("database"), None);
    app.update(Msg::Resize(120, 40));
    for _ in 0..5 {
        let t = Instant::now();
        app.load_index().expect("symbol list");
        loads.push(t.elapsed());
    }
    report("symbol list (background)", loads);
    if let Some(index) = app.index.as_mut() {
        for q in ["e", "s", "_", "x", "q"] {
            let t = Instant::now();
            let n = index.find(q).total;
            let took = t.elapsed();
            index.find("\u{0}");
            println!(
                "  first keystroke {q:?}: {n} matches in {:.2} ms",
                took.as_secs_f64() * 1000.0
            );
        }
    }

    let functions = function_names(&db);
    let mut rng = Lcg(42);
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mut keystrokes = Vec::new();
    let mut opens = Vec::new();
    let mut expansions = Vec::new();
    app.start(None);
    for _ in 0..samples {
        let name = &functions[rng.next(functions.len())];
        key(&mut app, &mut term, KeyCode::Char('/'));
        for c in name.chars() {
            keystrokes.push(key(&mut app, &mut term, KeyCode::Char(c)));
        }
        // Open it, then expand the first rows that have something under them.
        opens.push(key(&mut app, &mut term, KeyCode::Enter));
        let mut expanded = 0;
        for _ in 0..40 {
            let expandable = app
                .selected_node()
                .is_some_and(|n| n.row.symbol.is_some() && n.can_expand() && !n.expanded);
            if expandable {
                expansions.push(key(&mut app, &mut term, KeyCode::Right));
                expanded += 1;
                if expanded == 3 {
                    break;
                }
            }
            key(&mut app, &mut term, KeyCode::Down);
        }
        key(&mut app, &mut term, KeyCode::Esc);
    }
    report("search keystroke", keystrokes);
    report("open a function's page", opens);
    report("expand a row", expansions);
}

/// The names of the functions the search can find.
fn function_names(db: &std::path::Path) -> Vec<String> {
    let nav = Navigator::open(db).expect("database");
    let mut names: Vec<String> = nav
        .db()
        .searchable_symbols()
        .expect("symbols")
        .into_iter()
        .filter(|(s, _, _)| s.kind == schema::Kind::Function)
        .map(|(s, _, _)| s.name)
        .collect();
    names.sort();
    names.dedup();
    names
}
