//! Indexing after the compile: `NCCRS_INDEX=background`.
//!
//! The wrapper registers its job in `DB.pending/` as always, makes sure a *drainer*
//! runs for the database, and then becomes the real compiler (`exec`): make waits for
//! the compile alone. A pending job whose owner is gone can be claimed (see
//! [`crate::pending`]), so each job becomes the drainer's as soon as its compile has
//! finished. The drainer — one per database, the holder of `DB.pending/drain.lock` —
//! indexes the jobs in worker processes that live across jobs ([`crate::worker`]), as
//! many at once as there are processors that the build's running compiles leave (less
//! one for its next compile; all of them once no compile runs), at the lowest CPU
//! priority (idle class, nice 19) so that the build's compiles come first, and leaves
//! when nothing is pending any more.
//! Problems are written to `DB.pending/warnings` instead of the build's standard
//! error, which may be gone.
//!
//! `nccrs --wait [DB]` returns when every job is recorded (indexing the rest itself,
//! at full priority but leaving the processors to running compiles as the drainer
//! does, when no drainer runs), prints those warnings and removes them.

use std::ffi::OsStr;
use std::fs::{File, TryLockError};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::job::IndexJob;
use crate::pending;
use crate::settings;
use crate::supervise::{index_within, Launch, Limit, Process, Report};
use crate::worker::Pool;

/// The processor time one background indexing may take, unless `NCCRS_INDEX_TIMEOUT`
/// says otherwise (the largest kernel units take a few seconds).
const BACKGROUND_CPU_LIMIT: Duration = Duration::from_secs(120);
/// The wall-clock limit is this many times the processor time limit: a niced indexer
/// waits while the build runs, but a sleeping one is stuck.
const WALL_PER_CPU: u32 = 20;
/// How often the drainer looks for jobs whose compile has finished.
const POLL: Duration = Duration::from_millis(100);

fn lock_path(db: &Path) -> PathBuf {
    pending::dir(db).join("drain.lock")
}

fn warnings_path(db: &Path) -> PathBuf {
    pending::dir(db).join("warnings")
}

