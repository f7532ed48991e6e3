//! The compiler wrapper: runs the real compiler exactly as asked and, for compiles of
//! C to objects, an indexing child beside it.
//!
//! The real compiler inherits standard input, output and error, so its bytes reach the
//! build untouched; its exit status becomes ours (a signal as a shell reports it,
//! 128 + N). Whatever happens to the indexer costs at most one `nccrs: warning:` line.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::args::{classify, expand_response_files, Invocation};
use crate::job::IndexJob;
use crate::paths::stored_path;
use crate::pending;

/// Set in the environment of everything nccrs starts: a nested nccrs passes straight
/// through, so nccrs never indexes (or runs) itself recursively.
pub const ACTIVE_ENV: &str = "NCCRS_ACTIVE";

/// The shortest time the indexer is given, whatever the compile took.
const MIN_INDEX_TIME: Duration = Duration::from_secs(60);
/// The indexer is given this many times the compile's own duration.
const INDEX_TIME_FACTOR: u32 = 10;

fn warn(msg: impl std::fmt::Display) {
    // One line, never more: the build's own output is what matters.
    let line = msg.to_string().replace('\n', " ");
    let _ = writeln!(std::io::stderr(), "nccrs: warning: {line}");
}

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

/// Finds the real compiler. In order: the first argument, when it names a program
/// rather than an option or an input (`CC="nccrs clang-19"`): what the command line
/// says wins over the environment, so that a cross build never runs the host
/// compiler; `NCCRS_CC` (a command, possibly with arguments); the name nccrs was
/// called by, when that is a symlink such as `cc`; `gcc`. nccrs itself is skipped
/// wherever it is looked up, so it never runs itself.
pub fn resolve_compiler(argv0: &OsStr, args: &[OsString]) -> Result<RealCompiler, String> {
    let me = std::env::current_exe().unwrap_or_default();
    if let Some(first) = args.first().filter(|a| names_a_program(a)) {
        if let Some(p) = find_on_path(first, &me) {
            return Ok(RealCompiler {
                command: vec![p.into_os_string()],
                consumed: 1,
            });
        }
    }
    if let Some(cc) = std::env::var_os("NCCRS_CC").filter(|v| !v.is_empty()) {
        let words: Vec<OsString> = cc
            .as_bytes()
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .map(|w| OsStr::from_bytes(w).to_owned())
            .collect();
        if let Some(first) = words.first() {
            match find_on_path(first, &me) {
                Some(p) => {
                    let mut command = vec![p.into_os_string()];
                    command.extend(words[1..].iter().cloned());
                    return Ok(RealCompiler {
                        command,
                        consumed: 0,
                    });
                }
                None => return Err(format!("NCCRS_CC: {}: not found", first.to_string_lossy())),
            }
        }
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
        .ok_or_else(|| format!("{}: not found on PATH", name.to_string_lossy()))
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

/// Where the facts of a compile in `cwd` go: `NCCRS_DB`, else `vmlinux.db` at the top
/// of a kernel build tree, else `nccrs.db` in `cwd`.
pub fn database_path(cwd: &Path) -> PathBuf {
    let env = crate::kbuild::Real;
    crate::kbuild::database(cwd, &env, crate::kbuild::detect(cwd, &env).as_ref())
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
    cmd.args(&compiler[1..]).args(args).env(ACTIVE_ENV, "1");

    let nested = std::env::var_os(ACTIVE_ENV).is_some();
    let expanded = expand_response_files(args, &mut |p| std::fs::read(p).ok());
    let job = match classify(&expanded) {
        Invocation::Compile(_) if !nested => Some(expanded),
        _ => None,
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
    let mode = Mode::from_env();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let command: Vec<String> = compiler
        .iter()
        .chain(args)
        .map(|a| stored_path(a))
        .collect();
    let env = crate::kbuild::Real;
    let kernel = crate::kbuild::detect(&cwd, &env);
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
        fault: std::env::var("NCCRS_FAULT").ok(),
        background: mode == Mode::Background,
        timeout: timeout_from_env().map(|t| t.as_secs_f64()),
    };
    let job = IndexJob {
        pending: pending::register(&job),
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
    let indexer = spawn_indexer(&job);
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "nccrs: error: cannot run {}: {e}",
                compiler[0].to_string_lossy()
            );
            if let Ok((mut child, _)) = indexer {
                let _ = child.kill();
                let _ = child.wait();
            }
            pending::done(job.pending.as_deref());
            return 127;
        }
    };
    let limit = index_time_limit(started.elapsed());
    match indexer {
        Ok((child, stderr)) => {
            let limit = Limit {
                deadline: started + limit,
                cpu: None,
            };
            finish_indexer(&job, child, stderr, limit, Report::Stderr);
        }
        Err(e) => warn(format_args!("cannot start the indexer: {e}")),
    }
    // Finish what an interrupted build left behind, a little per compile.
    for orphan in pending::claim_orphans(&job.db, ORPHANS_PER_COMPILE) {
        index_now(&orphan, Report::Quiet);
    }
    exit_code(status)
}

