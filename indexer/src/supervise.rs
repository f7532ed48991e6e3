//! Watching indexing children: start one, wait for it within a time limit, and when it
//! crashed, hung or failed, record the failure and tell it — once, where the caller
//! says (the build's standard error, nowhere, or the drainer's warnings file). Used by
//! the wrapper (beside each compile) and by the drainer (after it).
//!
//! Children are started through [`Launch`], so that what supervision does with each
//! outcome is tested with stand-ins (see the tests below) rather than with faults
//! injected into real indexers.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::job::IndexJob;
use crate::pending;
use crate::settings;

/// The shortest time an indexer is given beside a compile, whatever the compile took.
pub const MIN_INDEX_TIME: Duration = Duration::from_secs(60);

/// A running indexing child, as supervision sees it.
pub trait Indexer {
    /// Its exit status, once it has exited.
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>>;
    /// Kills it and waits for it.
    fn kill(&mut self);
    /// The processor time it has used so far.
    fn cpu_time(&self) -> Option<Duration>;
    /// The first line it wrote to standard error (once it has exited).
    fn message(&mut self) -> String;
}

/// Starts indexing children.
pub trait Launch {
    fn launch(&self, job: &IndexJob) -> std::io::Result<Box<dyn Indexer>>;
}

/// The real children: `nccrs --index-job`, given the job on standard input.
pub struct Process;

struct ChildIndexer {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Launch for Process {
    fn launch(&self, job: &IndexJob) -> std::io::Result<Box<dyn Indexer>> {
        let me = std::env::current_exe()?;
        let mut cmd = Command::new(me);
        cmd.arg("--index-job")
            .env(settings::INDEX_PARENT, std::process::id().to_string())
            .current_dir(&job.directory)
            .env(settings::ACTIVE, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if job.retry {
            // A fault injected for a test is for the build's own indexing only.
            cmd.env_remove(settings::FAULT);
        }
        let mut child = cmd.spawn()?;
        let json = serde_json::to_vec(job).map_err(std::io::Error::other)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(&json)?;
        }
        let mut err = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = err.as_mut() {
                let _ = e.take(64 * 1024).read_to_string(&mut s);
            }
            s
        });
        Ok(Box::new(ChildIndexer {
            child,
            stderr: Some(stderr),
        }))
    }
}

impl Indexer for ChildIndexer {
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    fn cpu_time(&self) -> Option<Duration> {
        crate::sys::proc_stat(self.child.id()).map(|s| s.cpu)
    }
    fn message(&mut self) -> String {
        let text = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        text.lines().next().unwrap_or("").trim().to_owned()
    }
}

/// How long an indexer may run: until a wall-clock deadline and, when given, for at
/// most this much processor time (a niced indexer may wait long for the processor
/// without being stuck).
#[derive(Clone, Copy, Debug)]
pub struct Limit {
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

    fn exceeded(&self, indexer: &dyn Indexer) -> bool {
        Instant::now() >= self.deadline
            || self
                .cpu
                .is_some_and(|max| indexer.cpu_time().is_some_and(|used| used >= max))
    }
}

/// Where an indexing problem is told: the build's standard error (one `nccrs: warning:`
/// line), nowhere (the failure is in the database all the same), or a file that
/// `nccrs --wait` shows later.
#[derive(Clone, Copy, Debug)]
pub enum Report<'a> {
    Stderr,
    Quiet,
    File(&'a Path),
}