/// The drainer's lock of `db`, if nobody else holds it. Dropping the file releases it.
fn try_lock(db: &Path) -> std::io::Result<Option<File>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(db))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Starts a drainer for `db` unless one runs. Called by the wrapper after it registered
/// its job: a drainer that is leaving looks at the pending jobs again after it released
/// the lock, so a job is never left without one.
pub fn ensure_drainer(db: &Path) {
    match try_lock(db) {
        Ok(None) => return, // One runs.
        Ok(Some(lock)) => drop(lock),
        Err(_) => {} // The drainer will say what is wrong.
    }
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    // Its own process group: a Ctrl-C of the build stops the compiles, not the
    // indexing of what was compiled. Same session, so the scheduler's autogroup is the
    // build's and nice 19 means what it says.
    let _ = Command::new(me)
        .arg("--drain")
        .arg(db)
        .current_dir("/")
        .env(settings::ACTIVE, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// The time limit of `job`: the `NCCRS_INDEX_TIMEOUT` of its build, else this
/// process's, else the default.
fn background_limit(job: &IndexJob) -> Limit {
    let cpu = job
        .timeout
        .and_then(settings::seconds)
        .or_else(settings::index_timeout)
        .unwrap_or(BACKGROUND_CPU_LIMIT);
    Limit::from_now(cpu * WALL_PER_CPU, Some(cpu))
}

/// Indexes every claimable job of `db` with up to `workers` children at once, until no
/// job is pending at all (compiles still running included). The caller holds the lock.
/// How many jobs an indexer ran for.
fn drain_locked(db: &Path, workers: usize) -> usize {
    let warnings = warnings_path(db);
    // Indexers that live across jobs, shared by the jobs' threads.
    let pool = std::sync::Arc::new(Pool::default());
    let (done_tx, done_rx) = mpsc::channel::<bool>();
    let mut running = 0usize;
    let mut indexed = 0usize;
    let mut compiles = pending::Compiles::default();
    loop {
        while let Ok(ran) = done_rx.try_recv() {
            running -= 1;
            indexed += usize::from(ran);
        }
        let room = indexers_beside(compiles.running(db), workers);
        if running < room {
            for job in IndexJob::claim_orphans(db, room - running) {
                running += 1;
                let tx = done_tx.clone();
                let (mine, report, shared) = (job.clone(), warnings.clone(), pool.clone());
                let spawned = std::thread::Builder::new().spawn(move || {
                    let _ = tx.send(index_once(&mine, &report, &shared));
                });
                if spawned.is_err() {
                    // No thread to spare: index it here.
                    indexed += usize::from(index_once(&job, &warnings, &pool));
                    running -= 1;
                }
            }
        }
        if running == 0 && !pending::any(db) {
            // Every job's thread has given its worker back (or lost it): they leave
            // now, not when the last thread lets go of the pool.
            pool.close();
            return indexed;
        }
        if let Ok(ran) = done_rx.recv_timeout(POLL) {
            running -= 1;
            indexed += usize::from(ran);
        }
    }
}

/// How many indexers may run beside `compiling` compiles of the build on `processors`
/// processors: all of them when no compile runs; otherwise those the compiles leave
/// free, less one kept for the build's next compile — none while make keeps every
/// processor compiling (a job started in a moment between compiles, when a recipe runs
/// its other steps or make archives and links, runs on to its end). Idle-class
/// indexers take only a processor nothing else wants, but one that runs beside a
/// compile still slows it (caches and memory are shared), and on a busy machine what
/// it indexes meanwhile is little: the build first, then the rest. Compiles elsewhere
/// (distcc) count as running too: with more of them than processors, the indexing
/// waits for the build's end.
fn indexers_beside(compiling: usize, processors: usize) -> usize {
    if compiling == 0 {
        processors
    } else {
        processors.saturating_sub(compiling + 1)
    }
}

/// Indexes `job` once, in a worker of `pool` (a retry, which runs without the fault a
/// test injects, in a process of its own). A job whose outcome could not even be
/// recorded as a failure (an unusable database, an indexer that cannot start) has had
/// its warning; it is dropped rather than left pending under this drainer's name,
/// which nobody else would claim while it runs. Whether an indexer ran.
fn index_once(job: &IndexJob, warnings: &Path, pool: &Pool) -> bool {
    // A rebuild that gives what the database holds needs no indexer.
    if job.recorded_already() {
        pending::done(job.pending.as_deref());
        return false;
    }
    let launch: &dyn Launch = if job.retry { &Process } else { pool };
    if !index_within(launch, job, background_limit(job), Report::File(warnings))
        && pending::is_pending(job.pending.as_deref())
    {
        pending::done(job.pending.as_deref());
    }
    true
}

/// After a drain that indexed at least a tenth as many units as the database holds
/// (a first build, a header changed): the database rewritten compactly. Units
/// recorded in the build's order leave B-tree pages about two thirds full; SQLite's
/// `VACUUM` takes about half a second for a UML kernel and makes the file a quarter
/// smaller. Readers go on reading meanwhile; a failure changes nothing.
fn compact_after(db: &Path, indexed: usize) {
    let Ok(mut conn) = schema::Db::open_writer(db) else {
        return;
    };
    if conn.unit_count().is_ok_and(|units| indexed * 10 >= units) {
        let _ = conn.compact();
    }
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `nccrs --drain DB`: the background drainer the wrapper starts. Leaves at once when
/// another one holds the lock.
pub fn run_drain(db: &OsStr) -> i32 {
    let db = Path::new(db);
    crate::sys::close_inherited_files();
    // The lowest priority for the drainer and the indexers it starts.
    crate::sys::lowest_priority();
    loop {
        match try_lock(db) {
            Ok(Some(lock)) => {
                let indexed = drain_locked(db, workers());
                if indexed > 0 {
                    compact_after(db, indexed);
                }
                drop(lock);
            }
            Ok(None) => return 0,
            Err(_) => return 1,
        }
        // A wrapper that found the lock held just before it was released relies on
        // this look.
        if !pending::any(db) {
            return 0;
        }
    }
}

/// `nccrs --wait [DB]`: returns when every compile into DB is indexed.
pub fn run_wait(db: Option<&OsStr>) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let db = match db {
        Some(p) => cwd.join(p),
        None => crate::kbuild::database_here(&cwd),
    };
    if !db.exists() && !pending::dir(&db).exists() {
        eprintln!("nccrs: error: {}: no such database", db.display());
        return 2;
    }
    let shown = ProgressShown::start(&db);
    let waited = wait_for_drain(&db);
    shown.finish();
    if let Err(e) = waited {
        eprintln!("nccrs: error: {}: {e}", lock_path(&db).display());
        return 2;
    }
    let warnings = take_warnings(&db);
    let mut stderr = std::io::stderr().lock();
    for line in warnings.lines() {
        let _ = writeln!(stderr, "{line}");
    }
    let failed = warnings.lines().count();
    if failed == 0 {
        println!("{}: every compile is indexed", db.display());
    } else {
        println!("{}: indexed, {failed} warning(s) above", db.display());
    }
    i32::from(failed > 0)
}

/// Returns when nothing is pending: drains `db` itself whenever no drainer runs.
fn wait_for_drain(db: &Path) -> std::io::Result<()> {
    loop {
        match try_lock(db) {
            Ok(Some(lock)) => {
                drain_locked(db, workers());
                drop(lock);
                if !pending::any(db) {
                    return Ok(());
                }
            }
            Ok(None) => std::thread::sleep(POLL),
            // Nothing to wait for, and no directory to lock in.
            Err(_) if !pending::any(db) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// The progress of the indexing on standard error, while `nccrs --wait` waits: drawn
/// by a thread of its own (the waiting thread may be draining), and only on a
/// terminal.
struct ProgressShown {
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressShown {
    fn start(db: &Path) -> ProgressShown {
        let (stop, stopped) = mpsc::channel::<()>();
        let db = db.to_owned();
        let thread = std::thread::Builder::new()
            .spawn(move || {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr_with_hz(4),
                );
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg}{pos}/{len} compiles indexed [{bar:30}] {per_sec}, {eta} left",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                loop {
                    let (done, total) = schema::pending::progress(&db).done_of();
                    bar.set_length(total);
                    bar.set_position(done);
                    if stopped.recv_timeout(Duration::from_millis(250)).is_ok() {
                        break;
                    }
                }
                bar.finish_and_clear();
            })
            .ok();
        ProgressShown { stop, thread }
    }

    fn finish(mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The warnings of background indexing so far, removed from the pending directory.
fn take_warnings(db: &Path) -> String {
    let path = warnings_path(db);
    // Renamed first, so that a line appended meanwhile goes to a new file.
    let taken = path.with_extension("taken");
    if std::fs::rename(&path, &taken).is_err() {
        return String::new();
    }
    let text = std::fs::read_to_string(&taken).unwrap_or_default();
    let _ = std::fs::remove_file(&taken);
    text
}

#[cfg(test)]
mod tests {
    use super::indexers_beside;

    #[test]
    fn indexers_leave_the_build_its_processors() {
        // Two processors, make -j2: nothing beside one or two compiles.
        assert_eq!(indexers_beside(2, 2), 0);
        assert_eq!(indexers_beside(1, 2), 0);
        assert_eq!(indexers_beside(0, 2), 2);
        // Many processors, a few compiles: the rest, less one for the next compile.
        assert_eq!(indexers_beside(4, 64), 59);
        assert_eq!(indexers_beside(80, 64), 0);
        assert_eq!(indexers_beside(0, 1), 1);
        assert_eq!(indexers_beside(1, 1), 0);
    }
}
