//! The facts cache: a unit indexed once is not parsed again while its inputs are
//! unchanged — after `make clean`, in a second `O=` directory, after switching branches
//! and back. It works like ccache's direct mode.
//!
//! A unit's *input key* hashes what is known before parsing: the cache's format, this
//! nccrs and the libclang it loads, the compiler and its arguments with the trees'
//! paths replaced by their names (so the same tree built into another `O=` directory
//! gives the same key), the variables that add include directories, and the source
//! file's stored name and content. Under that key a *manifest* lists, for each earlier
//! indexing of those inputs (the newest eight), every file the parse read — by
//! stored name and a hash of the content libclang parsed — and the key of the facts it
//! gave. A lookup hashes the listed files as they are now on disk: the first entry
//! whose files all match names the facts. A header that changed, by one byte, is a
//! miss; a header only touched is a hit.
//!
//! The list of files is the parse's own (libclang's inclusions), not the compile's
//! dependency output: the facts come from what libclang read, which differs from
//! gcc's where clang's resource headers stand in for gcc's.
//!
//! The facts of each file a unit saw are an entry of their own (`DIR/xx/HASH.c`, the
//! database's chunks), shared by every unit that saw the file read the same way; a
//! unit's facts list them. A header's facts are also kept under the header's key
//! (`DIR/xx/KEY.k`, `crate::extract::headers`), so that a unit that reads the header
//! the same way takes them instead of extracting them; and where the function bodies
//! of a header with that content are (`DIR/xx/KEY.b`), so that a unit can blank them
//! before its parse.
//!
//! On disk, `DIR/xx/KEY.m` (a manifest) and `DIR/xx/KEY.f` (a unit's facts, zstd over
//! postcard), each written to a temporary file and renamed into place, so a reader
//! sees whole entries or none. A hit touches what it read (the entries a unit reads
//! by the hundred, headers' facts and chunks, once an hour); when the directory grows
//! past its limit, the least recently used entries go first (right to the hour, when
//! the cache holds more than an hour of writes). An entry that cannot be read, or a
//! unit's facts whose chunk is gone, is a miss, and removed: the cache never fails an
//! indexing.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use schema::{
    FileIx, NewCall, NewDefinition, NewFile, NewSkipped, NewStore, NewSymbol, NewUse, SymbolIx,
    Trees, TuFacts,
};
use serde::{Deserialize, Serialize};

use crate::args::Unit;
use crate::extract::headers::{HeaderFacts, HeaderKey};
use crate::extract::RecordedHeader;
use crate::paths::PathMapper;

/// Changes whenever what an entry holds, or how it is keyed, changes.
const FORMAT: &[u8] = b"nccrs facts cache 11";

/// Manifest entries kept per input key: the file sets of its newest indexings.
const ENTRIES: usize = 8;

/// The hash of a file's content, as a manifest records it.
type FileHash = [u8; 16];

/// Where the cache is and how large it may grow.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    limit: u64,
}

/// What the input key takes from the compile as the build ran it.
pub struct CompileInputs<'a> {
    /// The compile's working directory.
    pub directory: &'a Path,
    /// The kernel's source tree, its build tree and an external module's directory.
    pub trees: [Option<&'a Path>; 3],
    /// The compiler as the command names it.
    pub compiler: &'a str,
    /// Its arguments.
    pub args: &'a [OsString],
}

/// A unit's inputs known before parsing (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputKey(blake3::Hash);

/// A unit's facts as the cache names them: a hash of their content. The database
/// records it with the unit, so that a unit recorded with the same facts is left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FactsName([u8; 32]);

impl std::fmt::Display for FactsName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

#[derive(Serialize, Deserialize, Default)]
struct Manifest {
    /// Newest first.
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    /// Every file the parse read, with the hash of its content.
    files: Vec<(NewFile, FileHash)>,
    /// The directories an `#include` may look in: those of the files read, and the
    /// include directories of the arguments; each with the hash of which of `names`
    /// it holds, so that a header that appears where the preprocessor would find it
    /// first is a miss (one in a new `linux/` subdirectory too, not one deeper in a
    /// subdirectory that was there).
    dirs: Vec<(NewFile, FileHash)>,
    /// The names an `#include` of this parse may have looked for in a directory: the
    /// first component, below one of `dirs`, of the path of each file read
    /// (`linux` for `include/linux/fs.h`, `autoconf.h` for
    /// `include/generated/autoconf.h`). Other files and subdirectories, such as those
    /// a build makes while it runs, cannot change what an `#include` of this parse
    /// finds.
    names: Vec<OsString>,
    /// The key of the facts that parse gave.
    facts: [u8; 32],
}

/// Where a header's function bodies are (`DIR/xx/KEY.b`, by
/// [`crate::extract::headers::Config::bodies_key`]), and under how many header keys
/// it is recorded: 1, or 2 for more.
#[derive(Serialize, Deserialize)]
struct BodiesEntry {
    ranges: Vec<(u32, u32)>,
    keys: u8,
    /// The header key it was first recorded under (recorded again under the same
    /// key, by a unit that ran beside the first or after an entry went, it still
    /// reads one way).
    first: [u8; 32],
}

/// What one parse read: the files, with what libclang read of each, and the headers
/// in the directories an `#include` may look in.
pub struct ReadFiles {
    files: Vec<(NewFile, FileHash)>,
    dirs: Vec<(NewFile, FileHash)>,
    names: Vec<OsString>,
}

