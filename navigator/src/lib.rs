//! nccnav: reading an nccrs database from the command line.
#![forbid(unsafe_code)]

//! - [`answer`]: the query layer: what every front end asks, answered as rows
//! - [`names`]: the one cache of symbol and file names, and how they are shown
//! - [`callgraph`]: the whole call graph: shortest paths, neighbourhoods
//! - [`search`]: the symbol search and its ranking, as the navigator, the language
//!   server and the MCP server offer it
//! - `render`: the command line's text and JSON; [`picture`]: Graphviz DOT and SVG
//! - `dump`: every fact, as the product contract's `dump` format
//! - `verify`: the database against the compiler's DWARF
//! - [`tui`]: the interactive navigator

pub mod answer;
pub mod callgraph;
pub mod compiled_out;
mod dump;
mod lsp;
mod mcp;
pub mod names;
pub mod picture;
mod render;
pub mod search;
mod served;
pub mod tui;
mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use answer::Direction;
use clap::Parser;

pub use answer::{Navigator, QueryError};

#[derive(Parser, Debug)]
#[command(
    name = "nccnav",
    version,
    about = "Browse what nccrs recorded: definitions, callers, callees, stores, uses",
    after_help = "\
Commands:
  nccnav DB def SYMBOL       where SYMBOL is defined (and by which macro)
  nccnav DB callers SYMBOL   who calls SYMBOL (direct and through ops tables)
  nccnav DB callees SYMBOL   what SYMBOL calls (for calls through pointers, the
                             functions that can be behind them)
  nccnav DB stores SYMBOL    what was stored into a member, variable or parameter
                             (for a function: where it was stored)
  nccnav DB uses SYMBOL      who reads, writes or takes the address of a global or
                             member (for a function: what it uses)
  nccnav DB refs SYMBOL      every place the compiled code refers to SYMBOL: calls,
                             stores, reads, writes, addresses taken (`f == g`), each
                             with the function (or initialized variable) it is in
  nccnav DB path A B         the shortest call paths from function A to function B
                             (through calls via ops tables and pointers too)
  nccnav DB graph SYMBOL --callers|--callees [--depth N] [-o FILE]
                             the call neighbourhood as Graphviz DOT, on standard
                             output; -o FILE.svg writes SVG (Graphviz's `dot`),
                             -o FILE.dot writes DOT and, with Graphviz, FILE.svg
  nccnav DB dump             every fact, one JSON object a line; --canonical: ids
                             replaced by what they name, sorted (to compare builds)
  nccnav DB verify           how much of the compiler's own debug information (the
                             DWARF of the build's objects: definitions and call
                             edges) the database holds; --misses lists what it lacks

nccnav DB                  the interactive navigator: search, callers and callees
                             as trees, source, call paths (press ? inside)
nccnav DB SYMBOL           the navigator, opened on SYMBOL
nccnav lsp [DB]            a language server for editors, on standard input and output:
                           definition, references, call hierarchy, hover, symbols
nccnav mcp [DB]            an MCP server for coding agents: the command line's answers
                           as tools (DB: else $NCCRS_DB, else the nearest vmlinux.db or
                           nccrs.db from the working directory up)

DB is the database, or a directory holding one (vmlinux.db, nccrs.db), or one of its
subdirectories. Every list is printed whole; --limit N prints the first N rows of each
and says how many it left out.

SYMBOL is a name (`vfs_read`), FILE:NAME to pick one of several same-named statics
(`fs/dcache.c:init`, or any tail of the path), STRUCT::FIELD (`file_operations::read`)
or FUNCTION::PARAMETER (`sort::cmp_func`).