/// How many orphaned jobs one compile takes over after its own.
const ORPHANS_PER_COMPILE: usize = 2;

/// Indexes `job` in a child and waits for it, at most the shortest time limit;
/// returns whether its facts were recorded.
pub(crate) fn index_now(job: &IndexJob, report: Report<'_>) -> bool {
    index_within(job, Limit::from_now(MIN_INDEX_TIME, None), report)
}

/// Indexes `job` in a child and waits for it within `limit`; returns whether its facts
/// were recorded.
pub(crate) fn index_within(job: &IndexJob, limit: Limit, report: Report<'_>) -> bool {
    match spawn_indexer(job) {
        Ok((child, stderr)) => finish_indexer(job, child, stderr, limit, report),
        Err(e) => {
            report.warn(format_args!("cannot start the indexer: {e}"));
            false
        }
    }
}

/// `nccrs --finish [DB]`: indexes every job an interrupted build left pending.
pub fn run_finish(db: Option<&OsStr>) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let db = match db {
        Some(p) => cwd.join(p),
        None => database_path(&cwd),
    };
    let jobs = pending::claim_orphans(&db, usize::MAX);
    let mut failed = 0;
    for job in &jobs {
        let source = job
            .units()
            .first()
            .map(|u| stored_path(&u.source))
            .unwrap_or_default();
        if index_now(job, Report::Stderr) {
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

/// `NCCRS_INDEX_TIMEOUT`, when set to a number of seconds.
pub(crate) fn timeout_from_env() -> Option<Duration> {
    std::env::var("NCCRS_INDEX_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(seconds)
}

/// A number of seconds as a duration: negative is zero, more than 30 years is 30
/// years (deadlines are computed from it), and what is not a number is nothing.
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs.clamp(0.0, 1e9)).ok()
}

fn index_time_limit(compile: Duration) -> Duration {
    timeout_from_env().unwrap_or((compile * INDEX_TIME_FACTOR).max(MIN_INDEX_TIME))
}

/// When the indexing runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Beside the compile; the compile's wrapper waits for it (the default).
    Inline,
    /// After the compile, in the database's drainer; the wrapper becomes the compiler.
    Background,
}

impl Mode {
    /// `NCCRS_INDEX=inline|background`. Anything else indexes inline, with a warning.
    fn from_env() -> Mode {
        match std::env::var_os("NCCRS_INDEX") {
            None => Mode::Inline,
            Some(v) if v.is_empty() || v == "inline" => Mode::Inline,
            Some(v) if v == "background" => Mode::Background,
            Some(v) => {
                warn(format_args!(
                    "NCCRS_INDEX={}: expected inline or background; indexing inline",
                    v.to_string_lossy()
                ));
                Mode::Inline
            }
        }
    }
}

/// How long an indexer may run: until a wall-clock deadline and, when given, for at
/// most this much CPU time (a niced indexer may wait long for the processor without
/// being stuck).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    pub deadline: Instant,
    pub cpu: Option<Duration>,
}

impl Limit {
    pub fn from_now(wall: Duration, cpu: Option<Duration>) -> Limit {
        Limit {
            deadline: Instant::now() + wall,
            cpu,
        }
    }

    fn exceeded(&self, pid: u32) -> bool {
        Instant::now() >= self.deadline
            || self
                .cpu
                .is_some_and(|max| cpu_time(pid).is_some_and(|used| used >= max))
    }
}

/// The processor time process `pid` has used so far (user and system, every thread).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the comm: state is the first, utime the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // /proc counts in USER_HZ, which is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// Where an indexing problem is told: the build's standard error (one `nccrs: warning:`
/// line), nowhere (the failure is in the database all the same), or a file that
/// `nccrs --wait` shows later.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Report<'a> {
    Stderr,
    Quiet,
    File(&'a Path),
}

impl Report<'_> {
    fn warn(self, msg: std::fmt::Arguments<'_>) {
        match self {
            Report::Stderr => warn(msg),
            Report::Quiet => {}
            Report::File(path) => {
                let line = format!("nccrs: warning: {}\n", msg.to_string().replace('\n', " "));
                // One short append per line: lines of parallel indexers do not mix.
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = f.write_all(line.as_bytes());
                }
            }
        }
    }
}

type StderrReader = std::thread::JoinHandle<String>;