impl ReadFiles {
    /// From the parse's file names and the BLAKE3 hashes of their contents, and the
    /// include directories of its arguments (`include_dirs`, as the compile names
    /// them); `None` when a file could not be read.
    pub fn new(
        files: impl IntoIterator<Item = (OsString, Option<[u8; 32]>)>,
        include_dirs: &[&str],
        cwd: &Path,
        paths: &mut PathMapper,
    ) -> Option<ReadFiles> {
        let mut read = Vec::new();
        let mut dirs: BTreeSet<PathBuf> = include_dirs
            .iter()
            .map(|d| crate::paths::absolute(cwd, Path::new(d)))
            .collect();
        let mut paths_read = Vec::new();
        for (name, content) in files {
            let path = crate::paths::absolute(cwd, Path::new(&name));
            dirs.extend(path.parent().map(Path::to_owned));
            read.push((paths.file(&name), short_hash(&content?)));
            paths_read.push(path);
        }
        let names = names_looked_for(&paths_read, &dirs);
        let dirs = dirs
            .into_iter()
            .map(|d| {
                let hash = names_in(&d, &names);
                (paths.file(d.as_os_str()), hash)
            })
            .collect();
        Some(ReadFiles {
            files: read,
            dirs,
            names: names.into_iter().collect(),
        })
    }
}

/// The first components of the paths of `files` below any of `dirs` (`linux`,
/// `uapi` and `fs.h` for `include/linux/fs.h` and `include/uapi/linux/fs.h` when
/// `include` and `include/linux` are among `dirs`).
fn names_looked_for(files: &[PathBuf], dirs: &BTreeSet<PathBuf>) -> BTreeSet<OsString> {
    let mut names = BTreeSet::new();
    for file in files {
        let mut below = Some(file.as_path());
        while let Some(entry) = below {
            let Some(parent) = entry.parent() else { break };
            if dirs.contains(parent) {
                names.extend(entry.file_name().map(OsStr::to_owned));
            }
            below = Some(parent);
        }
    }
    names
}

/// The hash of which of `wanted` are in `dir` (files or subdirectories), sorted; a
/// directory that cannot be read has a hash of its own.
fn names_in(dir: &Path, wanted: &BTreeSet<OsString>) -> FileHash {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return [0xff; 16];
    };
    let mut names: Vec<OsString> = entries
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| wanted.contains(name))
        .collect();
    names.sort();
    let mut h = blake3::Hasher::new();
    for n in &names {
        h.update(n.as_bytes());
        h.update(b"\0");
    }
    let mut out = [0; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}

fn file_hash(content: &[u8]) -> FileHash {
    short_hash(blake3::hash(content).as_bytes())
}

/// [`file_hash`] of the content whose BLAKE3 hash is `hash`.
fn short_hash(hash: &[u8; 32]) -> FileHash {
    let mut h = [0; 16];
    h.copy_from_slice(&hash[..16]);
    h
}

/// The facts cache as the place where header facts earlier units recorded are found.
impl crate::extract::Recorded for &Cache {
    fn header(&mut self, key: &HeaderKey) -> Option<HeaderFacts> {
        self.header_facts(key)
    }

    fn has(&mut self, key: &HeaderKey) -> bool {
        self.path(&key.0, "k").exists()
    }
}

impl Cache {
    /// The cache the environment asks for (`NCCRS_CACHE_DIR`, `NCCRS_CACHE_SIZE`), or
    /// none when its size is 0 or no directory can be named. Read by the compile's
    /// wrapper; the job carries it to whoever indexes it.
    pub fn from_env() -> Option<Cache> {
        let limit = crate::settings::cache_size();
        if limit == 0 {
            return None;
        }
        Some(Cache {
            dir: crate::settings::cache_dir()?,
            limit,
        })
    }

    /// A cache in `dir` holding at most `limit` bytes.
    pub fn new(dir: PathBuf, limit: u64) -> Cache {
        Cache { dir, limit }
    }

    /// Where it is and its limit.
    pub fn place(&self) -> (&Path, u64) {
        (&self.dir, self.limit)
    }

    /// The input key of `unit` of the compile `job`; `None` when its source cannot be
    /// read.
    pub fn input_key(
        &self,
        job: &CompileInputs<'_>,
        unit: &Unit,
        paths: &mut PathMapper,
    ) -> Option<InputKey> {
        let mut h = blake3::Hasher::new();
        let mut field = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(FORMAT);
        field(&self_identity());
        // Paths of this build's trees, longest first, become the trees' names.
        let names: [&[u8]; 3] = [b"$srctree", b"$objtree", b"$extmod"];
        let mut trees: Vec<(Vec<u8>, &[u8])> = job
            .trees
            .iter()
            .zip(names)
            .filter_map(|(t, name)| {
                let t = crate::paths::absolute(job.directory, (*t)?);
                Some((t.as_os_str().as_bytes().to_vec(), name))
            })
            .collect();
        trees.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        let relative = |s: &[u8]| -> Vec<u8> {
            if trees.is_empty() {
                return s.to_vec();
            }
            let mut out = Vec::with_capacity(s.len());
            let mut i = 0;
            'outer: while i < s.len() {
                for (t, name) in &trees {
                    // A tree's path, not the start of a longer name (`/s/l` in
                    // `/s/linux`); followed by `/`, `=` (`-fdebug-prefix-map=DIR=.`),
                    // the end, or any other byte that does not continue a name.
                    let rest = &s[i..];
                    let continues = |b: &u8| b.is_ascii_alphanumeric() || b"._-+~@".contains(b);
                    if rest.starts_with(t) && !rest.get(t.len()).is_some_and(continues) {
                        out.extend_from_slice(name);
                        i += t.len();
                        continue 'outer;
                    }
                }
                out.push(s[i]);
                i += 1;
            }
            out
        };
        field(&relative(job.directory.as_os_str().as_bytes()));
        field(job.compiler.as_bytes());
        for a in job.args {
            field(&relative(a.as_bytes()));
        }
        for (name, value) in crate::settings::parser_environment() {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        let source = paths.file(&unit.source);
        field(source.key().as_bytes());
        let path = crate::paths::absolute(job.directory, Path::new(&unit.source));
        field(&std::fs::read(path).ok()?);
        Some(InputKey(h.finalize()))
    }

