//! Indexers that live across jobs: `nccrs --index-jobs`, started by the background
//! drainer, one per job it runs at once, each indexing job after job with libclang
//! loaded once (loading it and starting a process cost some 40–60 ms of processor
//! time a unit, a tenth of an indexing).
//!
//! The drainer's side is a [`Pool`] of idle workers: a job takes one (or starts one),
//! writes the job on its standard input as one line of JSON, and reads one line back
//! on its standard output: `ok`, or `failed`, a tab and the reason, either one after
//! `last` and a tab when the worker leaves after this job (libclang recovered from a
//! crash in it: what the crash left behind is not to be trusted with another unit). A
//! worker that answered goes back to the pool. Supervision is the same as for a
//! process per job ([`crate::supervise`]): a worker that crashes, hangs or runs past
//! the job's limit is killed and costs that job alone (one warning, the unit recorded
//! as failed); the next job starts a new worker. A worker keeps the memory of its
//! parses for the next one while jobs come, and gives it back when it waits. It
//! leaves when its standard input ends, when the drainer is gone, and after
//! [`JOBS_PER_WORKER`] jobs (what a parse may leak stays bounded).

use std::io::{BufRead, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::job::IndexJob;
use crate::settings;
use crate::supervise::{Indexer, Launch};

/// How many jobs a worker runs before it is replaced.
pub const JOBS_PER_WORKER: usize = 64;

/// How long a worker waits for its next job before it gives back the memory it keeps
/// for parses.
const IDLE: Duration = Duration::from_secs(1);

/// The most of a worker's standard error kept (the first line of a job's is its
/// failure's reason when it died).
const STDERR_KEPT: usize = 64 * 1024;

/// What a worker answers for a job.
const OK: &str = "ok";
const FAILED: &str = "failed\t";
/// Before the answer of a worker's last job.
const LAST: &str = "last\t";

/// How long the reason a dying worker wrote on its standard error is waited for.
const STDERR_WAIT: Duration = Duration::from_secs(2);

/// A running worker, as the drainer holds it.
struct Worker {
    child: Child,
    /// Closed to tell the worker to leave.
    stdin: Option<ChildStdin>,
    /// Its answers, one line each; disconnected when its standard output ends.
    answers: mpsc::Receiver<String>,
    /// What it wrote on its standard error since its current job began.
    stderr: Arc<Mutex<String>>,
    /// Disconnected once its standard error has ended.
    stderr_open: mpsc::Receiver<()>,
    jobs: usize,
    /// It said it leaves after its current job.
    leaving: bool,
}

impl Worker {
    fn start(program: Option<&(std::path::PathBuf, Vec<String>)>) -> std::io::Result<Worker> {
        let mut cmd = match program {
            Some((path, args)) => {
                let mut cmd = Command::new(path);
                cmd.args(args);
                cmd
            }
            None => {
                let mut cmd = Command::new(std::env::current_exe()?);
                cmd.arg("--index-jobs");
                cmd
            }
        };
        // It enters each job's directory itself, and holds none while idle.
        let mut child = cmd
            .env(settings::INDEX_PARENT, std::process::id().to_string())
            .env(settings::ACTIVE, "1")
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let (tx, answers) = mpsc::channel();
        let (stderr_tx, stderr_open) = mpsc::channel::<()>();
        let stderr = Arc::new(Mutex::new(String::new()));
        // Made first, so that it is reaped whatever fails below.
        let worker = Worker {
            child,
            stdin,
            answers,
            stderr: stderr.clone(),
            stderr_open,
            jobs: 0,
            leaving: false,
        };
        if let Some(out) = out {
            std::thread::Builder::new().spawn(move || {
                for line in std::io::BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        }
        if let Some(mut err) = err {
            std::thread::Builder::new().spawn(move || {
                let _open = stderr_tx;
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = err.read(&mut buf) {
                    if let Ok(mut s) = stderr.lock() {
                        if s.len() < STDERR_KEPT {
                            s.push_str(&String::from_utf8_lossy(&buf[..n]));
                        }
                    }
                }
            })?;
        }
        Ok(worker)
    }

    /// Hands it `job`.
    fn send(&mut self, job: &IndexJob) -> std::io::Result<()> {
        if let Ok(mut s) = self.stderr.lock() {
            s.clear();
        }
        // Answers left over from an earlier job cannot be, but would mislead.
        while self.answers.try_recv().is_ok() {}
        let mut line = serde_json::to_vec(job).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("worker closed"))?;
        stdin.write_all(&line)?;
        stdin.flush()?;
        self.jobs += 1;
        Ok(())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Its input ends: an idle worker leaves at once; one still busy (killed by
        // now, or at the drainer's end) is killed.
        self.stdin.take();
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The drainer's idle workers.
#[derive(Default)]
pub struct Pool {
    idle: Arc<Mutex<Vec<Worker>>>,
    /// The program its workers run, when not this one's `--index-jobs` (tests).
    program: Option<(std::path::PathBuf, Vec<String>)>,
}

impl Pool {
    /// Lets the idle workers go, and waits for them to leave.
    pub fn close(&self) {
        let idle = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        drop(idle);
    }
}

impl Launch for Pool {
    fn launch(&self, job: &IndexJob) -> std::io::Result<Box<dyn Indexer>> {
        // An idle worker may have died since (killed from outside): the next one.
        loop {
            let worker = self.idle.lock().ok().and_then(|mut v| v.pop());
            let Some(mut worker) = worker else { break };
            if worker.send(job).is_ok() {
                return Ok(Box::new(Run::new(worker, &self.idle)));
            }
        }
        let mut worker = Worker::start(self.program.as_ref())?;
        worker.send(job)?;
        Ok(Box::new(Run::new(worker, &self.idle)))
    }
}

/// One job in a worker.
struct Run {
    worker: Option<Worker>,
    pool: Arc<Mutex<Vec<Worker>>>,
    /// The worker's processor time when the job began.
    cpu_before: Duration,
    /// The outcome the worker answered (the worker back in the pool since).
    answered: Option<ExitStatus>,
    /// The reason of a failure the worker answered, or of its death.
    failure: Option<String>,
}

impl Run {
    fn new(worker: Worker, pool: &Arc<Mutex<Vec<Worker>>>) -> Run {
        let cpu_before = crate::sys::proc_stat(worker.child.id())
            .map(|s| s.cpu)
            .unwrap_or_default();
        Run {
            worker: Some(worker),
            pool: pool.clone(),
            cpu_before,
            answered: None,
            failure: None,
        }
    }

    /// The job is over and the worker can take another: back to the pool, unless it
    /// has run its share.
    fn release(&mut self) {
        if let Some(w) = self.worker.take() {
            if w.jobs < JOBS_PER_WORKER && !w.leaving {
                if let Ok(mut idle) = self.pool.lock() {
                    idle.push(w);
                }
            }
        }
    }
}

impl Indexer for Run {
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        use std::os::unix::process::ExitStatusExt;
        if let Some(status) = self.answered {
            return Ok(Some(status));
        }
        let Some(w) = self.worker.as_mut() else {
            return Ok(None);
        };
        match w.answers.try_recv() {
            Ok(answer) => {
                let answer = match answer.strip_prefix(LAST) {
                    Some(rest) => {
                        w.leaving = true;
                        rest
                    }
                    None => &answer,
                };
                let status = if answer == OK {
                    ExitStatus::from_raw(0)
                } else {
                    let reason = answer.strip_prefix(FAILED).unwrap_or(answer);
                    self.failure = Some(reason.to_owned());
                    ExitStatus::from_raw(1 << 8)
                };
                self.answered = Some(status);
                self.release();
                Ok(Some(status))
            }
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            // Its output ended: it died (or is dying) in this job.
            Err(mpsc::TryRecvError::Disconnected) => {
                let Some(status) = w.child.try_wait()? else {
                    return Ok(None);
                };
                // Its reason, all of what it wrote (the reader may lag behind).
                let _ = w.stderr_open.recv_timeout(STDERR_WAIT);
                let said = w.stderr.lock().map(|s| first_line(&s)).unwrap_or_default();
                if status.success() {
                    // Gone without a word about the job: not indexed.
                    self.failure = Some(if said.is_empty() {
                        "indexer left without answering".to_owned()
                    } else {
                        said
                    });
                    return Ok(Some(ExitStatus::from_raw(1 << 8)));
                }
                self.failure = (!said.is_empty()).then_some(said);
                Ok(Some(status))
            }
        }
    }

    fn kill(&mut self) {
        if let Some(w) = self.worker.as_mut() {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }

    fn cpu_time(&self) -> Option<Duration> {
        let w = self.worker.as_ref()?;
        let now = crate::sys::proc_stat(w.child.id())?.cpu;
        Some(now.saturating_sub(self.cpu_before))
    }

    fn message(&mut self) -> String {
        self.failure.clone().unwrap_or_default()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // A worker that gave no answer (it died, or was killed) is not used again.
        if let Some(mut w) = self.worker.take() {
            let _ = w.child.kill();
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_owned()
}

/// `nccrs --index-jobs`: the worker. Indexes each job read from standard input, one
/// line of JSON each, and answers each with one line on standard output; leaves when
/// its input ends or its parent is gone.
pub fn run_worker() -> i32 {
    if let Some(parent) = settings::index_parent() {
        if std::os::unix::process::parent_id() != parent {
            eprintln!("the process that started the indexer is gone");
            return 1;
        }
        // A worker nobody watches any more could run forever, even in a hung parse.
        // (Not the kernel's parent-death signal: that follows the thread which
        // started the worker, one of the drainer's short-lived job threads.)
        let watch = std::thread::Builder::new().spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            if std::os::unix::process::parent_id() != parent {
                crate::sys::exit_now(1);
            }
        });
        if let Err(e) = watch {
            eprintln!("cannot watch the indexer's parent: {e}");
            return 1;
        }
    }
    // What identifies the parser in the facts cache is what this process loads, for
    // every job it takes.
    crate::cache::pin_identity();
    crate::sys::keep_heap();
    // The answers have the standard output to themselves: whatever else prints there
    // goes nowhere.
    let mut answers = match crate::sys::take_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot set up the indexer's output: {e}");
            return 1;
        }
    };
    // One thread for every job: libclang is loaded per thread.
    let worker = crate::job::on_deep_stack(move || {
        let mut input = std::io::stdin().lock();
        loop {
            // A worker that waits gives back the memory its parses kept
            // (`keep_heap`): the compiles may want it.
            if !crate::sys::input_within(IDLE) {
                crate::sys::release_heap();
            }
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) => return 0,
                Ok(_) => {}
                Err(_) => return 1,
            }
            let outcome = match serde_json::from_str::<IndexJob>(&line) {
                Err(e) => Err(format!("bad job description: {e}")),
                Ok(job) => match std::env::set_current_dir(&job.directory) {
                    Err(e) => Err(format!("{}: {e}", job.directory.display())),
                    // A panic ends the thread, and the worker with it: what it
                    // left behind is not to be trusted with another job, and the
                    // drainer records this one.
                    Ok(()) => crate::job::index(&job),
                },
            };
            // Idle, it holds no build's directory.
            let _ = std::env::set_current_dir("/");
            let last = if crate::clang::crashed() { LAST } else { "" };
            let answer = match outcome {
                Ok(()) => format!("{last}{OK}\n"),
                Err(reason) => format!("{last}{FAILED}{}\n", reason.replace('\n', " ")),
            };
            if answers
                .write_all(answer.as_bytes())
                .and_then(|()| answers.flush())
                .is_err()
            {
                return 1;
            }
            if !last.is_empty() {
                return 0;
            }
        }
    });
    match worker {
        Ok(Ok(code)) => code,
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::supervise::{finish, Limit, Report};
    use std::path::Path;

    /// A pool whose workers run `script` in `sh`: one line read a job.
    fn pool(script: &str) -> Pool {
        Pool {
            program: Some(("sh".into(), vec!["-c".into(), script.into()])),
            ..Pool::default()
        }
    }

    /// A job of `a.c` into `dir/t.db`, not pending.
    fn job(dir: &Path) -> IndexJob {
        let mut j = crate::supervise::tests::job(dir, dir.join("t.db"));
        j.pending = None;
        j
    }

    /// Runs one job in `pool` under supervision: (indexed, the unit's failure reason
    /// as recorded, the warning).
    fn run(pool: &Pool, dir: &Path, limit: Duration) -> (bool, String, String) {
        let j = job(dir);
        let warnings = dir.join("warnings");
        let _ = std::fs::remove_file(&warnings);
        let _ = std::fs::remove_file(&j.db);
        let ok = match pool.launch(&j) {
            Ok(run) => finish(
                &j,
                run,
                Limit::from_now(limit, None),
                Report::File(&warnings),
            ),
            Err(e) => panic!("{e}"),
        };
        let reason = schema::Db::open_readonly(&j.db)
            .ok()
            .and_then(|db| db.tus().ok())
            .and_then(|t| t.into_iter().next())
            .and_then(|t| t.reason)
            .unwrap_or_default();
        (
            ok,
            reason,
            std::fs::read_to_string(&warnings).unwrap_or_default(),
        )
    }

    const AMPLE: Duration = Duration::from_secs(30);

    #[test]
    fn a_worker_takes_job_after_job_and_its_answers_are_each_jobs_own() {
        let dir = tempfile::tempdir().unwrap();
        // Each answer names the worker's process and how many jobs it had.
        let p = pool(r#"n=0; while read l; do n=$((n+1)); printf 'failed\t%s %s\n' $$ $n; done"#);
        let (ok, first, warning) = run(&p, dir.path(), AMPLE);
        assert!(!ok);
        assert!(warning.contains("a.c: not indexed: "), "{warning}");
        let (pid, n) = first.split_once(' ').unwrap();
        assert_eq!(n, "1");
        let (_, second, _) = run(&p, dir.path(), AMPLE);
        assert_eq!(second, format!("{pid} 2"));
        // `ok` is indexed.
        let p = pool("while read l; do echo ok; done");
        assert!(run(&p, dir.path(), AMPLE).0);
        assert!(run(&p, dir.path(), AMPLE).0);
        p.close();
    }

    #[test]
    fn a_worker_that_says_it_leaves_is_not_used_again() {
        let dir = tempfile::tempdir().unwrap();
        // (It would take another job: the pool must not give it one.)
        let p = pool(r#"while read l; do printf 'last\tfailed\t%s\n' $$; done"#);
        let (_, first, _) = run(&p, dir.path(), AMPLE);
        let (_, second, _) = run(&p, dir.path(), AMPLE);
        assert!(!first.is_empty() && !second.is_empty());
        assert_ne!(first, second);
    }

    #[test]
    fn a_worker_gone_without_an_answer_costs_its_job_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        // Dies with a word on its standard error...
        let p = pool("read l; echo 'LLVM ERROR: out of luck' >&2; exit 1");
        let (ok, reason, warning) = run(&p, dir.path(), AMPLE);
        assert!(!ok);
        assert_eq!(reason, "LLVM ERROR: out of luck");
        assert!(
            warning.contains("not indexed: LLVM ERROR: out of luck"),
            "{warning}"
        );
        // ... without one ...
        let p = pool("read l; kill -9 $$");
        let (ok, reason, _) = run(&p, dir.path(), AMPLE);
        assert!(!ok);
        assert_eq!(reason, "indexer killed by signal 9");
        // ... or leaves as if all were well: not indexed either.
        let p = pool("read l; exit 0");
        let (ok, reason, _) = run(&p, dir.path(), AMPLE);
        assert!(!ok);
        assert_eq!(reason, "indexer left without answering");
        // The next job has a worker of its own.
        let p = pool("read l; exit 0");
        assert!(!run(&p, dir.path(), AMPLE).0);
        assert!(!run(&p, dir.path(), AMPLE).0);
    }

    #[test]
    fn a_hung_worker_is_killed_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = pool("read l; exec sleep 60");
        let (ok, reason, _) = run(&p, dir.path(), Duration::from_millis(300));
        assert!(!ok);
        assert_eq!(reason, "indexer timed out");
        assert!(p.idle.lock().unwrap().is_empty());
    }
}