fn spawn_indexer(job: &IndexJob) -> std::io::Result<(Child, StderrReader)> {
    let me = std::env::current_exe()?;
    let mut child = Command::new(me)
        .arg("--index-job")
        .env(PARENT_ENV, std::process::id().to_string())
        .current_dir(&job.directory)
        .env(ACTIVE_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let json = serde_json::to_vec(job).map_err(std::io::Error::other)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&json)?;
    }
    let mut err = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.take(64 * 1024).read_to_string(&mut s);
        }
        s
    });
    Ok((child, reader))
}

/// Waits for the indexer of `job` within `limit`; records a failure when it did not
/// record the job itself. Returns whether the facts were recorded.
fn finish_indexer(
    job: &IndexJob,
    mut child: Child,
    stderr: StderrReader,
    limit: Limit,
    report: Report<'_>,
) -> bool {
    let warn = |msg: std::fmt::Arguments<'_>| report.warn(msg);
    let source = job
        .units()
        .first()
        .map(|u| u.source.to_string_lossy().into_owned())
        .unwrap_or_default();
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if limit.exceeded(child.id()) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err("timed out".to_owned());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let message = stderr.join().unwrap_or_default();
    let message = message.lines().next().unwrap_or("").trim().to_owned();
    let recorded = || job.pending.as_ref().is_some_and(|p| !p.exists());
    let reason = match outcome {
        Ok(status) if status.success() => return true,
        Ok(status) if status.signal().is_none() && !message.is_empty() => {
            // The child failed and says why, having recorded the failure if it could.
            if !recorded() {
                if let Err(e) = job.record_failure(&message) {
                    forget_if_unrecordable(job, &e);
                    let e = format!("{e:#}");
                    if e == message {
                        warn(format_args!("{source}: not indexed: {message}"));
                    } else {
                        warn(format_args!("{source}: not indexed: {message}; {e}"));
                    }
                    return false;
                }
            }
            warn(format_args!("{source}: not indexed: {message}"));
            return false;
        }
        // The child recorded the job before it died: nothing to add.
        _ if recorded() => return true,
        Ok(status) => match status.signal() {
            Some(sig) => format!("indexer killed by signal {sig}"),
            None => format!("indexer exited with status {}", status.code().unwrap_or(-1)),
        },
        Err(e) => format!("indexer {e}"),
    };
    match job.record_failure(&reason) {
        Ok(()) => warn(format_args!("{source}: not indexed: {reason}")),
        Err(e) => {
            forget_if_unrecordable(job, &e);
            warn(format_args!("{source}: not indexed: {reason}; {e:#}"))
        }
    }
    false
}

/// A job whose database refuses it for good (another program's file, a newer nccrs's,
/// another build's) is not left pending: no later attempt could record it either.
fn forget_if_unrecordable(job: &IndexJob, error: &anyhow::Error) {
    if error
        .downcast_ref::<schema::Error>()
        .is_some_and(schema::Error::is_permanent)
    {
        pending::done(job.pending.as_deref());
    }
}

/// The indexing child's parent, which watches its time limit.
const PARENT_ENV: &str = "NCCRS_INDEX_PARENT";

/// `nccrs --index-job`: the child side. Reads the job from standard input.
pub fn run_index_job() -> i32 {
    // An indexer nobody watches any more could run forever: it dies with its parent.
    let parent = std::env::var(PARENT_ENV).ok().and_then(|p| p.parse().ok());
    if parent.is_some_and(|p| !crate::sys::die_with_parent(p)) {
        eprintln!("the process that started the indexer is gone");
        return 1;
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("cannot read the job: {e}");
        return 2;
    }
    let job: IndexJob = match serde_json::from_slice(&input) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("bad job description: {e}");
            return 2;
        }
    };
    // Deep ASTs make for deep visits: give the walk room.
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            crate::job::run(&job).map_err(|e| {
                // Record the failure if the database itself is not the problem.
                let msg = format!("{e:#}");
                let _ = job.record_failure(&msg);
                msg
            })
        });
    match worker.map(|w| w.join()) {
        Ok(Ok(Ok(()))) => 0,
        Ok(Ok(Err(msg))) => {
            eprintln!("{msg}");
            1
        }
        Ok(Err(_)) => {
            eprintln!("indexer panicked");
            1
        }
        Err(e) => {
            eprintln!("cannot start the indexer thread: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_never_overflow_a_deadline() {
        assert_eq!(seconds(2.5), Some(Duration::from_millis(2500)));
        assert_eq!(seconds(-3.0), Some(Duration::ZERO));
        assert_eq!(seconds(f64::NAN), None);
        for huge in [1e18, f64::INFINITY] {
            let d = seconds(huge).expect("capped");
            // The drainer's wall-clock limit is 20 times the processor time.
            let _ = Limit::from_now(d * 20, Some(d));
        }
    }
}