impl Report<'_> {
    pub fn warn(self, msg: std::fmt::Arguments<'_>) {
        // One line, never more: the build's own output is what matters.
        let line = format!("nccrs: warning: {}\n", msg.to_string().replace('\n', " "));
        match self {
            Report::Stderr => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            Report::Quiet => {}
            Report::File(path) => {
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

/// Indexes `job` in a child and waits for it within `limit`; returns whether its facts
/// were recorded.
pub fn index_within(launch: &dyn Launch, job: &IndexJob, limit: Limit, report: Report<'_>) -> bool {
    match launch.launch(job) {
        Ok(indexer) => finish(job, indexer, limit, report),
        Err(e) => {
            report.warn(format_args!("cannot start the indexer: {e}"));
            false
        }
    }
}

/// Indexes `job` in a child and waits for it, at most the shortest time limit.
pub fn index_now(launch: &dyn Launch, job: &IndexJob, report: Report<'_>) -> bool {
    index_within(launch, job, Limit::from_now(MIN_INDEX_TIME, None), report)
}

/// Waits for the indexer of `job` within `limit`; records a failure when it did not
/// record the job itself. Returns whether the facts were recorded.
pub fn finish(
    job: &IndexJob,
    mut indexer: Box<dyn Indexer>,
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
        match indexer.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if limit.exceeded(indexer.as_ref()) => {
                indexer.kill();
                break Err("timed out".to_owned());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let message = indexer.message();
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

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::cell::Cell;
    use std::ffi::OsString;
    use std::path::PathBuf;

    /// What a stand-in indexer does.
    #[derive(Clone, Copy)]
    enum Act {
        /// Records nothing and exits with this raw wait status.
        Exit(i32),
        /// Exits 1 with this message on standard error.
        Fail(&'static str),
        /// Never exits, using processor time as it waits.
        Hang,
    }

    struct StandIn {
        act: Act,
        started: Instant,
        killed: std::rc::Rc<Cell<bool>>,
    }

    impl Indexer for StandIn {
        fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
            Ok(match self.act {
                Act::Exit(raw) => Some(ExitStatus::from_raw(raw)),
                Act::Fail(_) => Some(ExitStatus::from_raw(1 << 8)),
                Act::Hang => None,
            })
        }
        fn kill(&mut self) {
            self.killed.set(true);
        }
        fn cpu_time(&self) -> Option<Duration> {
            Some(self.started.elapsed())
        }
        fn message(&mut self) -> String {
            match self.act {
                Act::Fail(m) => m.to_owned(),
                _ => String::new(),
            }
        }
    }

    struct Launcher {
        act: Act,
        killed: std::rc::Rc<Cell<bool>>,
    }

    impl Launch for Launcher {
        fn launch(&self, _job: &IndexJob) -> std::io::Result<Box<dyn Indexer>> {
            Ok(Box::new(StandIn {
                act: self.act,
                started: Instant::now(),
                killed: self.killed.clone(),
            }))
        }
    }

    /// A job of one unit, `a.c`, into `db`, pending under `dir`.
    pub(crate) fn job(dir: &Path, db: PathBuf) -> IndexJob {
        let marker = dir.join("1-1.job");
        std::fs::write(&marker, b"{}").unwrap();
        IndexJob {
            db,
            directory: dir.to_owned(),
            args: ["-c", "a.c", "-o", "a.o"].map(OsString::from).to_vec(),
            command: vec!["gcc".into(), "-c".into(), "a.c".into()],
            srctree: None,
            objtree: None,
            extmod: None,
            pending: Some(marker),
            retry: false,
            background: false,
            timeout: None,
            cache_dir: None,
            cache_size: 0,
        }
    }

    /// Runs `act` under supervision; (recorded, killed, warnings, the unit's status and
    /// reason in the database, whether the job is still pending).
    fn supervise(act: Act, limit: Limit) -> (bool, bool, String, Option<(String, String)>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let j = job(dir.path(), dir.path().join("t.db"));
        let warnings = dir.path().join("warnings");
        let killed = std::rc::Rc::new(Cell::new(false));
        let launcher = Launcher {
            act,
            killed: killed.clone(),
        };
        let ok = index_within(&launcher, &j, limit, Report::File(&warnings));
        let unit = schema::Db::open_readonly(&j.db)
            .ok()
            .and_then(|db| db.tus().ok())
            .and_then(|t| t.into_iter().next())
            .map(|t| (t.status.to_string(), t.reason.unwrap_or_default()));
        (
            ok,
            killed.get(),
            std::fs::read_to_string(&warnings).unwrap_or_default(),
            unit,
            pending::is_pending(j.pending.as_deref()),
        )
    }

    fn ample() -> Limit {
        Limit::from_now(Duration::from_secs(60), None)
    }

    #[test]
    fn a_crash_is_recorded_with_its_signal_and_told_once() {
        let (ok, killed, warnings, unit, pending) = supervise(Act::Exit(6), ample());
        assert!(!ok && !killed && !pending);
        assert_eq!(
            warnings,
            "nccrs: warning: a.c: not indexed: indexer killed by signal 6\n"
        );
        assert_eq!(
            unit,
            Some(("failed".into(), "indexer killed by signal 6".into()))
        );
    }

    #[test]
    fn a_hang_is_killed_at_the_deadline() {
        let limit = Limit::from_now(Duration::from_millis(50), None);
        let (ok, killed, warnings, unit, _) = supervise(Act::Hang, limit);
        assert!(!ok && killed);
        assert_eq!(
            warnings,
            "nccrs: warning: a.c: not indexed: indexer timed out\n"
        );
        assert_eq!(unit, Some(("failed".into(), "indexer timed out".into())));
    }

    #[test]
    fn processor_time_is_limited_apart_from_wall_time() {
        let limit = Limit::from_now(Duration::from_secs(60), Some(Duration::from_millis(50)));
        let (ok, killed, _, unit, _) = supervise(Act::Hang, limit);
        assert!(!ok && killed);
        assert_eq!(unit, Some(("failed".into(), "indexer timed out".into())));
    }

    #[test]
    fn a_failure_the_indexer_tells_is_recorded_and_told_once() {
        let (ok, killed, warnings, unit, pending) =
            supervise(Act::Fail("cannot load libclang"), ample());
        assert!(!ok && !killed && !pending);
        assert_eq!(
            warnings,
            "nccrs: warning: a.c: not indexed: cannot load libclang\n"
        );
        assert_eq!(unit, Some(("failed".into(), "cannot load libclang".into())));
    }

    #[test]
    fn an_exit_without_a_word_is_recorded_with_its_status() {
        let (ok, _, _, unit, _) = supervise(Act::Exit(3 << 8), ample());
        assert!(!ok);
        assert_eq!(
            unit,
            Some(("failed".into(), "indexer exited with status 3".into()))
        );
    }

    #[test]
    fn a_database_that_refuses_the_job_for_good_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database\n").unwrap();
        let j = job(dir.path(), text.clone());
        let warnings = dir.path().join("warnings");
        let launcher = Launcher {
            act: Act::Exit(9),
            killed: Default::default(),
        };
        assert!(!index_within(
            &launcher,
            &j,
            ample(),
            Report::File(&warnings)
        ));
        let w = std::fs::read_to_string(&warnings).unwrap();
        assert!(
            w.lines().count() == 1 && w.contains("not an nccrs database"),
            "{w}"
        );
        assert!(!pending::is_pending(j.pending.as_deref()), "left pending");
        assert_eq!(std::fs::read_to_string(&text).unwrap(), "not a database\n");
    }

    #[test]
    fn an_indexer_that_cannot_start_is_told() {
        struct Broken;
        impl Launch for Broken {
            fn launch(&self, _: &IndexJob) -> std::io::Result<Box<dyn Indexer>> {
                Err(std::io::Error::other("no such program"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let j = job(dir.path(), dir.path().join("t.db"));
        let warnings = dir.path().join("warnings");
        assert!(!index_within(&Broken, &j, ample(), Report::File(&warnings)));
        assert_eq!(
            std::fs::read_to_string(&warnings).unwrap(),
            "nccrs: warning: cannot start the indexer: no such program\n"
        );
    }
}