    fn path(&self, hash: &[u8], ext: &str) -> PathBuf {
        let hex = hex(hash);
        self.dir
            .join(&hex[..2])
            .join(format!("{}.{ext}", &hex[2..]))
    }

    /// The name of the facts recorded for `key` whose files all read today as they
    /// did then.
    pub fn find(&self, key: &InputKey, trees: &Trees) -> Option<FactsName> {
        let manifest_path = self.path(key.0.as_bytes(), "m");
        let manifest: Manifest = read_entry(&manifest_path)?;
        let mut hashes: HashMap<&NewFile, Option<FileHash>> = HashMap::default();
        let mut listings: HashMap<(&NewFile, &Vec<OsString>), FileHash> = HashMap::default();
        let entry = manifest.entries.iter().find(|e| {
            e.files.iter().all(|(f, want)| {
                let now = hashes.entry(f).or_insert_with(|| on_disk_hash(f, trees));
                now.as_ref() == Some(want)
            }) && {
                let names: BTreeSet<OsString> = e.names.iter().cloned().collect();
                e.dirs.iter().all(|(d, want)| {
                    let now = listings.entry((d, &e.names)).or_insert_with(|| {
                        on_disk(d, trees).map_or([0xff; 16], |p| names_in(&p, &names))
                    });
                    now == want
                })
            }
        })?;
        touch(&manifest_path);
        Some(FactsName(entry.facts))
    }

    /// The facts `name` names.
    pub fn facts(&self, name: &FactsName) -> Option<TuFacts> {
        let path = self.path(&name.0, "f");
        let unit: UnitEntry = read_entry(&path)?;
        let mut chunks = Vec::with_capacity(unit.chunks.len());
        for c in &unit.chunks {
            let path = self.path(c, "c");
            chunks.push(read_entry(&path)?);
            touch_if_stale(&path);
        }
        touch(&path);
        Some(merge(unit.main_file, chunks))
    }

    /// The function bodies a unit may blank in a header, by
    /// [`crate::extract::headers::Config::bodies_key`], if earlier units recorded
    /// that header's facts, always read the same way: a header recorded under
    /// several keys, or that a unit blanked and read otherwise, is parsed whole,
    /// since a unit that blanked it and reads it under a key not recorded yet must be
    /// parsed again.
    pub fn header_bodies(&self, key: &[u8; 32]) -> Option<Vec<(u32, u32)>> {
        let path = self.path(key, "b");
        let entry: BodiesEntry = read_entry(&path)?;
        touch_if_stale(&path);
        (entry.keys == 1).then_some(entry.ranges)
    }

    /// Notes that a header whose bodies were blanked was not found under the key a
    /// unit read it with (or had none there): later units parse it whole.
    pub fn header_read_otherwise(&self, key: &[u8; 32]) {
        let path = self.path(key, "b");
        if let Some(entry) = read_entry::<BodiesEntry>(&path).filter(|e| e.keys < 2) {
            if let Ok(encoded) = postcard::to_stdvec(&BodiesEntry { keys: 2, ..entry }) {
                let _ = write_entry(&path, &encoded);
            }
        }
    }

