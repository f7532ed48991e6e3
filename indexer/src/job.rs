//! The indexing child process: parses the translation units of one compiler call with
//! libclang and writes their facts. It runs apart from the wrapper, so that a crash or
//! a hang in libclang only costs the facts of that call, never the build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use schema::{Db, Trees, TuFacts, TuRecord, TuStatus};
use serde::{Deserialize, Serialize};

use crate::args::{classify, Compile, Invocation, Unit};
use crate::cache::{CompileInputs, ReadFiles};
use crate::clang::Index;
use crate::extract::blank::Blank;
use crate::extract::headers::Config;
use crate::extract::Reuse;
use crate::paths::{absolute, stored_path, PathMapper};

/// What the wrapper hands to the child on its standard input, as JSON. File names and
/// arguments keep their exact bytes, UTF-8 or not.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexJob {
    /// The database to write.
    #[serde(with = "wire::path")]
    pub db: PathBuf,
    /// The compiler's working directory.
    #[serde(with = "wire::path")]
    pub directory: PathBuf,
    /// The compiler's arguments, without the program name (`@file`s expanded).
    #[serde(with = "wire::os_strings")]
    pub args: Vec<OsString>,
    /// The whole command as the build ran it (the real compiler first).
    pub command: Vec<String>,
    /// The kernel's source tree, when the compile is part of a kernel build.
    #[serde(with = "wire::opt_path")]
    pub srctree: Option<PathBuf>,
    /// The kernel's build tree.
    #[serde(with = "wire::opt_path")]
    pub objtree: Option<PathBuf>,
    /// The external module's directory (`make M=DIR`).
    #[serde(default, with = "wire::opt_path")]
    pub extmod: Option<PathBuf>,
    /// The file that marks this job as pending until its outcome is recorded.
    #[serde(default, with = "wire::opt_path")]
    pub pending: Option<PathBuf>,
    /// Taken over from the queue after its first indexing did not end (not part of
    /// the job as written).
    #[serde(skip)]
    pub retry: bool,
    /// Registered to be indexed after the compile, by the drainer.
    #[serde(default)]
    pub background: bool,
    /// `NCCRS_INDEX_TIMEOUT` of the build, in seconds, for whoever indexes the job.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// The build's facts cache (`NCCRS_CACHE_DIR`, `NCCRS_CACHE_SIZE` of the compile,
    /// not of whoever indexes it); none when it is off.
    #[serde(default, with = "wire::opt_path")]
    pub cache_dir: Option<PathBuf>,
    #[serde(default)]
    pub cache_size: u64,
}

impl IndexJob {
    /// Writes the job to its database's pending directory; the file that marks it.
    pub fn register(&self) -> Option<PathBuf> {
        crate::pending::register(&self.db, &serde_json::to_vec(self).ok()?)
    }

    /// Takes over up to `max` jobs of `db` whose owner is gone (see
    /// [`crate::pending`]); a job that cannot be read is dropped.
    pub fn claim_orphans(db: &Path, max: usize) -> Vec<IndexJob> {
        crate::pending::claim_orphans(db, max)
            .into_iter()
            .filter_map(|c| {
                let Ok(mut job) = serde_json::from_slice::<IndexJob>(&c.job) else {
                    crate::pending::done(Some(&c.marker));
                    return None;
                };
                // A background job's first claim is its compile's own indexing.
                job.retry = !(job.background && c.first);
                job.pending = Some(c.marker);
                Some(job)
            })
            .collect()
    }

    /// The compile this job indexes, if its command line is one.
    pub fn compile(&self) -> Option<Compile> {
        match classify(&self.args) {
            Invocation::Compile(job) => Some(job),
            Invocation::Assemble(_) | Invocation::PassThrough(_) => None,
        }
    }

    pub fn units(&self) -> Vec<Unit> {
        match classify(&self.args) {
            Invocation::Compile(c) | Invocation::Assemble(c) => c.units,
            Invocation::PassThrough(_) => Vec::new(),
        }
    }

