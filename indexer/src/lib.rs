//! nccrs: a compiler wrapper that records what the compiler saw.
//!
//! - [`args`]: is this call a compile of C to an object? (pure)
//! - [`flags`]: from the compiler's arguments to libclang's (pure)
//! - [`wrapper`]: runs the real compiler and an indexing child beside it
//! - [`job`]: the child: parse, extract, write
//! - [`clang`]: the only place with `unsafe` and libclang
//! - [`extract`]: facts out of a parsed translation unit

pub mod args;
pub mod clang;
pub mod extract;
pub mod flags;
pub mod job;
pub mod paths;
pub mod pending;
pub mod wrapper;

use std::ffi::OsString;

const HELP: &str = "\
nccrs: a compiler wrapper that records what the compiler saw

Usage:
  make CC=nccrs ...                 index a build (kbuild: make ARCH=um CC=nccrs -j$(nproc))
  nccrs [compiler arguments]        run the real compiler; index C compiles to objects
  nccrs --finish [DB]               index what an interrupted build left pending
  nccrs --help                      this text

Every argument is passed to the real compiler unchanged; its output and exit status
are nccrs's. Compiles of C to objects are also parsed with libclang and recorded.

Environment:
  NCCRS_CC              the real compiler, possibly with arguments (default: gcc, or the
                        name nccrs was called by when that is a symlink like `cc`)
  NCCRS_DB              the database (default: vmlinux.db at the top of a kernel build
                        tree, else nccrs.db in the current directory)
  NCCRS_INDEX_TIMEOUT   seconds one compile's indexing may take (default: 10 times the
                        compile's own time, at least 60)
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

/// The whole program: returns the exit status.
pub fn main_entry(argv: Vec<OsString>) -> i32 {
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("--index-job") if argv.len() == 2 => wrapper::run_index_job(),
        Some("--finish") if argv.len() <= 3 && invoked_as_nccrs(&argv[0]) => {
            match argv.get(2).map(|a| a.as_os_str()) {
                Some(a) if a == "--help" => {
                    print!("{FINISH_HELP}");
                    0
                }
                db => wrapper::run_finish(db),
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