    /// The facts of a header read under `key`, as an earlier unit recorded them (none
    /// when it had none), if the cache has them.
    pub fn header_facts(&self, key: &HeaderKey) -> Option<HeaderFacts> {
        // Hundreds a unit: touched only when it was not for an hour.
        let path = self.path(&key.0, "k");
        let facts: HeaderFacts = read_entry(&path)?;
        if !consistent(&facts.facts) {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        touch_if_stale(&path);
        Some(facts)
    }

    /// Records that the parse under `key`, which read `files`, gave `facts`; the
    /// facts' name. Each of `headers` is recorded under its key, with its chunk hash
    /// from `hashes` (the database's, by file). The files in `taken` are headers
    /// taken as recorded, with their chunks' names: those chunks are not made again.
    pub fn store(
        &self,
        key: &InputKey,
        files: ReadFiles,
        facts: &TuFacts,
        headers: &[RecordedHeader],
        hashes: &BTreeMap<FileIx, String>,
        taken: &HashMap<FileIx, [u8; 32]>,
    ) -> Option<FactsName> {
        // The directories written to, each trimmed once at the end.
        let mut written: BTreeSet<PathBuf> = Default::default();
        // The chunks of the headers taken as recorded are in the cache as they are:
        // touched, not made again (unless one is gone).
        let mut chunks: BTreeMap<FileIx, [u8; 32]> = taken
            .iter()
            .filter(|(_, name)| touch_if_stale(&self.path(name.as_slice(), "c")))
            .map(|(&owner, &name)| (owner, name))
            .collect();
        let mut by_owner: HashMap<NewFile, (TuFacts, [u8; 32])> = HashMap::default();
        for (owner, chunk) in split_except(facts, &chunks) {
            let encoded = postcard::to_stdvec(&chunk).ok()?;
            let hash = *blake3::hash(&encoded).as_bytes();
            let path = self.path(&hash, "c");
            // Another unit that saw the file read the same way stored it already.
            if !touch_if_stale(&path) {
                write_entry(&path, &encoded).ok()?;
                written.extend(path.parent().map(Path::to_owned));
            }
            chunks.insert(owner, hash);
            by_owner.insert(chunk.files[0].clone(), (chunk, hash));
        }
        let unit = UnitEntry {
            main_file: facts.main_file.map(|i| facts[i].clone()),
            chunks: chunks.into_values().collect(),
        };
        // Each header's facts again under its key, read by one lookup, with their
        // chunk hash.
        let at: HashMap<&NewFile, usize> = facts
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f, i))
            .collect();
        for RecordedHeader {
            file,
            key,
            refers,
            bodies,
        } in headers
        {
            let hash = at
                .get(file)
                .and_then(|&i| hashes.get(&FileIx(i as u32)))
                .cloned()
                .unwrap_or_default();
            let (facts, chunk) = by_owner.remove(file).unwrap_or_default();
            let entry = HeaderFacts {
                facts,
                refers: refers.clone(),
                hash,
                chunk,
            };
            let path = self.path(&key.0, "k");
            write_entry(&path, &postcard::to_stdvec(&entry).ok()?).ok()?;
            written.extend(path.parent().map(Path::to_owned));
            // Where its bodies are, for a later unit to blank them (the first unit
            // to record the header's content says), and under how many keys it is
            // recorded.
            if !bodies.ranges.is_empty() {
                let path = self.path(&bodies.key, "b");
                let entry = match read_entry::<BodiesEntry>(&path) {
                    Some(e) if e.keys > 1 || e.first == key.0 => None,
                    Some(e) => Some(BodiesEntry { keys: 2, ..e }),
                    None => Some(BodiesEntry {
                        ranges: bodies.ranges.clone(),
                        keys: 1,
                        first: key.0,
                    }),
                };
                if let Some(entry) = entry {
                    write_entry(&path, &postcard::to_stdvec(&entry).ok()?).ok()?;
                    written.extend(path.parent().map(Path::to_owned));
                }
            }
        }
        let encoded = postcard::to_stdvec(&unit).ok()?;
        let name = *blake3::hash(&encoded).as_bytes();
        let unit_path = self.path(&name, "f");
        write_entry(&unit_path, &encoded).ok()?;

        let manifest_path = self.path(key.0.as_bytes(), "m");
        let mut manifest: Manifest = read_entry(&manifest_path).unwrap_or_default();
        manifest
            .entries
            .retain(|e| e.files != files.files || e.dirs != files.dirs || e.names != files.names);
        manifest.entries.insert(
            0,
            Entry {
                files: files.files,
                dirs: files.dirs,
                names: files.names,
                facts: name,
            },
        );
        manifest.entries.truncate(ENTRIES);
        let encoded = postcard::to_stdvec(&manifest).ok()?;
        write_entry(&manifest_path, &encoded).ok()?;
        written.extend(
            [&manifest_path, &unit_path]
                .iter()
                .filter_map(|p| p.parent().map(Path::to_owned)),
        );
        for dir in written {
            self.trim(&dir);
        }
        Some(FactsName(name))
    }

    /// Keeps one of the cache's 256 directories within its share of the limit: while
    /// it holds more, its least recently used files go, down to nine tenths of the
    /// share; and temporary files a killed writer left. (ccache's way: each store
    /// trims the directories it wrote to, which over many stores is every directory.)
    fn trim(&self, dir: &Path) {
        let share = self.limit / 256;
        let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let stale = SystemTime::now() - Duration::from_secs(3600);
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(meta) = e.metadata() else { continue };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if e.file_name().as_bytes().starts_with(b".tmp") {
                if modified < stale {
                    let _ = std::fs::remove_file(e.path());
                }
                continue;
            }
            files.push((modified, meta.len(), e.path()));
        }
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= share {
            return;
        }
        files.sort();
        for (_, len, path) in files {
            if total <= share / 10 * 9 {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// A unit's facts in the cache: its main file, and the facts of each file it saw (the
/// database's chunks), each stored once for every unit that saw that file read the
/// same way.
#[derive(Serialize, Deserialize)]
struct UnitEntry {
    main_file: Option<NewFile>,
    chunks: Vec<[u8; 32]>,
}

/// Facts moved from one [`TuFacts`] to another: where their files and symbols go.
/// What [`split`] and [`merge`] do to every fact.
trait Renumber {
    fn file(&mut self, i: FileIx) -> FileIx;
    fn symbol(&mut self, i: SymbolIx) -> SymbolIx;
    /// Where the facts go.
    fn out(&mut self) -> &mut TuFacts;

    fn definition(&mut self, d: &NewDefinition) {
        let x = NewDefinition {
            symbol: self.symbol(d.symbol),
            file: self.file(d.file),
            owner: self.file(d.owner),
            ..d.clone()
        };
        self.out().definitions.push(x);
    }

    fn call(&mut self, c: &NewCall) {
        let x = NewCall {
            caller: self.symbol(c.caller),
            callee: self.symbol(c.callee),
            file: self.file(c.file),
            owner: self.file(c.owner),
            ..c.clone()
        };
        self.out().calls.push(x);
    }

    fn store(&mut self, st: &NewStore) {
        let x = NewStore {
            target: self.symbol(st.target),
            value: self.symbol(st.value),
            within: self.symbol(st.within),
            file: self.file(st.file),
            owner: self.file(st.owner),
            ..st.clone()
        };
        self.out().stores.push(x);
    }

    fn use_(&mut self, u: &NewUse) {
        let x = NewUse {
            symbol: self.symbol(u.symbol),
            function: self.symbol(u.function),
            file: self.file(u.file),
            owner: self.file(u.owner),
            ..u.clone()
        };
        self.out().uses.push(x);
    }

    fn skipped(&mut self, k: &NewSkipped) {
        let x = NewSkipped {
            file: self.file(k.file),
            lines: k.lines.clone(),
        };
        self.out().skipped.push(x);
    }
}

/// One owner's facts, with the files and symbols they name, in the order they come.
struct Part<'a> {
    from: &'a TuFacts,
    into: TuFacts,
    files: HashMap<FileIx, FileIx>,
    symbols: HashMap<SymbolIx, SymbolIx>,
}

impl Renumber for Part<'_> {
    fn file(&mut self, i: FileIx) -> FileIx {
        let (from, into) = (self.from, &mut self.into);
        *self
            .files
            .entry(i)
            .or_insert_with(|| into.push_file(from[i].clone()))
    }

    fn symbol(&mut self, i: SymbolIx) -> SymbolIx {
        let (from, into) = (self.from, &mut self.into);
        *self
            .symbols
            .entry(i)
            .or_insert_with(|| into.push_symbol(from[i].clone()))
    }

    fn out(&mut self) -> &mut TuFacts {
        &mut self.into
    }
}