    /// The record of `unit` with everything but its outcome filled in.
    pub fn record(
        &self,
        unit: &Unit,
        paths: &mut PathMapper,
        status: TuStatus,
        reason: Option<String>,
    ) -> TuRecord {
        let object = absolute(&self.directory, Path::new(&unit.object));
        TuRecord {
            object: stored_path(object.as_os_str()),
            source: Some(paths.file(&unit.source)),
            directory: stored_path(self.directory.as_os_str()),
            command: self.command.clone(),
            module: crate::flags::builds_module(&self.args),
            modname: crate::flags::module_name(&self.args),
            status,
            reason,
            facts: None,
        }
    }

    pub fn path_mapper(&self) -> PathMapper {
        PathMapper::new(
            &self.directory,
            self.srctree.as_deref(),
            self.objtree.as_deref(),
            self.extmod.as_deref(),
        )
    }

    /// The trees this job's paths are relative to, as the database records them.
    pub fn trees(&self) -> Trees {
        let abs = |t: &Option<PathBuf>| {
            t.as_ref()
                .map(|t| stored_path(absolute(&self.directory, t).as_os_str()))
        };
        Trees {
            srctree: abs(&self.srctree),
            objtree: abs(&self.objtree),
        }
    }

    /// The facts cache this job's build uses, if any.
    pub fn cache(&self) -> Option<crate::cache::Cache> {
        let dir = self.cache_dir.clone()?;
        (self.cache_size > 0).then(|| crate::cache::Cache::new(dir, self.cache_size))
    }

    /// What the facts cache's key takes from this compile.
    pub fn inputs(&self) -> CompileInputs<'_> {
        CompileInputs {
            directory: &self.directory,
            trees: [
                self.srctree.as_deref(),
                self.objtree.as_deref(),
                self.extmod.as_deref(),
            ],
            compiler: self.command.first().map_or("", String::as_str),
            args: &self.args,
        }
    }

    /// Whether the database holds every unit of this job as the facts cache has it
    /// for the inputs it has today (`make clean`, a header touched but not changed):
    /// then there is nothing to index or write. Reads only; any doubt is a no, and
    /// the indexer decides.
    pub fn recorded_already(&self) -> bool {
        let (Some(cache), Some(compile)) = (self.cache(), self.compile()) else {
            return false;
        };
        let started = Instant::now();
        let Ok(db) = Db::open_readonly(&self.db) else {
            return false;
        };
        let trees = self.trees();
        let mut paths = self.path_mapper();
        let recorded = !compile.units.is_empty()
            && compile.units.iter().all(|unit| {
                let Some(key) = cache.input_key(&self.inputs(), unit, &mut paths) else {
                    return false;
                };
                let Some(name) = cache.find(&key, &trees) else {
                    return false;
                };
                let mut rec = self.record(unit, &mut paths, TuStatus::Ok, None);
                rec.facts = Some(name.to_string());
                db.is_recorded(&rec).unwrap_or(false)
            });
        if recorded {
            let n = compile.units.len();
            Profile {
                cache: started.elapsed(),
                hits: n,
                unchanged: n,
                ..Profile::default()
            }
            .save(&compile.units, &[]);
        }
        recorded
    }

    /// Records every unit as failed, keeping what earlier builds recorded for it.
    /// Beside a compile it waits a few seconds at most for the database, since the
    /// build is waiting for this; in the background, where the writer holding the
    /// lock may be an indexer at nice 19 that a busy machine starves, a minute.
    pub fn record_failure(&self, reason: &str) -> Result<()> {
        let mut paths = self.path_mapper();
        let wait = if self.background {
            Duration::from_secs(60)
        } else {
            Duration::from_secs(5)
        };
        let mut db = Db::open_writer_waiting(&self.db, wait)?;
        db.claim_trees(&self.trees())?;
        for unit in self.units() {
            let rec = self.record(&unit, &mut paths, TuStatus::Failed, Some(reason.to_owned()));
            db.write_tu_record(&rec)?;
        }
        crate::pending::done(self.pending.as_deref());
        Ok(())
    }
}