Exit status: 0 found, 1 unknown symbol, 2 unusable database or bad usage, 3 verify
below a threshold (--min-definitions, --min-calls, --min-symbols)."
)]
struct Cli {
    /// The database written by nccrs (vmlinux.db, nccrs.db)
    db: PathBuf,
    /// A command (def, callers, callees, stores, uses, path, graph, dump, verify) and
    /// its symbols; a symbol alone opens the navigator on it
    words: Vec<String>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    /// callers, callees, stores, uses, refs: print at most N rows of each answer (and
    /// of the functions behind each call through a pointer), and say how many more
    /// there are
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// dump: every id replaced by what it names (a file by its root and path, a symbol
    /// by kind, name, linkage and defining file), lines sorted: two databases with the
    /// same facts print the same lines
    #[arg(long)]
    canonical: bool,
    /// verify: list every definition, call edge and ELF symbol the database lacks
    #[arg(long)]
    misses: bool,
    /// verify: exit with status 3 when any kind of definition is recorded below PCT%
    #[arg(long, value_name = "PCT")]
    min_definitions: Option<f64>,
    /// verify: exit with status 3 when direct call edges are recorded below PCT%
    #[arg(long, value_name = "PCT")]
    min_calls: Option<f64>,
    /// verify: exit with status 3 when the objects' defined functions and variables
    /// (ELF symbols, aliases included) are recorded below PCT%
    #[arg(long, value_name = "PCT")]
    min_symbols: Option<f64>,
    /// graph: draw the callers of SYMBOL
    #[arg(long, conflicts_with = "callees")]
    callers: bool,
    /// graph: draw the callees of SYMBOL (the default)
    #[arg(long)]
    callees: bool,
    /// graph: how many calls away from SYMBOL to draw
    #[arg(long, default_value_t = 2, value_name = "N")]
    depth: usize,
    /// graph: write to FILE (.dot, or .svg through Graphviz) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The source tree to show code from, when it is not where the build had it
    #[arg(long, value_name = "DIR")]
    srctree: Option<PathBuf>,
    /// The navigator: leave the mouse to the terminal, to select text (`m` switches)
    #[arg(long)]
    no_mouse: bool,
    /// callers, callees, refs, path, graph: answer the calls in code this
    /// configuration never runs too (an arm a constant condition never takes, such as
    /// `if (IS_ENABLED(CONFIG_X))` with X off; `_Generic`'s other associations), marked
    /// dead
    #[arg(long)]
    dead: bool,
}

/// Runs nccnav; returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    // `nccnav lsp [DB]`, `nccnav mcp [DB]`: servers, unless a database has that name.
    if let Some(server) = args.get(1).and_then(|a| a.to_str()) {
        // Both look for the database again at each request until it is there.
        let serve: Option<Server> = match server {
            "lsp" => Some(lsp::serve),
            "mcp" => Some(mcp::serve),
            _ => None,
        };
        if let Some(serve) = serve.filter(|_| !Path::new(server).is_file()) {
            return match server_database(args.get(2)).and_then(|asked| serve(&asked)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("nccnav {server}: {e}");
                    e.exit_code()
                }
            };
        }
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = dispatch(&cli, &mut out).and_then(|()| out.flush().map_err(QueryError::from));
    match result {
        Ok(()) => 0,
        Err(QueryError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            drop(out);
            eprintln!("nccnav: {e}");
            e.exit_code()
        }
    }
}

/// A server's main loop, on the database it answers from.
type Server = fn(&Path) -> Result<(), QueryError>;

/// What names the database a server answers from: the one named, else `NCCRS_DB`,
/// else the working directory (in which, or above which, the nearest `vmlinux.db` or
/// `nccrs.db` is the one: the command line's rule for a directory).
fn server_database(named: Option<&OsString>) -> Result<PathBuf, QueryError> {
    Ok(
        match named.cloned().or_else(|| std::env::var_os("NCCRS_DB")) {
            Some(p) => PathBuf::from(p),
            None => std::env::current_dir()?,
        },
    )
}

/// How `graph` draws.
struct GraphOptions {
    /// Draw the callers or the callees.
    dir: Direction,
    depth: usize,
    /// `.dot` or `.svg`; None writes DOT to standard output.
    output: Option<PathBuf>,
}