/// `facts` as one self-contained set of facts per owner (its file first), in the
/// owners' order.
#[cfg(test)]
pub(crate) fn split(facts: &TuFacts) -> Vec<TuFacts> {
    split_except::<()>(facts, &BTreeMap::new())
        .into_iter()
        .map(|(_, part)| part)
        .collect()
}

/// [`split`], with each part's owner, but for the owners in `except`.
fn split_except<T>(facts: &TuFacts, except: &BTreeMap<FileIx, T>) -> Vec<(FileIx, TuFacts)> {
    let mut parts: BTreeMap<FileIx, Part<'_>> = BTreeMap::new();
    fn part<'p, 'a>(
        parts: &'p mut BTreeMap<FileIx, Part<'a>>,
        from: &'a TuFacts,
        owner: FileIx,
    ) -> &'p mut Part<'a> {
        parts.entry(owner).or_insert_with(|| {
            let mut p = Part {
                from,
                into: TuFacts::default(),
                files: HashMap::default(),
                symbols: HashMap::default(),
            };
            p.file(owner);
            p
        })
    }
    let kept = |owner: &FileIx| !except.contains_key(owner);
    for d in facts.definitions.iter().filter(|d| kept(&d.owner)) {
        part(&mut parts, facts, d.owner).definition(d);
    }
    for c in facts.calls.iter().filter(|c| kept(&c.owner)) {
        part(&mut parts, facts, c.owner).call(c);
    }
    for st in facts.stores.iter().filter(|st| kept(&st.owner)) {
        part(&mut parts, facts, st.owner).store(st);
    }
    for u in facts.uses.iter().filter(|u| kept(&u.owner)) {
        part(&mut parts, facts, u.owner).use_(u);
    }
    for k in facts.skipped.iter().filter(|k| kept(&k.file)) {
        part(&mut parts, facts, k.file).skipped(k);
    }
    parts.into_iter().map(|(o, p)| (o, p.into)).collect()
}

/// Where a part's files and symbols stand in the merged facts.
struct Merged<'a> {
    out: &'a mut TuFacts,
    files: Vec<FileIx>,
    symbols: Vec<SymbolIx>,
}

impl Renumber for Merged<'_> {
    fn file(&mut self, i: FileIx) -> FileIx {
        self.files[i.get()]
    }

    fn symbol(&mut self, i: SymbolIx) -> SymbolIx {
        self.symbols[i.get()]
    }

    fn out(&mut self) -> &mut TuFacts {
        self.out
    }
}

/// The facts of a unit whose main file is `main_file` from its parts ([`split`]).
fn merge(main_file: Option<NewFile>, parts: Vec<TuFacts>) -> TuFacts {
    let mut out = TuFacts::default();
    let mut files: HashMap<NewFile, FileIx> = HashMap::default();
    let mut symbols: HashMap<NewSymbol, SymbolIx> = HashMap::default();
    let mut file = |out: &mut TuFacts, f: &NewFile| -> FileIx {
        *files
            .entry(f.clone())
            .or_insert_with(|| out.push_file(f.clone()))
    };
    out.main_file = main_file.map(|f| file(&mut out, &f));
    for part in parts {
        let files = part.files.iter().map(|f| file(&mut out, f)).collect();
        let symbols = part
            .symbols
            .iter()
            .map(|s| {
                *symbols
                    .entry(s.clone())
                    .or_insert_with(|| out.push_symbol(s.clone()))
            })
            .collect();
        let mut to = Merged {
            out: &mut out,
            files,
            symbols,
        };
        part.definitions.iter().for_each(|d| to.definition(d));
        part.calls.iter().for_each(|c| to.call(c));
        part.stores.iter().for_each(|st| to.store(st));
        part.uses.iter().for_each(|u| to.use_(u));
        part.skipped.iter().for_each(|k| to.skipped(k));
    }
    out
}

/// Whether every file and symbol `facts` names is one it lists (an entry that decodes
/// but says otherwise is not used).
fn consistent(facts: &TuFacts) -> bool {
    let file = |i: FileIx| i.get() < facts.files.len();
    let symbol = |i: SymbolIx| i.get() < facts.symbols.len();
    facts.main_file.is_none_or(file)
        && facts
            .definitions
            .iter()
            .all(|d| symbol(d.symbol) && file(d.file) && file(d.owner))
        && facts
            .calls
            .iter()
            .all(|c| symbol(c.caller) && symbol(c.callee) && file(c.file) && file(c.owner))
        && facts.stores.iter().all(|st| {
            symbol(st.target)
                && symbol(st.value)
                && symbol(st.within)
                && file(st.file)
                && file(st.owner)
        })
        && facts
            .uses
            .iter()
            .all(|u| symbol(u.symbol) && symbol(u.function) && file(u.file) && file(u.owner))
        && facts.skipped.iter().all(|k| file(k.file))
}