/// Byte-exact JSON for OS strings: a string when it is UTF-8, else an array of bytes.
mod wire {
    use std::ffi::OsString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::PathBuf;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Text(String),
        Bytes(Vec<u8>),
    }

    fn to_wire(s: &std::ffi::OsStr) -> Wire {
        match s.to_str() {
            Some(t) => Wire::Text(t.to_owned()),
            None => Wire::Bytes(s.as_bytes().to_vec()),
        }
    }

    fn from_wire(w: Wire) -> OsString {
        match w {
            Wire::Text(t) => OsString::from(t),
            Wire::Bytes(b) => OsString::from_vec(b),
        }
    }

    pub mod path {
        use super::*;
        pub fn serialize<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
            to_wire(p.as_os_str()).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
            Wire::deserialize(d).map(|w| PathBuf::from(from_wire(w)))
        }
    }

    pub mod opt_path {
        use super::*;
        pub fn serialize<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
            p.as_deref().map(|p| to_wire(p.as_os_str())).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
            Option::<Wire>::deserialize(d).map(|w| w.map(|w| PathBuf::from(from_wire(w))))
        }
    }

    pub mod os_strings {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[OsString], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|a| to_wire(a)))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OsString>, D::Error> {
            Vec::<Wire>::deserialize(d).map(|v| v.into_iter().map(from_wire).collect())
        }
    }
}

/// clang's resource directory (its own `stddef.h`, `stdarg.h`, ...), found the same way
/// whatever the current directory: `NCCRS_CLANG_RESOURCE_DIR`, else the directory of
/// the libclang version in use, else what `clang-N -print-resource-dir` says.
pub fn resource_dir() -> Result<String> {
    if let Some(d) = std::env::var_os(crate::settings::CLANG_RESOURCE_DIR) {
        return Ok(d.to_string_lossy().into_owned());
    }
    let version = crate::clang::version();
    let major: String = version
        .split("version ")
        .nth(1)
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let ok = |d: &Path| d.join("include/stddef.h").is_file();
    for d in [
        format!("/usr/lib/llvm-{major}/lib/clang/{major}"),
        format!("/usr/lib/clang/{major}"),
        format!("/usr/lib64/clang/{major}"),
        format!("/usr/local/lib/clang/{major}"),
    ] {
        if ok(Path::new(&d)) {
            return Ok(d);
        }
    }
    for clang in [format!("clang-{major}"), "clang".to_owned()] {
        if let Ok(out) = Command::new(&clang).arg("-print-resource-dir").output() {
            let d = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if out.status.success() && ok(Path::new(&d)) {
                return Ok(d);
            }
        }
    }
    Err(anyhow!(
        "cannot find clang's resource headers for {version}; set NCCRS_CLANG_RESOURCE_DIR"
    ))
}

/// `NCCRS_FAULT` in the child's environment (tests of process lifecycles): abort or
/// hang on a source whose path holds the pattern.
fn inject_fault(source: &str) {
    let Some(fault) = std::env::var(crate::settings::FAULT).ok() else {
        return;
    };
    let Some((what, pattern)) = fault.split_once(':') else {
        return;
    };
    if !source.contains(pattern) {
        return;
    }
    match what {
        "crash" => std::process::abort(),
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        _ => {}
    }
}

