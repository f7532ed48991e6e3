//! The compiler wrapper: runs the real compiler exactly as asked and, for compiles of
//! C to objects, an indexing child beside it.
//!
//! The real compiler inherits standard input, output and error, so its bytes reach the
//! build untouched; its exit status becomes ours (a signal as a shell reports it,
//! 128 + N). Whatever happens to the indexer costs at most one `nccrs: warning:` line.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::args::{classify, expand_response_files, Invocation};
use crate::job::IndexJob;
use crate::paths::stored_path;
use crate::pending;
use crate::settings::{self, Mode};
use crate::supervise::{self, Limit, Process, Report, MIN_INDEX_TIME};

/// The indexer is given this many times the compile's own duration.
const INDEX_TIME_FACTOR: u32 = 10;

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Finds `name` on `PATH`, skipping nccrs itself (a masquerade symlink or a copy).
fn find_on_path(name: &OsStr, me: &Path) -> Option<PathBuf> {
    if name.as_bytes().contains(&b'/') {
        let p = PathBuf::from(name);
        return (!same_file(&p, me)).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                && !same_file(p, me)
        })
}

/// The real compiler: the program and its leading arguments, and how many of nccrs's
/// own arguments named it.
#[derive(Debug, PartialEq, Eq)]
pub struct RealCompiler {
    pub command: Vec<OsString>,
    /// 1 when the first argument named the compiler (`nccrs aarch64-linux-gnu-gcc
    /// -c ...`, as ccache and distcc are used), else 0.
    pub consumed: usize,
}

/// The real compiler is nowhere to be found: what was looked for, and where.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CompilerNotFound(String);

/// Finds the real compiler. In order: the first argument, when it names a program
/// rather than an option or an input (`CC="nccrs clang-19"`): what the command line
/// says wins over the environment, so that a cross build never runs the host
/// compiler; `NCCRS_CC` (a command, possibly with arguments); the name nccrs was
/// called by, when that is a symlink such as `cc`; `gcc`. nccrs itself is skipped
/// wherever it is looked up, so it never runs itself.
pub fn resolve_compiler(
    argv0: &OsStr,
    args: &[OsString],
) -> Result<RealCompiler, CompilerNotFound> {
    let me = std::env::current_exe().unwrap_or_default();
    if let Some(first) = args.first().filter(|a| names_a_program(a)) {
        if let Some(p) = find_on_path(first, &me) {
            return Ok(RealCompiler {
                command: vec![p.into_os_string()],
                consumed: 1,
            });
        }
    }
    if let Some(words) = settings::compiler() {
        return match find_on_path(&words[0], &me) {
            Some(p) => {
                let mut command = vec![p.into_os_string()];
                command.extend(words[1..].iter().cloned());
                Ok(RealCompiler {
                    command,
                    consumed: 0,
                })
            }
            None => Err(CompilerNotFound(format!(
                "{}: {}: not found",
                settings::CC,
                words[0].to_string_lossy()
            ))),
        };
    }
    let base = Path::new(argv0).file_name().unwrap_or(argv0);
    let name: &OsStr = if base.as_bytes().starts_with(b"nccrs") {
        OsStr::new("gcc")
    } else {
        base
    };
    find_on_path(name, &me)
        .map(|p| RealCompiler {
            command: vec![p.into_os_string()],
            consumed: 0,
        })
        .ok_or_else(|| CompilerNotFound(format!("{}: not found on PATH", name.to_string_lossy())))
}

/// Whether a first argument could name the compiler: not an option, not a response
/// file, not a file a compiler reads or writes (`nccrs hello.c` compiles hello.c).
/// Whether it does is then up to `PATH` (or, with a `/`, the file itself).
fn names_a_program(arg: &OsStr) -> bool {
    let b = arg.as_bytes();
    let input_like = Path::new(arg).extension().is_some_and(|e| {
        matches!(
            e.as_bytes(),
            b"c" | b"h" | b"i" | b"s" | b"S" | b"o" | b"a" | b"so" | b"cc" | b"cpp" | b"lds"
        )
    });
    !b.is_empty() && !b.starts_with(b"-") && !b.starts_with(b"@") && !input_like
}

fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}