/// Where the file `f` names is on disk.
fn on_disk(f: &NewFile, trees: &Trees) -> Option<PathBuf> {
    trees.on_disk(&schema::File {
        id: schema::FileId(0),
        root: f.root,
        base: f.base.clone(),
        path: f.path.clone(),
    })
}

/// The hash of the file `f` names as it is on disk today.
fn on_disk_hash(f: &NewFile, trees: &Trees) -> Option<FileHash> {
    Some(file_hash(&std::fs::read(on_disk(f, trees)?).ok()?))
}

/// This nccrs and the libclang it loads: their files' sizes and times (as they were
/// when [`pin_identity`] was called, in a process that indexes many units with what
/// it loaded once).
pub fn self_identity() -> Vec<u8> {
    PINNED.get().cloned().unwrap_or_else(identity_now)
}

static PINNED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Makes [`self_identity`] what it is now for the rest of this process.
pub fn pin_identity() {
    let _ = PINNED.set(identity_now());
}

fn identity_now() -> Vec<u8> {
    let mut id = Vec::new();
    let mut add = |p: &Path| {
        if let Ok(m) = std::fs::metadata(p) {
            id.extend_from_slice(p.as_os_str().as_bytes());
            id.extend_from_slice(&m.len().to_le_bytes());
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .unwrap_or_default();
            id.extend_from_slice(&t.as_nanos().to_le_bytes());
        }
    };
    if let Ok(exe) = std::env::current_exe() {
        add(&exe);
    }
    for lib in crate::clang::candidates() {
        add(&lib);
    }
    id
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Magic of an entry file; then a hash of the rest, the length of the encoded entry
/// (8 bytes, little-endian), and the entry compressed.
const MAGIC: &[u8; 8] = b"nccrsfc2";

thread_local! {
    // zstd's contexts, made once: a unit's store writes hundreds of entries.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(encoded: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|c| {
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::new(1)?);
        }
        c.as_mut().map_or_else(
            || Err(std::io::ErrorKind::Other.into()),
            |c| c.compress(encoded),
        )
    })
}

fn decompress(compressed: &[u8], len: usize) -> Option<Vec<u8>> {
    DECOMPRESSOR.with_borrow_mut(|d| {
        if d.is_none() {
            *d = zstd::bulk::Decompressor::new().ok();
        }
        let plain = d.as_mut()?.decompress(compressed, len).ok()?;
        (plain.len() == len).then_some(plain)
    })
}

