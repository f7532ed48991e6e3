//! The interactive navigator: a model ([`App`]), its update (`app.rs`), its view
//! (`view.rs`), and the terminal loop here, which owns the terminal and gives it back
//! in every case: on quit, on error and on panic.

mod app;
mod layout;
mod loader;
mod tree;
mod view;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, MouseEventKind,
};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::prelude::CrosstermBackend;
use ratatui::Terminal;
use schema::{Db, SymbolId};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

pub use app::{Action, App, Msg};

use crate::answer::{Navigator, QueryError};
use crate::search::Index;

/// How the navigator starts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The source tree to show code from, when it is not where the build had it.
    pub srctree: Option<PathBuf>,
    /// Leave the mouse to the terminal (text selection) from the start.
    pub no_mouse: bool,
}

/// Runs the navigator on a terminal until the user quits.
pub fn run(nav: Navigator, start: Option<&str>, options: Options) -> Result<(), QueryError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(QueryError::Usage(
            "the navigator needs a terminal; in scripts use nccnav DB def|callers|callees|stores|uses|path SYMBOL"
                .to_owned(),
        ));
    }
    let db_path = nav.db().path().to_owned();
    // The symbol list for the search (a few hundred thousand names on a kernel) is
    // read while the first page is drawn.
    let mut symbols = Symbols::read(&db_path);
    let mut nav = nav;
    let failed = crate::render::failed_note(&mut nav);
    let pending = crate::render::pending_note(&db_path);
    let mut app = App::new(nav, options.srctree);
    app.mouse = !options.no_mouse;
    app.start(start);
    if app.message.is_none() {
        app.message = failed.or(pending);
    }

    // SIGTERM, SIGHUP, SIGINT and SIGQUIT end the navigator, with the terminal given
    // back and exit status 128 + the signal; the loop checks for them between events.
    // If the loop cannot notice (a terminal that hung up can keep crossterm reading
    // forever), this thread gives the terminal back and exits a moment later; it also
    // ends the navigator when the terminal is gone without a signal.
    // While the editor runs, Ctrl-C and Ctrl-\ are the editor's (as system(3) does).
    let stop = Arc::new(AtomicI32::new(0));
    let editing = Arc::new(AtomicBool::new(false));
    let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    let (flag, in_editor) = (Arc::clone(&stop), Arc::clone(&editing));
    std::thread::spawn(move || loop {
        let editor_keys =
            |sig: &i32| in_editor.load(Ordering::Relaxed) && (*sig == SIGINT || *sig == SIGQUIT);
        if let Some(sig) = signals.pending().find(|sig| !editor_keys(sig)) {
            flag.store(sig, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(300));
            // Not through stdout, whose lock the stuck loop may hold.
            let _ = disable_raw_mode();
            if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
                let _ = execute!(tty, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
            }
            std::process::exit(128 + sig);
        }
        if !std::io::stdin().is_terminal() {
            std::process::exit(128 + SIGHUP);
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    let guard = TerminalGuard::enter(app.mouse)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    terminal.clear()?;
    let size = terminal.size()?;
    app.update(Msg::Resize(size.width, size.height));
    loop {
        terminal.draw(|f| app.view(f))?;
        if app.busy() {
            // A slow job (call paths, a picture): its "working" line is on the screen.
            app.work();
            continue;
        }
        let Some(msg) = next_message(&mut symbols, &db_path, &stop)? else {
            break;
        };
        let mut action = app.update(msg);
        // Keys typed faster than the screen redraws are handled before the next frame
        // (a bounded number: a terminal that went away can look readable forever).
        for _ in 0..64 {
            if action != Action::None || app.busy() || stop.load(Ordering::Relaxed) != 0 {
                break;
            }
            if !event::poll(Duration::ZERO)? {
                break;
            }
            if let Some(m) = to_msg(event::read()?) {
                action = app.update(m);
            }
        }
        match action {
            Action::None => {}
            Action::Quit => break,
            Action::ReadSymbols => symbols.again(),
            Action::Copy(text) => {
                use base64::Engine;
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                let mut out = std::io::stdout();
                write!(out, "\x1b]52;c;{encoded}\x07")?;
                out.flush()?;
            }
            Action::Mouse(true) => execute!(std::io::stdout(), EnableMouseCapture)?,
            Action::Mouse(false) => execute!(std::io::stdout(), DisableMouseCapture)?,
            Action::Edit { path, line } => {
                TerminalGuard::leave();
                editing.store(true, Ordering::Relaxed);
                let status = edit(&path, line);
                editing.store(false, Ordering::Relaxed);
                TerminalGuard::setup(app.mouse)?;
                terminal.clear()?;
                if let Err(e) = status {
                    app.message = Some(crate::names::clean(&e));
                }
            }
        }
    }
    drop(guard);
    match stop.load(Ordering::Relaxed) {
        0 => Ok(()),
        sig => Err(QueryError::EndedBySignal(sig)),
    }
}

/// The search's symbol list, read in the background: at the start, and again when
/// facts were added, at most every [`Symbols::SPACING`] times as long as the last
/// read took, so that a navigator open during a build takes little from it.
struct Symbols {
    db: PathBuf,
    reading: Option<(mpsc::Receiver<Result<Index, String>>, Instant)>,
    /// Facts were added since the list being read (or last read) was started.
    stale: bool,
    /// When the last read ended, and how long it took.
    last: Option<(Instant, Duration)>,
}

impl Symbols {
    const SPACING: u32 = 10;

    fn read(db: &std::path::Path) -> Symbols {
        let mut s = Symbols {
            db: db.to_owned(),
            reading: None,
            stale: true,
            last: None,
        };
        s.start();
        s
    }

    fn again(&mut self) {
        self.stale = true;
        self.start();
    }

    /// Starts a read if one is due and none runs.
    fn start(&mut self) {
        let due = self
            .last
            .is_none_or(|(ended, took)| ended.elapsed() >= took * Self::SPACING);
        if !self.stale || self.reading.is_some() || !due {
            return;
        }
        self.stale = false;
        let (tx, rx) = mpsc::channel();
        let db = self.db.clone();
        std::thread::spawn(move || {
            let read = Db::open_readonly(&db).and_then(|db| db.searchable_symbols());
            let _ = tx.send(read.map(Index::new).map_err(|e| e.to_string()));
        });
        self.reading = Some((rx, Instant::now()));
    }

    /// The list, once read.
    fn take(&mut self) -> Option<Result<Index, String>> {
        let (rx, started) = self.reading.as_ref()?;
        let read = match rx.try_recv() {
            Ok(i) => Some(i),
            Err(mpsc::TryRecvError::Disconnected) => None,
            Err(mpsc::TryRecvError::Empty) => return None,
        };
        self.last = Some((Instant::now(), started.elapsed()));
        self.reading = None;
        read
    }
}

/// How often the navigator looks at the database for new facts.
const TICK: Duration = Duration::from_secs(1);

/// Waits for a key, a mouse event, a resize, the search's symbol list or the next look
/// at the database; None when a signal asks the navigator to end.
fn next_message(
    symbols: &mut Symbols,
    db: &std::path::Path,
    stop: &AtomicI32,
) -> std::io::Result<Option<Msg>> {
    let tick = Instant::now() + TICK;
    loop {
        if stop.load(Ordering::Relaxed) != 0 {
            return Ok(None);
        }
        if event::poll(Duration::from_millis(40))? {
            if let Some(m) = to_msg(event::read()?) {
                return Ok(Some(m));
            }
        }
        if let Some(i) = symbols.take() {
            return Ok(Some(Msg::Index(i)));
        }
        if Instant::now() >= tick {
            symbols.start();
            return Ok(Some(Msg::Tick(schema::pending::progress(db))));
        }
    }
}

fn to_msg(e: Event) -> Option<Msg> {
    match e {
        Event::Key(k) => Some(Msg::Key(k)),
        // Motion is reported too (crossterm asks for all of it): nothing to redraw.
        Event::Mouse(m) if matches!(m.kind, MouseEventKind::Moved | MouseEventKind::Drag(_)) => {
            None
        }
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// `$VISUAL` or `$EDITOR` (a command with arguments, as the shell reads it) or `vi`,
/// at `+LINE FILE`.
fn edit(path: &std::path::Path, line: u32) -> Result<(), String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_owned());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg("sh")
        .arg(format!("+{line}"))
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run {editor}: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(127) => Err(format!("{editor}: not found (set VISUAL or EDITOR)")),
        _ => Err(format!("{editor} exited with {status}")),
    }
}

/// Raw mode, the alternate screen and mouse reports, undone on drop and by the panic
/// hook, so that a crash still leaves a usable shell.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> std::io::Result<TerminalGuard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            TerminalGuard::leave();
            previous(info);
        }));
        TerminalGuard::setup(mouse)?;
        Ok(TerminalGuard)
    }

    fn setup(mouse: bool) -> std::io::Result<()> {
        enable_raw_mode()?;
        execute!(std::io::stdout(), EnterAlternateScreen)?;
        if mouse {
            execute!(std::io::stdout(), EnableMouseCapture)?;
        }
        Ok(())
    }

    fn leave() {
        let _ = disable_raw_mode();
        let mut out = std::io::stdout();
        let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
        let _ = out.flush();
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        TerminalGuard::leave();
    }
}