/// Runs nccrs as the compiler. Returns the exit status to leave with.
pub fn run(argv: &[OsString]) -> i32 {
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| OsString::from("nccrs"));
    let args = &argv[argv.len().min(1)..];
    let (compiler, args) = match resolve_compiler(&argv0, args) {
        Ok(c) => (c.command, &args[c.consumed..]),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "nccrs: error: cannot run the real compiler: {e}"
            );
            return 127;
        }
    };
    let mut cmd = Command::new(&compiler[0]);
    cmd.args(&compiler[1..])
        .args(args)
        .env(settings::ACTIVE, "1");

    let nested = settings::nested();
    let expanded = expand_response_files(args, &mut |p| std::fs::read(p).ok());
    // An assembly source is read from its object, so after the compile.
    let (job, after) = match classify(&expanded) {
        Invocation::Compile(_) if !nested => (Some(expanded), false),
        Invocation::Assemble(_) if !nested => (Some(expanded), true),
        _ => (None, false),
    };
    let Some(expanded) = job else {
        // Not ours to index: become the compiler.
        let err = cmd.exec();
        let _ = writeln!(
            std::io::stderr(),
            "nccrs: error: cannot run {}: {err}",
            compiler[0].to_string_lossy()
        );
        return 127;
    };

    // Read only for compiles we index: a probe's output stays the compiler's alone.
    let (mode, complaint) = settings::mode();
    if let Some(c) = complaint {
        Report::Stderr.warn(format_args!("{c}"));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let command: Vec<String> = compiler
        .iter()
        .chain(args)
        .map(|a| stored_path(a))
        .collect();
    let env = crate::kbuild::Real;
    let kernel = crate::kbuild::detect(&cwd, &env);
    let cache = crate::cache::Cache::from_env();
    let job = IndexJob {
        db: crate::kbuild::database(&cwd, &env, kernel.as_ref()),
        // Options that NCCRS_CC adds (`gcc -m32`) change the parse too.
        args: compiler[1..]
            .iter()
            .filter(|a| a.as_bytes().starts_with(b"-"))
            .chain(&expanded)
            .cloned()
            .collect(),
        command,
        srctree: kernel.as_ref().map(|k| k.srctree.clone()),
        objtree: kernel.as_ref().map(|k| k.objtree.clone()),
        extmod: kernel.and_then(|k| k.extmod),
        directory: cwd,
        pending: None,
        retry: false,
        background: mode == Mode::Background,
        timeout: settings::index_timeout().map(|t| t.as_secs_f64()),
        cache_dir: cache.as_ref().map(|c| c.place().0.to_owned()),
        cache_size: cache.as_ref().map_or(0, |c| c.place().1),
    };
    let job = IndexJob {
        pending: job.register(),
        ..job
    };

    // Without a pending file (a directory nccrs cannot write) nothing would find the
    // job later: it is indexed inline, which says what is wrong.
    if mode == Mode::Background && job.pending.is_some() {
        // The job waits in DB.pending/ until this process (the compiler, after the
        // exec) is gone; the drainer then indexes it.
        crate::drain::ensure_drainer(&job.db);
        let err = cmd.exec();
        pending::done(job.pending.as_deref());
        let _ = writeln!(
            std::io::stderr(),
            "nccrs: error: cannot run {}: {err}",
            compiler[0].to_string_lossy()
        );
        return 127;
    }

    let started = Instant::now();
    let launch = || supervise::Launch::launch(&Process, &job);
    let mut indexer = (!after).then(launch);
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "nccrs: error: cannot run {}: {e}",
                compiler[0].to_string_lossy()
            );
            if let Some(Ok(mut indexer)) = indexer {
                indexer.kill();
            }
            pending::done(job.pending.as_deref());
            return 127;
        }
    };
    let indexer = match indexer.take() {
        Some(indexer) => indexer,
        None => launch(),
    };
    let limit = index_time_limit(started.elapsed());
    match indexer {
        Ok(indexer) => {
            let limit = Limit {
                deadline: started + limit,
                cpu: None,
            };
            supervise::finish(&job, indexer, limit, Report::Stderr);
        }
        Err(e) => Report::Stderr.warn(format_args!("cannot start the indexer: {e}")),
    }
    // Finish what an interrupted build left behind, a little per compile.
    for orphan in IndexJob::claim_orphans(&job.db, ORPHANS_PER_COMPILE) {
        supervise::index_now(&Process, &orphan, Report::Quiet);
    }
    exit_code(status)
}

/// How many orphaned jobs one compile takes over after its own.
const ORPHANS_PER_COMPILE: usize = 2;

/// `nccrs --finish [DB]`: indexes every job an interrupted build left pending.
pub fn run_finish(db: Option<&OsStr>) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let db = match db {
        Some(p) => cwd.join(p),
        None => crate::kbuild::database_here(&cwd),
    };
    let jobs = IndexJob::claim_orphans(&db, usize::MAX);
    let mut failed = 0;
    for job in &jobs {
        let source = job
            .units()
            .first()
            .map(|u| stored_path(&u.source))
            .unwrap_or_default();
        if supervise::index_now(&Process, job, Report::Stderr) {
            println!("indexed {source}");
        } else {
            failed += 1;
        }
    }
    println!(
        "{}: {} interrupted job(s) indexed, {failed} failed",
        db.display(),
        jobs.len() - failed
    );
    i32::from(failed > 0)
}

fn index_time_limit(compile: Duration) -> Duration {
    settings::index_timeout().unwrap_or((compile * INDEX_TIME_FACTOR).max(MIN_INDEX_TIME))
}