fn write_entry(path: &Path, encoded: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut rest = (encoded.len() as u64).to_le_bytes().to_vec();
    rest.extend_from_slice(&compress(encoded)?);
    let mut bytes = Vec::with_capacity(rest.len() + 40);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(blake3::hash(&rest).as_bytes());
    bytes.extend_from_slice(&rest);
    let tmp = dir.join(format!(
        ".tmp.{}.{}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// An entry, or `None` (and the file removed) when it is missing or damaged.
fn read_entry<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let decoded = (|| {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (sum, rest) = rest.split_at_checked(32)?;
        if blake3::hash(rest).as_bytes() != sum {
            return None;
        }
        let (len, compressed) = rest.split_at_checked(8)?;
        let len = u64::from_le_bytes(len.try_into().ok()?);
        // An entry is a unit's facts at most: a length beyond 1 GiB is damage.
        if len > 1 << 30 {
            return None;
        }
        let plain = decompress(compressed, len as usize)?;
        postcard::from_bytes(&plain).ok()
    })();
    if decoded.is_none() {
        let _ = std::fs::remove_file(path);
    }
    decoded
}

/// Touches `path` when it was last touched over an hour ago: least recently used is
/// then right to the hour, at a tenth of the system calls (the entries a unit takes
/// by the hundred: headers' facts and chunks). Whether it exists.
fn touch_if_stale(path: &Path) -> bool {
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(t) if t < hour_ago => touch(path),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Marks `path` as used now; whether it exists.
fn touch(path: &Path) -> bool {
    match std::fs::File::options().write(true).open(path) {
        Ok(f) => {
            let _ = f.set_modified(SystemTime::now());
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use schema::{Access, Kind, Linkage, Root};

    /// A header recorded under `key`, its bodies (if any) under `[7; 32]`.
    fn recorded(
        file: NewFile,
        key: HeaderKey,
        refers: Vec<NewSymbol>,
        ranges: Vec<(u32, u32)>,
    ) -> RecordedHeader {
        RecordedHeader {
            file,
            key,
            refers,
            bodies: crate::extract::blank::Bodies {
                key: [7; 32],
                ranges,
            },
        }
    }

    fn symbol(usr: &str) -> NewSymbol {
        NewSymbol {
            usr: usr.into(),
            name: usr.rsplit('@').next().unwrap().into(),
            scope: None,
            kind: Kind::Function,
            linkage: Linkage::External,
        }
    }

    /// `main.c` defines `f`, which calls the header inline `h`; `h` calls `g` and
    /// reads `v`.
    fn facts() -> TuFacts {
        let mut t = TuFacts::default();
        let main = t.push_file(NewFile::new(Root::Src, "main.c"));
        let header = t.push_file(NewFile::new(Root::Src, "inc.h"));
        t.main_file = Some(main);
        let [f, h, g, v] = ["c:@F@f", "c:@F@h", "c:@F@g", "c:@v"].map(|u| t.push_symbol(symbol(u)));
        let def = |symbol, file, line| NewDefinition {
            symbol,
            file,
            line,
            col: 1,
            macro_name: None,
            definition: true,
            owner: file,
        };
        t.definitions = vec![def(f, main, 3), def(h, header, 1)];
        let call = |caller, callee, file, line| NewCall {
            caller,
            callee,
            file,
            line,
            col: 2,
            indirect: false,
            macro_name: Some("M".into()),
            owner: file,
            dead: false,
            alias: false,
            weak: false,
        };
        t.calls = vec![call(f, h, main, 4), call(h, g, header, 2)];
        t.uses = vec![NewUse {
            symbol: v,
            function: h,
            access: Access::Read,
            file: header,
            line: 2,
            col: 9,
            macro_name: None,
            owner: header,
        }];
        t
    }

    /// Every fact as text, with files and symbols by name: what the database keeps.
    fn text(t: &TuFacts) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let (f, s) = (|i: FileIx| t[i].key(), |i: SymbolIx| t[i].usr.clone());
        out.extend(
            t.definitions
                .iter()
                .map(|d| format!("d {} {}:{} {}", s(d.symbol), f(d.file), d.line, f(d.owner))),
        );
        out.extend(t.calls.iter().map(|c| {
            format!(
                "c {} {} {}:{} {:?} {}",
                s(c.caller),
                s(c.callee),
                f(c.file),
                c.line,
                c.macro_name,
                f(c.owner)
            )
        }));
        out.extend(t.uses.iter().map(|u| {
            format!(
                "u {} {} {}:{}:{} {}",
                s(u.symbol),
                s(u.function),
                f(u.file),
                u.line,
                u.col,
                f(u.owner)
            )
        }));
        out.extend(t.main_file.map(|m| format!("main {}", f(m))));
        out.sort();
        out
    }

    #[test]
    fn the_names_an_include_looked_for_are_those_below_a_searched_directory() {
        let dirs: BTreeSet<PathBuf> = ["/k/include", "/k/include/linux", "/k/fs"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let files: Vec<PathBuf> = [
            "/k/include/linux/fs.h",
            "/k/include/uapi/linux/fs.h",
            "/k/fs/read_write.c",
            "/k/arch/um/include/asm/page.h",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let names: Vec<_> = names_looked_for(&files, &dirs).into_iter().collect();
        // `linux` below include/ (twice), `uapi` below include/, `fs.h` below
        // include/linux, `read_write.c` below fs/; arch/um/include is not searched.
        assert_eq!(names, ["fs.h", "linux", "read_write.c", "uapi"]);
    }

    #[test]
    fn a_listing_changes_only_with_a_name_an_include_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let wanted: BTreeSet<OsString> = ["linux", "regs.h"].map(OsString::from).into();
        let before = names_in(dir.path(), &wanted);
        // What the build makes while it runs: other headers, other subdirectories.
        std::fs::create_dir(dir.path().join("drivers")).unwrap();
        std::fs::write(dir.path().join("utsrelease.h"), "").unwrap();
        assert_eq!(names_in(dir.path(), &wanted), before);
        std::fs::create_dir(dir.path().join("linux")).unwrap();
        assert_ne!(names_in(dir.path(), &wanted), before);
        let with_dir = names_in(dir.path(), &wanted);
        std::fs::write(dir.path().join("regs.h"), "").unwrap();
        assert_ne!(names_in(dir.path(), &wanted), with_dir);
    }

    #[test]
    fn a_unit_split_into_its_files_facts_is_the_same_unit_merged() {
        let t = facts();
        let parts = split(&t);
        assert_eq!(parts.len(), 2, "one part per owning file");
        // Each part names only what its facts need: the header's part has no main.c.
        assert!(parts[1].files.iter().all(|f| f.path == "inc.h"));
        assert_eq!(parts[1].symbols.len(), 3);
        let merged = merge(Some(NewFile::new(Root::Src, "main.c")), parts);
        assert_eq!(text(&merged), text(&t));
    }

    #[test]
    fn the_same_header_read_the_same_way_is_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned(), 1 << 30);
        let t = facts();
        let files = |h: u8| ReadFiles {
            files: vec![(NewFile::new(Root::Src, "inc.h"), [h; 16])],
            dirs: Vec::new(),
            names: Vec::new(),
        };
        let store = |k: &str, facts: &TuFacts| {
            let key = InputKey(blake3::hash(k.as_bytes()));
            let none = Default::default();
            cache.store(&key, files(1), facts, &[], &none, &Default::default())
        };
        let a = store("a", &t).unwrap();
        // Another unit whose main file differs, with the same header.
        let mut other = t.clone();
        other.files[0].path = "other.c".into();
        let b = store("b", &other).unwrap();
        assert_ne!(a, b);
        let chunks = count(dir.path(), "c");
        assert_eq!(chunks, 3, "main.c's, other.c's and the one inc.h");
        assert_eq!(text(&cache.facts(&a).unwrap()), text(&t));
        assert_eq!(text(&cache.facts(&b).unwrap()), text(&other));
    }

    #[test]
    fn a_header_blanked_and_read_otherwise_is_no_longer_blanked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned(), 1 << 30);
        let t = facts();
        let inc = NewFile::new(Root::Src, "inc.h");
        cache
            .store(
                &InputKey(blake3::hash(b"unit")),
                ReadFiles {
                    files: Vec::new(),
                    dirs: Vec::new(),
                    names: Vec::new(),
                },
                &t,
                &[recorded(
                    inc,
                    HeaderKey([1; 32]),
                    Vec::new(),
                    vec![(10, 20)],
                )],
                &schema::chunk_hashes(&t, &Default::default()),
                &Default::default(),
            )
            .unwrap();
        assert_eq!(cache.header_bodies(&[7; 32]), Some(vec![(10, 20)]));
        cache.header_read_otherwise(&[7; 32]);
        assert_eq!(cache.header_bodies(&[7; 32]), None);
        // Nothing to note for a header never recorded.
        cache.header_read_otherwise(&[8; 32]);
        assert_eq!(cache.header_bodies(&[8; 32]), None);
    }

    #[test]
    fn a_header_is_found_under_its_key_while_its_entry_reads() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned(), 1 << 30);
        let t = facts();
        let files = ReadFiles {
            files: Vec::new(),
            dirs: Vec::new(),
            names: Vec::new(),
        };
        let inc = NewFile::new(Root::Src, "inc.h");
        let empty = NewFile::new(Root::Src, "empty.h");
        let [k_inc, k_empty, k_other] = [1, 2, 3].map(|b| HeaderKey([b; 32]));
        let unit = InputKey(blake3::hash(b"unit"));
        cache
            .store(
                &unit,
                files,
                &t,
                &[
                    recorded(inc.clone(), k_inc, Vec::new(), vec![(10, 20)]),
                    recorded(empty, k_empty, vec![symbol("c:@F@g")], Vec::new()),
                ],
                &schema::chunk_hashes(&t, &Default::default()),
                &Default::default(),
            )
            .unwrap();
        // Where inc.h's bodies are, under their own key; none for empty.h, which has
        // none.
        assert_eq!(cache.header_bodies(&[7; 32]), Some(vec![(10, 20)]));
        assert_eq!(cache.header_bodies(&[8; 32]), None);
        // Recorded under a second key (read otherwise by another unit), inc.h is no
        // longer blanked.
        let again = |k: HeaderKey| {
            cache.store(
                &InputKey(blake3::hash(b"again")),
                ReadFiles {
                    files: Vec::new(),
                    dirs: Vec::new(),
                    names: Vec::new(),
                },
                &t,
                &[recorded(inc.clone(), k, Vec::new(), vec![(10, 20)])],
                &schema::chunk_hashes(&t, &Default::default()),
                &Default::default(),
            )
        };
        again(k_other).unwrap();
        assert_eq!(cache.header_bodies(&[7; 32]), None);
        std::fs::remove_file(cache.path(&k_other.0, "k")).unwrap();
        // inc.h's facts: `h`, its call of `g` and its use of `v`; none for empty.h.
        let header = cache.header_facts(&k_inc).unwrap().facts;
        assert_eq!(
            text(&header),
            [
                "c c:@F@h c:@F@g src:inc.h:2 Some(\"M\") src:inc.h",
                "d c:@F@h src:inc.h:1 src:inc.h",
                "u c:@v c:@F@h src:inc.h:2:9 src:inc.h",
            ]
        );
        let empty = cache.header_facts(&k_empty).unwrap();
        assert!(text(&empty.facts).is_empty());
        assert_eq!(empty.refers, [symbol("c:@F@g")]);
        assert!(cache.header_facts(&k_other).is_none());
        // An entry whose facts name what they do not list is not used.
        let mut odd = cache.header_facts(&k_inc).unwrap();
        odd.facts.calls[0].callee = SymbolIx(99);
        write_entry(
            &cache.path(&k_other.0, "k"),
            &postcard::to_stdvec(&odd).unwrap(),
        )
        .unwrap();
        assert!(cache.header_facts(&k_other).is_none());
        // A damaged entry is not found.
        let path = cache.path(&k_inc.0, "k");
        std::fs::write(&path, b"nccrsfc2 damaged").unwrap();
        assert!(cache.header_facts(&k_inc).is_none());
    }

    #[test]
    fn a_header_taken_as_recorded_keeps_its_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned(), 1 << 30);
        let t = facts();
        let files = || ReadFiles {
            files: Vec::new(),
            dirs: Vec::new(),
            names: Vec::new(),
        };
        let inc = NewFile::new(Root::Src, "inc.h");
        let k_inc = HeaderKey([1; 32]);
        let hashes = schema::chunk_hashes(&t, &Default::default());
        let first = InputKey(blake3::hash(b"first"));
        let a = cache
            .store(
                &first,
                files(),
                &t,
                &[recorded(inc, k_inc, Vec::new(), Vec::new())],
                &hashes,
                &Default::default(),
            )
            .unwrap();
        let header = cache.header_facts(&k_inc).unwrap();
        let owner = FileIx(t.files.iter().position(|f| f.path == "inc.h").unwrap() as u32);
        assert_eq!(header.hash, hashes[&owner]);
        // A unit that took inc.h names its chunk instead of making it again: the
        // same entry as when it does.
        let again = InputKey(blake3::hash(b"again"));
        let taken: HashMap<_, _> = [(owner, header.chunk)].into_iter().collect();
        let b = cache
            .store(&again, files(), &t, &[], &hashes, &taken)
            .unwrap();
        assert_eq!(a, b);
        // A chunk gone from the cache is made again.
        std::fs::remove_file(cache.path(&header.chunk, "c")).unwrap();
        let c = cache
            .store(&again, files(), &t, &[], &hashes, &taken)
            .unwrap();
        assert_eq!(a, c);
        assert_eq!(text(&cache.facts(&c).unwrap()), text(&t));
    }

    fn count(dir: &Path, ext: &str) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
            .filter(|e| e.path().extension().is_some_and(|x| x == ext))
            .count()
    }
}