/// The file name `g` gives a picture of `name`: the characters C names are made of,
/// others replaced by `_`.
pub(crate) fn graph_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How many calls away from the function `g` draws.
const GRAPH_DEPTH: usize = 2;

/// Writes the call neighbourhood of `id` as Graphviz (DOT, and SVG when `dot` is
/// installed) into `out_dir`; returns what to tell the user.
fn export_graph(
    loader: &mut loader::Loader,
    id: SymbolId,
    dir: crate::answer::Direction,
    out_dir: &std::path::Path,
) -> Result<String, String> {
    let (name, _) = loader.label(id).map_err(|e| e.to_string())?;
    let what = dir.as_str();
    let stem = graph_stem(&name);
    let output = out_dir.join(format!("{stem}.{what}.dot"));
    let (text, cut) = loader
        .with_graph(|db, names, graph| {
            crate::picture::dot_text(db, names, graph, &[id], &name, dir, GRAPH_DEPTH)
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let picture = crate::picture::write_picture(&text, &output).map_err(|e| e.to_string())?;
    let shown = |p: &std::path::Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        crate::names::clean(&p.display().to_string())
    };
    let mut message = match (&picture.svg, &picture.dot) {
        (Some(svg), _) => format!(
            "wrote {} (and .dot): {what}, {GRAPH_DEPTH} deep",
            shown(svg)
        ),
        (None, Some(dot)) => format!("wrote {} (no SVG: Graphviz is not installed)", shown(dot)),
        (None, None) => String::new(),
    };
    if cut {
        message.push_str(", cut at its 300 nearest functions");
    }
    Ok(message)
}