/// `nccrs --index-job`: the child. Reads the job from standard input, indexes it and
/// records the outcome; exits 0 when the facts are recorded, else 1 with the reason
/// on standard error (recorded as the unit's failure when the database allows).
pub fn run_child() -> i32 {
    // An indexer nobody watches any more could run forever: it dies with its parent.
    let parent = crate::settings::index_parent();
    if parent.is_some_and(|p| !crate::sys::die_with_parent(p)) {
        eprintln!("the process that started the indexer is gone");
        return 1;
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut input) {
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
    match on_deep_stack(move || index(&job)) {
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

/// Runs `f` on a thread of its own with room for the deep visits of deep ASTs, and
/// waits for it: what it gave, or whether it panicked, once it could start.
pub fn on_deep_stack<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<std::thread::Result<T>> {
    let thread = std::thread::Builder::new().stack_size(512 << 20).spawn(f)?;
    Ok(thread.join())
}

/// Indexes `job` on this thread (which needs room for deep visits); when its facts are
/// not recorded, records the failure if the database itself is not the problem, and
/// gives its reason.
pub fn index(job: &IndexJob) -> std::result::Result<(), String> {
    run(job).map_err(|e| {
        let msg = format!("{e:#}");
        let _ = job.record_failure(&msg);
        msg
    })
}

/// How long a writer tries again when SQLite says "database is locked" without
/// waiting for the lock, as it does in some states (a writer that died, a database
/// being set up by another writer); the wait for a lock itself is the schema's.
const BUSY_RETRIES: Duration = Duration::from_secs(60);

/// A writer of `job`'s database that holds this build's trees (another build's
/// database is refused).
fn writer(job: &IndexJob) -> Result<Db> {
    let deadline = Instant::now() + BUSY_RETRIES;
    loop {
        let opened = Db::open_writer(&job.db).and_then(|mut db| {
            db.claim_trees(&job.trees())?;
            Ok(db)
        });
        match opened {
            Err(e) if e.is_busy() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return Ok(other?),
        }
    }
}

/// Parses and records every unit of `job`. Runs in the child process.
pub fn run(job: &IndexJob) -> Result<()> {
    let compile = match classify(&job.args) {
        Invocation::Compile(compile) => compile,
        Invocation::Assemble(assemble) => {
            return assemble
                .units
                .first()
                .map_or(Ok(()), |unit| record_assembly(job, unit));
        }
        Invocation::PassThrough(_) => return Ok(()),
    };
    let units = &compile.units;
    let mut paths = job.path_mapper();
    // A database of another build is refused before anything is parsed.
    let mut db = writer(job)?;
    let mut profile = Profile::default();

    // What the facts cache holds is not parsed again, and what the database holds
    // already is not even read from the cache.
    let cache = job.cache();
    let trees = job.trees();
    let mut parser: Option<(Index, Vec<String>, Config)> = None;
    // Each unit's record, and its facts unless the database has them already, with
    // their chunk hashes when the extraction worked them out.
    let mut results: Vec<Indexed> = Vec::new();
    for unit in units {
        inject_fault(&unit.source.to_string_lossy());
        let t = Instant::now();
        let key = cache
            .as_ref()
            .and_then(|c| c.input_key(&job.inputs(), unit, &mut paths));
        if let (Some(cache), Some(key)) = (&cache, &key) {
            if let Some(name) = cache.find(key, &trees) {
                let mut rec = job.record(unit, &mut paths, TuStatus::Ok, None);
                rec.facts = Some(name.to_string());
                let facts = if db.is_recorded(&rec).unwrap_or(false) {
                    Some(None)
                } else {
                    cache.facts(&name).map(Some)
                };
                if let Some(facts) = facts {
                    profile.cache += t.elapsed();
                    profile.hits += 1;
                    results.push((rec, facts, None));
                    continue;
                }
            }
        }
        profile.cache += t.elapsed();

        // libclang is loaded for the first unit the cache did not have.
        if parser.is_none() {
            crate::clang::load()?;
            let mut args = parse_args(job, &compile)?;
            let mut config = Config::new(&args, &crate::cache::self_identity());
            if crate::settings::blanking() {
                config = config.blanking();
                args.extend(crate::extract::blank::ARGS.map(str::to_owned));
            }
            parser = Some((Index::new(), args, config));
        }
        let Some((index, args, config)) = &parser else {
            unreachable!("set just above")
        };
        // The headers kbuild says the compile read (with the facts cache, whose
        // header keys hash their text), handed to libclang as unsaved files: then
        // their text is what the parse read without asking libclang for it.
        let t = Instant::now();
        let read = match &cache {
            Some(_) => read_headers(&job.directory, unit, args),
            None => Vec::new(),
        };
        profile.reading += t.elapsed();
        // The bodies of the headers whose facts earlier units recorded are blanked
        // before the parse; when one of those headers reads otherwise here, the unit
        // is parsed again with that header whole.
        let blanks = match &cache {
            Some(cache) if crate::settings::blanking() => {
                blanks(cache, config, &read, &mut profile)
            }
            _ => Vec::new(),
        };
        let mut blanking: Vec<&Blank> = blanks.iter().collect();
        let mut name = None;
        let mut attempts = 0;
        let (facts, hashes, status, reason) = loop {
            attempts += 1;
            let t = Instant::now();
            let blanked_paths: std::collections::HashSet<&std::ffi::OsStr> =
                blanking.iter().map(|b| b.path.as_os_str()).collect();
            let files: Vec<(&std::ffi::OsStr, &[u8])> = blanking
                .iter()
                .map(|b| (b.path.as_os_str(), b.blanked.as_slice()))
                .chain(
                    read.iter()
                        .filter(|(p, _)| !blanked_paths.contains(p.as_os_str()))
                        .map(|(p, t)| (p.as_os_str(), t.as_slice())),
                )
                .collect();
            let parsed = index.parse_with_files(&unit.source, args, &files);
            profile.parse += t.elapsed();
            let t = Instant::now();
            let tu = match parsed {
                Ok(tu) => tu,
                Err(_) if !blanking.is_empty() => {
                    blanking.clear();
                    profile.reparsed += 1;
                    continue;
                }
                Err(e) => {
                    break (
                        TuFacts::default(),
                        None,
                        TuStatus::Failed,
                        Some(e.to_string()),
                    )
                }
            };
            // Header facts come from the facts cache: without it, all are extracted.
            let mut sources = cache.is_some().then(|| tu.sources_with(&files));
            let blanked = sources
                .as_mut()
                .map(|s| crate::extract::blank::restore(s, &blanking))
                .unwrap_or_default();
            let mut recorded = cache.as_ref();
            let reuse = recorded
                .as_mut()
                .zip(sources.as_ref())
                .map(|(c, sources)| Reuse {
                    sources,
                    config,
                    recorded: c,
                    blanked: &blanked,
                });
            let x = crate::extract::extract(&tu, &unit.source, &mut paths, reuse);
            profile.extract += t.elapsed();
            // Parsed again with the headers missed whole; the others are taken as
            // they were (a header's key does not depend on what was blanked), unless
            // that misses again.
            if let Some(missed) = x.unblank {
                // (A unit with errors takes no header: that says nothing of them.)
                if let Some(cache) = cache.as_ref().filter(|_| !tu.has_errors()) {
                    for b in blanking.iter().filter(|b| missed.contains(&b.path)) {
                        cache.header_read_otherwise(&b.key);
                    }
                }
                if attempts > 1 {
                    blanking.clear();
                } else {
                    blanking.retain(|b| !missed.contains(&b.path));
                }
                profile.reparsed += 1;
                continue;
            }
            profile.blanked += blanked.len();
            profile.headers_reused += x.reused;
            profile.keys += x.keying;
            profile.taking += x.taking;
            profile.headers_extracted += x.headers.len();
            let t = Instant::now();
            let hashes = schema::chunk_hashes(&x.facts, &x.known);
            if let (Some(cache), Some(key), Some(sources), TuStatus::Ok) =
                (&cache, &key, &sources, x.status)
            {
                let read = sources
                    .files
                    .iter()
                    .map(|f| (f.name(), sources.text.get(f).map(|t| sources.hash(t))));
                let dirs = crate::flags::include_dirs(args);
                if let Some(read) = ReadFiles::new(read, &dirs, &job.directory, &mut paths) {
                    // The chunks of the headers taken whose facts the unit left
                    // as recorded: those whose recorded hash the chunk hashes kept.
                    let taken: rustc_hash::FxHashMap<schema::FileIx, [u8; 32]> = x
                        .chunks
                        .iter()
                        .filter(|(o, _)| hashes.get(o) == x.known.get(o).map(|k| &k.hash))
                        .map(|(&o, &name)| (o, name))
                        .collect();
                    name = cache.store(key, read, &x.facts, &x.headers, &hashes, &taken);
                }
            }
            profile.store += t.elapsed();
            break (x.facts, Some(hashes), x.status, x.reason);
        };
        let mut rec = job.record(unit, &mut paths, status, reason);
        rec.facts = name.map(|n| n.to_string());
        results.push((rec, Some(facts), hashes));
    }

    let t = Instant::now();
    let mut written = 0;
    let deadline = Instant::now() + BUSY_RETRIES;
    while let Some((rec, facts, hashes)) = results.get(written) {
        let wrote = match facts {
            _ if rec.status == TuStatus::Failed => db.write_tu_record(rec),
            None => {
                profile.unchanged += 1;
                Ok(())
            }
            Some(facts) => db.write_tu_hashed(rec, facts, hashes.clone()).map(|stats| {
                profile.unchanged += usize::from(stats.unchanged);
            }),
        };
        match wrote {
            Ok(()) => written += 1,
            Err(e) if e.is_busy() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
                db = writer(job)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    crate::pending::done(job.pending.as_deref());
    profile.write = t.elapsed();
    profile.save(units, &results);
    Ok(())
}

/// The headers kbuild says the compile of `unit` read that the parse names as kbuild
/// spells them ([`spelled_alike`]), each file once (two names of one file would be
/// one file to libclang), with their text.
fn read_headers(
    directory: &Path,
    unit: &Unit,
    args: &[String],
) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let dirs = crate::flags::include_dirs(args);
    let mut seen = std::collections::HashSet::new();
    crate::kbuild::headers_read(directory, &unit.object)
        .into_iter()
        .filter(|p| spelled_alike(p, &dirs))
        .filter_map(|p| {
            let mut f = std::fs::File::open(&p).ok()?;
            let m = f.metadata().ok()?;
            if !seen.insert((m.dev(), m.ino())) {
                return None;
            }
            let mut text = Vec::with_capacity(m.len() as usize);
            f.read_to_end(&mut text).ok()?;
            Some((p.into_os_string(), text))
        })
        .collect()
}

/// Whether libclang names the header at `path` (as the compile's dependency output
/// spells it) the same way: an absolute path, without `.` or `..`, under an absolute
/// include directory spelled the same way. libclang names a file after the first
/// name it was looked up by, and an unsaved file is looked up first: under another
/// spelling (`arch/um/include/generated/asm/bug.h` for the parse's
/// `./arch/um/include/generated/asm/bug.h`) its source locations would name it
/// otherwise than the parse's lookups (the keys' `#include`s are matched by the
/// file's identity, not its name, but the spelling is what the parse would give).
fn spelled_alike(path: &Path, dirs: &[&str]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    // Absolute, and no segment empty, `.` or `..`.
    let plain = |p: &[u8]| {
        p.strip_prefix(b"/").is_some_and(|p| {
            p.split(|&b| b == b'/')
                .all(|s| !matches!(s, b"" | b"." | b".."))
        })
    };
    let path = path.as_os_str().as_bytes();
    plain(path)
        && dirs.iter().any(|d| {
            // (A directory's trailing `/` is not part of the names under it.)
            let d = d.as_bytes();
            let d = d.strip_suffix(b"/").filter(|d| !d.is_empty()).unwrap_or(d);
            plain(d) && path.starts_with(d) && path.get(d.len()) == Some(&b'/')
        })
}

/// The headers among those read (the headers kbuild says the compile read, with
/// their text) whose bodies an earlier unit recorded, with those bodies blanked.
fn blanks(
    cache: &crate::cache::Cache,
    config: &Config,
    read: &[(std::ffi::OsString, Vec<u8>)],
    profile: &mut Profile,
) -> Vec<Blank> {
    let t = Instant::now();
    let mut out = Vec::new();
    for (path, text) in read {
        let key = config.bodies_key(text);
        let Some(ranges) = cache.header_bodies(&key) else {
            continue;
        };
        if let Some(blanked) = crate::extract::blank::blank(text, &ranges) {
            out.push(Blank {
                key,
                path: path.clone(),
                text: text.clone(),
                blanked,
                ranges,
            });
        }
    }
    profile.blanking += t.elapsed();
    out
}

/// A unit's record; its facts, unless the database has them already; their chunk
/// hashes, when the extraction worked them out.
type Indexed = (
    TuRecord,
    Option<TuFacts>,
    Option<std::collections::BTreeMap<schema::FileIx, String>>,
);

/// libclang's arguments for `compile`, its resource headers and target included.
fn parse_args(job: &IndexJob, compile: &Compile) -> Result<Vec<String>> {
    let resource = resource_dir()?;
    let mut parse_args = crate::flags::parse_args(compile, &resource);
    let explicit_target = parse_args
        .args
        .iter()
        .any(|a| a == "-target" || a.starts_with("--target="));
    if let Some(t) = job
        .command
        .first()
        .and_then(|c| crate::flags::target_of_compiler(c))
    {
        if !explicit_target {
            parse_args.args.push(format!("--target={t}"));
        }
    }
    Ok(parse_args.args)
}

/// Where the child's time goes, appended to the file `NCCRS_PROFILE` names (for
/// benchmarks; one line per compiler call, the indexer's process id last).
#[derive(Default)]
struct Profile {
    /// Looking the units up in the facts cache.
    cache: Duration,
    /// Units the cache had.
    hits: usize,
    /// Units recorded already as they are: not written.
    unchanged: usize,
    parse: Duration,
    /// Reading the headers kbuild says the compile read, before the parse.
    reading: Duration,
    extract: Duration,
    /// Of `extract`: keying headers, and taking the facts of those recorded.
    keys: Duration,
    taking: Duration,
    /// Headers whose facts were taken from the facts cache, and those extracted
    /// under a key.
    headers_reused: usize,
    headers_extracted: usize,
    /// Storing the facts parsed in the facts cache.
    store: Duration,
    /// Finding and blanking the bodies of the headers recorded, before the parse.
    blanking: Duration,
    /// Headers parsed with their bodies blanked, and units parsed again whole.
    blanked: usize,
    reparsed: usize,
    write: Duration,
}

impl Profile {
    fn save(&self, units: &[Unit], results: &[Indexed]) {
        let Some(path) = std::env::var_os(crate::settings::PROFILE) else {
            return;
        };
        let facts: usize = results
            .iter()
            .flat_map(|(_, f, _)| f)
            .map(|f| f.definitions.len() + f.calls.len())
            .sum();
        let line = format!(
            "{}\tcache_ms={:.1}\tcache_hits={}\tparse_ms={:.1}\treading_ms={:.1}\textract_ms={:.1}\tkeys_ms={:.1}\ttaking_ms={:.1}\tstore_ms={:.1}\twrite_ms={:.1}\tunchanged={}\tfacts={facts}\theaders_reused={}\theaders_extracted={}\tblanking_ms={:.1}\tblanked={}\treparsed={}\tindexer={}\n",
            units
                .first()
                .map(|u| u.source.to_string_lossy().into_owned())
                .unwrap_or_default(),
            self.cache.as_secs_f64() * 1e3,
            self.hits,
            self.parse.as_secs_f64() * 1e3,
            self.reading.as_secs_f64() * 1e3,
            self.extract.as_secs_f64() * 1e3,
            self.keys.as_secs_f64() * 1e3,
            self.taking.as_secs_f64() * 1e3,
            self.store.as_secs_f64() * 1e3,
            self.write.as_secs_f64() * 1e3,
            self.unchanged,
            self.headers_reused,
            self.headers_extracted,
            self.blanking.as_secs_f64() * 1e3,
            self.blanked,
            self.reparsed,
            std::process::id(),
        );
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = std::io::Write::write_all(&mut f, line.as_bytes());
        }
    }
}

/// Records the calls of an assembled object: read once the assembler wrote it (the
/// drainer runs after the compile; beside it, the wrapper waits for the compile). An
/// object that is not there (the compile failed) records nothing.
fn record_assembly(job: &IndexJob, unit: &Unit) -> Result<()> {
    let object = crate::paths::absolute(&job.directory, Path::new(&unit.object));
    let Ok(bytes) = std::fs::read(&object) else {
        crate::pending::done(job.pending.as_deref());
        return Ok(());
    };
    let mut paths = job.path_mapper();
    let source_path = crate::paths::absolute(&job.directory, Path::new(&unit.source));
    let text = std::fs::read(&source_path).unwrap_or_default();
    let source = paths.file(&unit.source);
    let (facts, status, reason) = match crate::assembly::facts(&bytes, &text, source) {
        Ok(facts) => (facts, TuStatus::Ok, None),
        Err(e) => (TuFacts::default(), TuStatus::Failed, Some(e)),
    };
    let rec = job.record(unit, &mut paths, status, reason);
    let mut db = writer(job)?;
    db.write_tu(&rec, &facts)?;
    crate::pending::done(job.pending.as_deref());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_handed_over_only_under_the_name_the_parse_gives_it() {
        let dirs = ["/src/include", "./include", "/src/arch/um/include/"];
        let alike = |p: &str| spelled_alike(Path::new(p), &dirs);
        assert!(alike("/src/include/linux/fs.h"));
        assert!(alike("/src/arch/um/include/asm/page.h"));
        // Relative as the dependency output writes it, or outside the absolute
        // directories: the parse spells those `./include/...`, or relative to an
        // includer.
        assert!(!alike("include/generated/autoconf.h"));
        assert!(!alike("/build/include/generated/autoconf.h"));
        // `.` and `..` are kept in the names the parse gives.
        assert!(!alike("/src/include/linux/../linux/fs.h"));
        assert!(!alike("/src/include/./linux/fs.h"));
        // A directory's name is not a prefix of another's.
        assert!(!alike("/src/include2/x.h"));
    }
}
