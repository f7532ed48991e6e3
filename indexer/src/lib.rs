//! nccrs: a compiler wrapper that records what the compiler saw.
//!
//! - [`args`]: is this call a compile of C to an object? (pure)
//! - [`flags`]: from the compiler's arguments to libclang's (pure)
//! - [`wrapper`]: runs the real compiler and an indexing child beside it
//! - [`drain`]: indexing after the compile, in one background drainer per database
//! - [`worker`]: the drainer's indexers, each living across jobs
//! - [`kbuild`]: which kernel build a compile belongs to (trees, external module)
//! - [`job`]: the child: parse, extract, write
//! - [`clang`]: the only place with libclang; with [`sys`] (system calls std does not
//!   offer), the only places with `unsafe`
//! - [`extract`]: facts out of a parsed translation unit

pub mod args;
pub mod assembly;
pub mod cache;
pub mod clang;
pub mod drain;
pub mod extract;
pub mod flags;
pub mod job;
pub mod kbuild;
pub mod paths;
pub mod pending;
pub mod settings;
pub mod supervise;
pub mod sys;
pub mod worker;
pub mod wrapper;

use std::ffi::OsString;

const HELP: &str = "\
nccrs: a compiler wrapper that records what the compiler saw

Usage:
  make CC=nccrs ...                 index a build (kbuild: make ARCH=um CC=nccrs -j$(nproc))
  nccrs [compiler arguments]        run the real compiler; index C compiles to objects
  nccrs --wait [DB]                 wait until every compile into DB is indexed, with
                                    progress on a terminal
  nccrs --finish [DB]               index what an interrupted build left pending
  nccrs --help                      this text

Every argument is passed to the real compiler unchanged; its output and exit status
are nccrs's. Compiles of C to objects are also parsed with libclang and recorded.

Environment:
  NCCRS_CC              the real compiler, possibly with arguments (default: gcc, or the
                        name nccrs was called by when that is a symlink like `cc`)
  NCCRS_DB              the database (default: vmlinux.db at the top of a kernel build
                        tree, else nccrs.db in the current directory)
  NCCRS_INDEX           background (default): index after each compile, at nice 19,
                        one indexer per processor; make returns when the compiles are
                        done, and `nccrs --wait` when the database is complete.
                        inline: index beside each compile; make returns when the
                        database is complete
  NCCRS_INDEX_TIMEOUT   seconds one compile's indexing may take (default: 10 times the
                        compile's own time, at least 60; in the background, 120 s of
                        processor time)
  NCCRS_CACHE_DIR       the facts cache (default: ~/.cache/nccrs/facts): a compile
                        whose arguments, source and headers were indexed before, in
                        this build directory or another, is not parsed again
  NCCRS_CACHE_SIZE      the facts cache's limit, as 500M or 2G (default 2G); the least
                        recently used facts go first; 0 turns the cache off
  NCCRS_BLANK           1: do not parse again the function bodies of headers whose
                        facts earlier compiles recorded (experimental, off by
                        default: it saved no processor time when last measured)
  NCCRS_CLANG_RESOURCE_DIR  clang's resource directory, if it cannot be found

Read the database with nccnav: nccnav vmlinux.db def|callers|callees|dump ...
";

const FINISH_HELP: &str = "\
nccrs --finish [DB]: index the compiles an interrupted build left unrecorded

A compile whose indexer was killed (kill -9 of the build, a machine that went down)
leaves its job in DB.pending/. The next compiles of any build into DB take those jobs
over a few at a time; this command does all of them now. DB defaults to what a compile
in the current directory would use (NCCRS_DB, vmlinux.db of a kernel build, nccrs.db).
Exit status 0 when every job was indexed, 1 otherwise.
";

const WAIT_HELP: &str = "\
nccrs --wait [DB]: wait until every compile into DB is indexed

make returns as soon as the compiles are done, and the indexing goes on behind it
(NCCRS_INDEX=background, the default). This command returns when it is over, indexing
any job no one is working on itself. On a terminal it shows how far the indexing is
(compiles indexed of compiles so far, the rate, the time left). It prints the warnings
of that indexing (one line for each compile that could not be indexed, with the
reason), then one line saying the database is complete. DB defaults to what a compile
in the current directory would use (NCCRS_DB, vmlinux.db of a kernel build, nccrs.db).
Exit status 0 when there was no warning, 1 when there was, 2 when DB does not exist.
";

/// The whole program: returns the exit status.
pub fn main_entry(argv: Vec<OsString>) -> i32 {
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("--index-job") if argv.len() == 2 => job::run_child(),
        Some("--index-jobs") if argv.len() == 2 => worker::run_worker(),
        Some("--finish") if argv.len() <= 3 && invoked_as_nccrs(&argv[0]) => {
            match argv.get(2).map(|a| a.as_os_str()) {
                Some(a) if a == "--help" => {
                    print!("{FINISH_HELP}");
                    0
                }
                db => wrapper::run_finish(db),
            }
        }
        Some("--drain") if argv.len() == 3 => drain::run_drain(&argv[2]),
        Some("--wait") if argv.len() <= 3 && invoked_as_nccrs(&argv[0]) => {
            match argv.get(2).map(|a| a.as_os_str()) {
                Some(a) if a == "--help" => {
                    print!("{WAIT_HELP}");
                    0
                }
                db => drain::run_wait(db),
            }
        }
        Some("--help") if argv.len() == 2 && invoked_as_nccrs(&argv[0]) => {
            print!("{HELP}");
            0
        }
        _ => wrapper::run(&argv),
    }
}

fn invoked_as_nccrs(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("nccrs"))
}
