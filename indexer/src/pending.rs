//! Jobs whose facts are not recorded yet, so that an interrupted build loses nothing.
//!
//! Before the real compiler starts, the wrapper writes its job to
//! `<database>.pending/<pid>-<start>.job` (a plain file: no database lock is taken on
//! the build's path). Whoever records the job's outcome — facts or a failure — removes
//! the file. A file whose owner died without doing so (`kill -9` of the build) is an
//! *orphan*: a later wrapper, after its own job, claims it by renaming it to
//! `<name>.<pid>-<start>` and indexes it; `nccrs --finish` indexes every orphan at once.
//! make does not compile an object again once it exists, so without this a unit whose
//! compile finished but whose indexer was killed would stay missing.
//!
//! With `NCCRS_INDEX=background` this directory is also the queue: the wrapper becomes
//! the compiler, so its job turns into an orphan when the compile ends, and the
//! drainer ([`crate::drain`]) claims it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use schema::pending::dir;
use schema::pending::{COMPILED, INDEXED};

/// A directory with no job and no registration for this long has seen its build end:
/// the next registration starts the counters of [`schema::pending::Progress`] again.
/// (A build's compiles follow each other much faster than this, and its last job
/// leaves the directory empty only once it is indexed.)
const IDLE: Duration = Duration::from_secs(30);

/// Adds one to a counter of the pending directory.
fn count_one(dir: &Path, counter: &str) {
    if let Ok(mut f) = std::fs::File::options()
        .create(true)
        .append(true)
        .open(dir.join(counter))
    {
        let _ = f.write_all(b".");
    }
}

/// Counts a compile into `db`, starting the counters again when the last build into
/// it is over.
fn count_compile(db: &Path) {
    let dir = dir(db);
    let idle = std::fs::metadata(dir.join(COMPILED))
        .and_then(|m| m.modified())
        .map_or(true, |t| t.elapsed().unwrap_or_default() > IDLE);
    if idle && !any(db) {
        for counter in [COMPILED, INDEXED] {
            let _ = std::fs::File::create(dir.join(counter));
        }
    }
    count_one(&dir, COMPILED);
}

/// The state and times of process `pid` while it lives; `None` for a process that is
/// gone or a zombie.
fn live(pid: u32) -> Option<crate::sys::ProcStat> {
    crate::sys::proc_stat(pid).filter(|s| !matches!(s.state, 'Z' | 'X'))
}

/// A process named so that a recycled pid is not taken for it: pid and start time.
fn tag_of(pid: u32, stat: &crate::sys::ProcStat) -> String {
    format!("{pid}-{}", stat.start)
}

/// The tag of live process `pid`.
fn process_tag(pid: u32) -> Option<String> {
    live(pid).map(|s| tag_of(pid, &s))
}

fn my_tag() -> String {
    let pid = std::process::id();
    process_tag(pid).unwrap_or_else(|| format!("{pid}-0"))
}

/// The state and times of the live process that `tag` names.
fn live_stat(tag: &str) -> Option<crate::sys::ProcStat> {
    let pid = tag.split('-').next()?.parse::<u32>().ok()?;
    live(pid).filter(|s| tag_of(pid, s) == tag)
}

fn is_alive(tag: &str) -> bool {
    live_stat(tag).is_some()
}

/// Writes a job (its bytes) as pending for database `db`, owned by this process;
/// returns the file that marks it. `None` when the directory cannot be written (the
/// database cannot be either; indexing will say so).
pub fn register(db: &Path, job: &[u8]) -> Option<PathBuf> {
    let dir = dir(db);
    std::fs::create_dir_all(&dir).ok()?;
    let tag = my_tag();
    let path = dir.join(format!("{tag}.job"));
    let tmp = dir.join(format!("{tag}.tmp"));
    count_compile(db);
    let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(job));
    if written.is_err() || std::fs::rename(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return None;
    }
    Some(path)
}

/// Marks a job as recorded (counted once, by whoever removes its file).
pub fn done(marker: Option<&Path>) {
    if let Some(p) = marker {
        if std::fs::remove_file(p).is_ok() {
            if let Some(dir) = p.parent() {
                count_one(dir, INDEXED);
            }
        }
    }
}

/// Whether a job's outcome is still unrecorded.
pub fn is_pending(marker: Option<&Path>) -> bool {
    marker.is_some_and(Path::exists)
}

/// Whether any job of database `db` is pending: compiling, waiting for an indexer, or
/// being indexed.
pub fn any(db: &Path) -> bool {
    schema::pending::count(db) > 0
}

/// A compile running longer than this is not counted as running: one that hangs, or a
/// compiler that a killed make left behind, does not hold the indexing back for ever.
/// (The largest kernel units compile in well under a minute.)
const STALE_COMPILE: Duration = Duration::from_secs(600);