fn dispatch(cli: &Cli, out: &mut dyn Write) -> Result<(), QueryError> {
    let words: Vec<&str> = cli.words.iter().map(String::as_str).collect();
    let db = schema::find_database(&cli.db)?;
    if cli.db.is_dir() && std::fs::canonicalize(&cli.db).ok().as_deref() != db.parent() {
        eprintln!("nccnav: using {}", names::clean(&db.display().to_string()));
    }
    let mut nav = Navigator::open(&db)?;
    nav.dead = cli.dead;
    if cli.dead && !nav.db().records_dead_calls() {
        eprintln!(
            "nccnav: note: this database was written before nccrs told dead calls apart: every call reads as live until its unit is indexed again"
        );
    }
    if !words.is_empty() {
        if let Some(note) = render::failed_note(&mut nav) {
            eprintln!("nccnav: warning: {note}");
        }
        if let Some(note) = render::pending_note(&db) {
            eprintln!("nccnav: note: {note}");
        }
    }
    let json = cli.json;
    let limit = render::Limit(cli.limit);
    match words.as_slice() {
        ["def", name] => {
            let trees = nav.db().trees()?.with_srctree(cli.srctree.as_deref());
            let defs = match nav.definitions(name) {
                Err(QueryError::Unknown { name, suggestions }) => {
                    return Err(nav.unknown(&name, suggestions, &trees));
                }
                r => r?,
            };
            // Declared, and defined nowhere in this build: perhaps in code it
            // compiled out.
            if !defs.rows.is_empty() && defs.rows.iter().all(|r| !r.def.definition) {
                let told = nav.unknown(name, Vec::new(), &trees);
                if matches!(&told, QueryError::CompiledOut { found, .. } if !found.places.is_empty())
                {
                    for line in told.to_string().lines() {
                        eprintln!("nccnav: note: {line}");
                    }
                }
            }
            render::definitions(&mut nav, &defs, json, limit, out)
        }
        ["callers", name] => {
            let rows = nav.calls(name, Direction::Callers)?;
            render::calls(&mut nav, &rows, Direction::Callers, json, limit, out)
        }
        ["callees", name] => {
            let rows = nav.calls(name, Direction::Callees)?;
            render::calls(&mut nav, &rows, Direction::Callees, json, limit, out)
        }
        ["stores", name] => {
            let rows = nav.stores(name)?;
            render::stores(&mut nav, &rows, json, limit, out)
        }
        ["uses", name] => {
            let rows = nav.uses(name)?;
            render::uses(&mut nav, &rows, json, limit, out)
        }
        ["refs", name] => {
            if nav.db().has_stores_without_place()? {
                eprintln!(
                    "nccnav: note: units indexed by an older nccrs lack some references (a function named without a call) and the function of their stores: rebuild them (make clean; make) for every reference"
                );
            }
            let rows = nav.refs(name)?;
            render::refs(&mut nav, &rows, json, limit, out)
        }
        ["dump"] => dump::dump(&nav, cli.canonical, out),
        ["path", from, to] => {
            let graph = nav.call_graph()?;
            let found = nav.paths(&graph, from, to)?;
            render::paths(&mut nav, &found, from, to, json, out)
        }
        ["graph", name] => {
            let opts = GraphOptions {
                dir: if cli.callers {
                    Direction::Callers
                } else {
                    Direction::Callees
                },
                depth: cli.depth,
                output: cli.output.clone(),
            };
            graph(&mut nav, name, &opts, out)
        }
        ["verify"] => {
            let opts = verify::VerifyOptions {
                misses: cli.misses,
                min_definitions: cli.min_definitions,
                min_calls: cli.min_calls,
                min_symbols: cli.min_symbols,
            };
            if verify::verify(nav.db(), &opts, out)? {
                Ok(())
            } else {
                Err(QueryError::BelowThreshold)
            }
        }
        [cmd @ ("def" | "callers" | "callees" | "stores" | "uses" | "refs" | "graph"), ..] => Err(
            QueryError::Usage(format!("{cmd} takes one symbol: nccnav DB {cmd} SYMBOL")),
        ),
        ["path", ..] => Err(QueryError::Usage(
            "path takes two functions: nccnav DB path FROM TO".to_owned(),
        )),
        [] => tui::run(nav, None, tui_options(cli)),
        [name] => tui::run(nav, Some(name), tui_options(cli)),
        _ => Err(QueryError::Usage(format!(
            "unknown command {:?}; see nccnav --help",
            cli.words.join(" ")
        ))),
    }
}

fn tui_options(cli: &Cli) -> tui::Options {
    tui::Options {
        srctree: cli.srctree.clone(),
        no_mouse: cli.no_mouse,
    }
}

/// `graph SYMBOL`: the callers or callees of a function to some depth, as Graphviz DOT
/// on `out`, or in a file (and as SVG, through Graphviz's `dot`).
fn graph(
    nav: &mut Navigator,
    name: &str,
    opts: &GraphOptions,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let starts = nav.functions(name, "graph")?;
    let graph = nav.call_graph()?;
    let (db, names) = nav.parts();
    let (text, cut) = picture::dot_text(db, names, &graph, &starts, name, opts.dir, opts.depth)?;
    if cut {
        eprintln!("nccnav: {}", picture::cut_note());
    }
    let Some(output) = &opts.output else {
        out.write_all(text.as_bytes())?;
        return Ok(());
    };
    let written = picture::write_picture(&text, output)?;
    let shown = |p: &std::path::Path| names::clean(&p.display().to_string());
    match (&written.dot, &written.svg) {
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
