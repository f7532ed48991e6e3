//! Indexers that live across jobs: `nccrs --index-jobs`, started by the background
//! drainer, one per job it runs at once, each indexing job after job with libclang
//! loaded once (loading it and starting a process cost some 40–60 ms of processor
//! time a unit, a tenth of an indexing).
//!
//! The drainer's side is a [`Pool`] of idle workers: a job takes one (or starts one),
//! writes the job on its standard input as one line of JSON, and reads one line back
//! on its standard output: `ok`, or `failed`, a tab and the reason. A worker that
//! answered goes back to the pool. Supervision is the same as for a process per job
//! ([`crate::supervise`]): a worker that crashes, hangs or runs past the job's limit
//! is killed and costs that job alone (one warning, the unit recorded as failed); the
//! next job starts a new worker. A worker leaves when its standard input ends, when the
//! drainer is gone, and after [`JOBS_PER_WORKER`] jobs (what a parse may leak stays
//! bounded).

use std::io::{BufRead, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::job::IndexJob;
use crate::settings;
use crate::supervise::{Indexer, Launch};

/// How many jobs a worker runs before it is replaced.
pub const JOBS_PER_WORKER: usize = 64;

/// The most of a worker's standard error kept (the first line of a job's is its
/// failure's reason when it died).
const STDERR_KEPT: usize = 64 * 1024;

/// What a worker answers for a job.
const OK: &str = "ok";
const FAILED: &str = "failed\t";

/// A running worker, as the drainer holds it.
struct Worker {
    child: Child,
    /// Closed to tell the worker to leave.
    stdin: Option<ChildStdin>,
    /// Its answers, one line each; disconnected when its standard output ends.
    answers: mpsc::Receiver<String>,
    /// What it wrote on its standard error since its current job began.
    stderr: Arc<Mutex<String>>,
    jobs: usize,
}

impl Worker {
    fn start(job: &IndexJob) -> std::io::Result<Worker> {
        let me = std::env::current_exe()?;
        let mut child = Command::new(me)
            .arg("--index-jobs")
            .env(settings::INDEX_PARENT, std::process::id().to_string())
            .env(settings::ACTIVE, "1")
            .current_dir(&job.directory)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let (tx, answers) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::Builder::new().spawn(move || {
                for line in std::io::BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let kept = stderr.clone();
            std::thread::Builder::new().spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = err.read(&mut buf) {
                    if let Ok(mut s) = kept.lock() {
                        if s.len() < STDERR_KEPT {
                            s.push_str(&String::from_utf8_lossy(&buf[..n]));
                        }
                    }
                }
            })?;
        }
        Ok(Worker {
            child,
            stdin,
            answers,
            stderr,
            jobs: 0,
        })
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
        let mut worker = Worker::start(job)?;
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
    /// The reason of a failure the worker answered.
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
            failure: None,
        }
    }

    /// The job is over and the worker can take another: back to the pool, unless it
    /// has run its share.
    fn release(&mut self) {
        if let Some(w) = self.worker.take() {
            if w.jobs < JOBS_PER_WORKER {
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
        let Some(w) = self.worker.as_mut() else {
            return Ok(Some(ExitStatus::from_raw(0)));
        };
        match w.answers.try_recv() {
            Ok(answer) => {
                let status = if answer == OK {
                    0
                } else {
                    let reason = answer.strip_prefix(FAILED).unwrap_or(&answer);
                    self.failure = Some(reason.to_owned());
                    1 << 8
                };
                self.release();
                Ok(Some(ExitStatus::from_raw(status)))
            }
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            // Its output ended: it died (or is dying) in this job.
            Err(mpsc::TryRecvError::Disconnected) => w.child.try_wait(),
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
        if let Some(f) = &self.failure {
            return f.clone();
        }
        self.worker
            .as_ref()
            .and_then(|w| w.stderr.lock().ok().map(|s| first_line(&s)))
            .unwrap_or_default()
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
    let parent: Option<u32> = std::env::var(settings::INDEX_PARENT)
        .ok()
        .and_then(|p| p.parse().ok());
    if let Some(parent) = parent {
        if std::os::unix::process::parent_id() != parent {
            eprintln!("the process that started the indexer is gone");
            return 1;
        }
        // A worker nobody watches any more could run forever, even in a hung parse.
        let _ = std::thread::Builder::new().spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                crate::sys::exit_now(1);
            }
        });
    }
    // The answers have the standard output to themselves: whatever else prints there
    // goes nowhere.
    let mut answers = match crate::sys::take_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot set up the indexer's output: {e}");
            return 1;
        }
    };
    // One thread for every job (libclang is loaded per thread), with room for the
    // deep visits of deep ASTs.
    let worker = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return 0 };
                let outcome = match serde_json::from_str::<IndexJob>(&line) {
                    Err(e) => Err(format!("bad job description: {e}")),
                    Ok(job) => match std::env::set_current_dir(&job.directory) {
                        Err(e) => Err(format!("{}: {e}", job.directory.display())),
                        Ok(()) => {
                            let indexed =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    crate::job::index(&job)
                                }));
                            match indexed {
                                Ok(outcome) => outcome,
                                // What a panic left behind is not to be trusted with
                                // another job: the drainer records this one.
                                Err(_) => {
                                    eprintln!("indexer panicked");
                                    return 1;
                                }
                            }
                        }
                    },
                };
                let answer = match outcome {
                    Ok(()) => format!("{OK}\n"),
                    Err(reason) => format!("{FAILED}{}\n", reason.replace('\n', " ")),
                };
                if answers
                    .write_all(answer.as_bytes())
                    .and_then(|()| answers.flush())
                    .is_err()
                {
                    return 1;
                }
            }
            0
        });
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => 1,
        Err(e) => {
            eprintln!("cannot start the indexer thread: {e}");
            1
        }
    }
}