/// The compiles into a database that run now, counted poll after poll: jobs
/// registered by a wrapper that is still alive (it became the compiler), not stopped
/// (a build suspended with Ctrl-Z holds no processor), not running for longer than
/// `STALE_COMPILE` (ten minutes), and claimed by nobody yet. A tag names one process
/// only, so the owners found gone are remembered and each count looks at `/proc`
/// only for the jobs of compiles, not for every job a backlog holds.
#[derive(Default)]
pub struct Compiles {
    gone: std::collections::HashSet<String>,
}

impl Compiles {
    pub fn running(&mut self, db: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir(db)) else {
            return 0;
        };
        let now = crate::sys::uptime_ticks();
        let stale = STALE_COMPILE.as_secs() * 100;
        let mut running = 0;
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(tag) = name.to_str().and_then(|n| n.strip_suffix(".job")) else {
                continue;
            };
            if self.gone.contains(tag) {
                continue;
            }
            match live_stat(tag) {
                None => {
                    self.gone.insert(tag.to_owned());
                }
                Some(s) => {
                    let young = now.is_none_or(|now| now.saturating_sub(s.start) < stale);
                    if young && !matches!(s.state, 'T' | 't') {
                        running += 1;
                    }
                }
            }
        }
        running
    }
}

/// The owner of a pending file: the last process tag in its name.
fn owner(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".job").unwrap_or(name);
    let (_, last) = stem.rsplit_once('.').unwrap_or(("", stem));
    Some(last)
}

/// A job claimed from the queue.
pub struct Claimed {
    /// The job's file, renamed to name this process as its owner.
    pub marker: PathBuf,
    pub job: Vec<u8>,
    /// Nobody had claimed the job before: its compile's own indexing, in the
    /// background (the wrapper registered it and became the compiler).
    pub first: bool,
}

/// Claims up to `max` orphans of database `db`: each is renamed to name this process
/// as its owner (only one claimer can win a rename) and returned with its bytes.
pub fn claim_orphans(db: &Path, max: usize) -> Vec<Claimed> {
    let dir = dir(db);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let me = my_tag();
    let mut claimed = Vec::new();
    for e in entries.flatten() {
        if claimed.len() >= max {
            break;
        }
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".tmp") {
            // A registration cut short before its rename: nothing was compiled yet.
            if owner(name.trim_end_matches(".tmp")).is_some_and(|o| !is_alive(o)) {
                let _ = std::fs::remove_file(e.path());
            }
            continue;
        }
        if !schema::pending::is_job(name) || owner(name).is_none_or(is_alive) {
            continue;
        }
        let base = name.split_once(".job").map_or(name, |(b, _)| b);
        let target = dir.join(format!("{base}.job.{me}"));
        if std::fs::rename(e.path(), &target).is_err() {
            continue; // Someone else claimed it first.
        }
        match std::fs::read(&target) {
            Ok(job) => claimed.push(Claimed {
                marker: target,
                job,
                first: name.ends_with(".job"),
            }),
            Err(_) => done(Some(&target)),
        }
    }
    claimed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_from_names() {
        assert_eq!(owner("12-345.job"), Some("12-345"));
        assert_eq!(owner("12-345.job.67-890"), Some("67-890"));
        assert!(is_alive(&my_tag()));
        assert!(!is_alive("999999999-1"));
        assert!(!is_alive(&format!("{}-1", std::process::id())));
    }

    #[test]
    fn compiles_running_are_jobs_of_live_wrappers_not_claimed() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let db = scratch.path().join("x.db");
        let mut compiles = Compiles::default();
        let mut compiling = |db: &Path| compiles.running(db);
        assert_eq!(compiling(&db), 0, "no directory yet");
        register(&db, b"job").expect("registered");
        assert_eq!(compiling(&db), 1);
        let dir = dir(&db);
        // A compile that ended, and a job a drainer claimed: neither compiles.
        std::fs::write(dir.join("999999999-1.job"), b"job").expect("write");
        std::fs::write(dir.join(format!("999999998-1.job.{}", my_tag())), b"job").expect("write");
        assert_eq!(compiling(&db), 1);
        assert_eq!(schema::pending::count(&db), 3);
        // A compile stopped (the build suspended) holds no processor.
        let mut stopped = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep");
        let tag = process_tag(stopped.id()).expect("alive");
        std::fs::write(dir.join(format!("{tag}.job")), b"job").expect("write");
        assert_eq!(compiling(&db), 2);
        let stop = std::process::Command::new("kill")
            .args(["-STOP", &stopped.id().to_string()])
            .status();
        assert!(stop.is_ok_and(|s| s.success()));
        for _ in 0..100 {
            if live_stat(&tag).is_some_and(|s| s.state == 'T') {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(compiling(&db), 1);
        stopped.kill().expect("kill");
        stopped.wait().expect("wait");
    }
}
