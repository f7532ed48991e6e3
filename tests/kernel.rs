//! Real kernels, from Debian's `linux-source-6.1` and `linux-source-6.12`, each built
//! with `CC=nccrs` and checked against hand-verified facts (paths relative to the
//! source tree), the compiler's DWARF (`nccnav verify`) and, where said, a plain build:
//!
//! - 6.1 UML defconfig with DWARF, `O=`, indexed beside each compile; its objects and
//!   vmlinux are byte-identical to a plain build's;
//! - 6.1 native x86_64 tinyconfig (linked with `$(LD)`), indexed in the background;
//! - 6.12 UML defconfig with DWARF in an `O=` directory (kbuild exports only
//!   `srctree`/`objtree` there), indexed in the background, and an external module
//!   (`fixtures/extmod`) built against it;
//! - 6.12 arm64 tinyconfig, cross-compiled with `CC="nccrs aarch64-linux-gnu-gcc"`;
//! - 6.12 x86_64 tinyconfig with `LLVM=-19 CC="nccrs clang-19"`, built in the source
//!   tree (its own copy, so the shared tree stays clean for `O=` builds).
//!
//! Each source is unpacked once into `$NCCRS_KERNEL_CACHE` (default `~/.cache/nccrs`);
//! build directories are made anew every run. Run alone with
//! `cargo test --workspace -- kernel`, leave out with `-- --skip kernel`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use nccrs_e2e::{bin, cache_dir, nccnav, nccrs_wait, stdout};
use serde_json::Value;

/// The unpacked source tree of Linux `version` (`6.1`, `6.12`), unpacked on first use
/// (by one test at a time).
fn kernel_source(version: &str) -> PathBuf {
    static UNPACKING: Mutex<()> = Mutex::new(());
    let _one = UNPACKING.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache_dir();
    let name = format!("linux-source-{version}");
    let src = cache.join(&name);
    if src.join("Makefile").is_file() {
        return src;
    }
    let tarball = format!("/usr/src/{name}.tar.xz");
    assert!(
        Path::new(&tarball).is_file(),
        "{tarball} is missing: install Debian's {name} (.ci/install-deps does)"
    );
    std::fs::create_dir_all(&cache).expect("create the kernel cache");
    let tmp = cache.join(format!("unpacking-{version}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let st = Command::new("tar")
        .arg("xf")
        .arg(&tarball)
        .current_dir(&tmp)
        .status()
        .expect("tar runs");
    assert!(st.success(), "cannot unpack {tarball}");
    std::fs::rename(tmp.join(&name), &src).expect("move the unpacked tree in place");
    let _ = std::fs::remove_dir_all(&tmp);
    src
}

/// A fresh copy of Linux `version`'s source tree under `name`, for a build in the
/// tree itself.
fn private_source(version: &str, name: &str) -> PathBuf {
    let shared = kernel_source(version);
    let copy = cache_dir().join(name);
    let _ = std::fs::remove_dir_all(&copy);
    run(Command::new("cp")
        .args(["-a", "--reflink=auto"])
        .arg(&shared)
        .arg(&copy));
    copy
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Facts checked by hand against the 6.1 sources: (query, words the answer must hold).
const FACTS: &[(&[&str], &[&str])] = &[
    // The navigator's issue: how read(2) reaches vfs_read, and its picture.
    (
        &["path", "__do_sys_read", "vfs_read"],
        &[
            "__do_sys_read -> vfs_read: 2 calls",
            "-> ksys_read   fs/read_write.c:623:9",
            "-> vfs_read    fs/read_write.c:613:9",
        ],
    ),
    (
        &["path", "__do_sys_read", "seq_read"],
        &["[indirect via file_operations::read]"],
    ),
    (
        &["graph", "vfs_read", "--callers", "--depth", "1"],
        &[
            "digraph calls",
            "label=\"vfs_read\\nfs/read_write.c:450\"",
            "label=\"ksys_read\\n",
        ],
    ),
    // The foundation issue's own list.
    (
        &["def", "rename_lock"],
        &["fs/dcache.c:77:", "via DEFINE_SEQLOCK"],
    ),
    (
        &["def", "mmlist_lock"],
        &["kernel/fork.c:1091:", "via DEFINE_SPINLOCK"],
    ),
    (
        &["def", "__do_sys_read"],
        &["fs/read_write.c:621:", "via SYSCALL_DEFINE3"],
    ),
    (
        &["callees", "__do_sys_read"],
        &["ksys_read", "fs/read_write.c:623:9"],
    ),
    (&["callers", "vfs_read"], &["ksys_read"]),
    // fs/
    (
        &["def", "__se_sys_read"],
        &["fs/read_write.c:621:", "via SYSCALL_DEFINE3"],
    ),
    (
        &["def", "vfs_read"],
        &["fs/read_write.c:450:9: function vfs_read (external)"],
    ),
    (
        &["def", "__ksymtab_vfs_fsync"],
        &["fs/sync.c:204:", "via EXPORT_SYMBOL"],
    ),
    (
        &["def", "nr_dentry"],
        &["fs/dcache.c:127:", "(internal)", "via DEFINE_PER_CPU"],
    ),
    (
        &["def", "file_operations::read_iter"],
        &[
            "include/linux/fs.h:2179:",
            "field file_operations::read_iter",
        ],
    ),
    // kernel/
    (
        &["def", "task_struct"],
        &["include/linux/sched.h:737:8: struct task_struct"],
    ),
    (
        &["callers", "schedule"],
        &["schedule_timeout", "kernel/time/timer.c:2144:"],
    ),
    (
        &["callees", "kernel_clone"],
        &["copy_process", "kernel/fork.c:"],
    ),
    (
        &["callers", "__mmput"],
        &[
            "mmput ",
            "kernel/fork.c:1241:",
            "mmput_async_fn",
            "kernel/fork.c:1251:",
        ],
    ),
    // mm/: a page-flag helper made by token pasting.
    (
        &["def", "PageDirty"],
        &["include/linux/page-flags.h:479:", "via PAGEFLAG"],
    ),
    (&["def", "__alloc_pages"], &["mm/page_alloc.c:5622:"]),
    // net/
    (
        &["def", "init_net"],
        &["net/core/net_namespace.c:47:12: variable init_net (external)"],
    ),
    (
        &["def", "tcp_v4_rcv"],
        &["net/ipv4/tcp_ipv4.c:1954:5: function tcp_v4_rcv (external)"],
    ),
];

/// Calls through ops tables, stores and uses, checked by hand against the 6.1
/// sources: (query, lines the answer must hold, each given by words on that line).
const FACT_LINES: &[(&[&str], &[&[&str]])] = &[
    (
        &["callers", "ext4_file_read_iter"],
        &[
            &[
                "call_read_iter",
                "include/linux/fs.h:2265:",
                "[indirect via file_operations::read_iter]",
            ],
            &[
                "__kernel_read",
                "fs/read_write.c:428:",
                "[indirect via file_operations::read_iter]",
            ],
        ],
    ),
    (
        &["stores", "file_operations::read_iter"],
        &[&["ext4_file_read_iter", "fs/ext4/file.c:914:15"]],
    ),
    // INIT_WORK_ONSTACK stores it into work_struct::func; process_one_work copies
    // that into worker::current_func and calls through it.
    (
        &["stores", "work_struct::func"],
        &[&[
            "wq_barrier_func",
            "kernel/workqueue.c:2692:",
            "via INIT_WORK_ONSTACK",
        ]],
    ),
    (
        &["stores", "worker::current_func"],
        &[&["copy of work_struct::func", "kernel/workqueue.c:2225:"]],
    ),
    (
        &["callers", "wq_barrier_func"],
        &[&[
            "process_one_work",
            "kernel/workqueue.c:2292:",
            "[indirect via worker::current_func]",
        ]],
    ),
    (
        &["uses", "mmlist_lock"],
        &[&["__mmput", "addr", "kernel/fork.c:1223:"]],
    ),
    (
        &["uses", "dentry::d_flags"],
        &[&["d_set_d_op", "write", "fs/dcache.c:1937:"]],
    ),
];

/// Asks nccnav each question of `facts` (words its answer must hold) and `lines`
/// (lines, each given by words on it); returns what is missing.
fn check_facts(
    db: &Path,
    facts: &[(&[&str], &[&str])],
    lines: &[(&[&str], &[&[&str]])],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (args, want) in facts {
        let out = nccnav(db, args);
        let text = stdout(&out);
        if !out.status.success() {
            failures.push(format!(
                "nccnav {args:?}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        for w in *want {
            if !text.contains(w) {
                failures.push(format!("nccnav {args:?} lacks {w:?}:\n{text}"));
            }
        }
    }
    for (args, want) in lines {
        let text = stdout(&nccnav(db, args));
        for words in *want {
            if !text.lines().any(|l| words.iter().all(|w| l.contains(w))) {
                failures.push(format!(
                    "nccnav {args:?} has no line with {words:?}:\n{text}"
                ));
            }
        }
    }
    failures
}

/// The compiler's own answers, the DWARF of every object, at the thresholds of the
/// every-kernel issue: 99.5% of each kind of definition, 99% of the call edges.
fn check_verify(db: &Path, more: &[&str]) {
    let mut args = vec![
        "verify",
        "--misses",
        "--min-definitions",
        "99.5",
        "--min-calls",
        "99",
    ];
    args.extend_from_slice(more);
    let out = nccnav(db, &args);
    let text = stdout(&out);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("missing "))
        .collect();
    eprintln!("{}", summary.join("\n"));
    for l in text.lines().filter(|l| l.starts_with("missing ")).take(40) {
        eprintln!("  {l}");
    }
    assert!(
        out.status.success(),
        "verify: below the thresholds:\n{text}"
    );
}

/// How calls through pointers resolve, printed for the record.
fn print_indirect_call_figures(db: &Path) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    let sites = one(
        "SELECT COUNT(*) FROM (SELECT DISTINCT caller, callee, file, line, col FROM calls WHERE indirect)",
    );
    // Every pointer with the functions that can reach it through stores and copies.
    let reach = "WITH RECURSIVE reach(ptr, fn) AS (
            SELECT s.target, s.value FROM stores s JOIN symbols y ON y.id = s.value
            WHERE y.kind = 'function'
            UNION SELECT s.target, r.fn FROM stores s JOIN reach r ON s.value = r.ptr)";
    let resolved = one(&format!(
        "{reach} SELECT COUNT(*) FROM (SELECT DISTINCT caller, callee, file, line, col
         FROM calls WHERE indirect AND callee IN (SELECT ptr FROM reach))"
    ));
    eprintln!(
        "calls through pointers: {sites} sites, {resolved} ({:.1}%) reach at least one function",
        resolved as f64 * 100.0 / sites.max(1) as f64
    );
    let mut stmt = conn
        .prepare(&format!(
            "{reach} SELECT COALESCE(y.scope || '::', '') || y.name, COUNT(DISTINCT fn) n
             FROM reach JOIN symbols y ON y.id = reach.ptr
             GROUP BY ptr ORDER BY n DESC LIMIT 8"
        ))
        .expect("prepare");
    let top: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    eprintln!("largest target sets: {top:?}");
    for table in ["calls", "stores", "uses"] {
        eprintln!(
            "{table}: {} rows",
            one(&format!("SELECT COUNT(*) FROM {table}"))
        );
    }
}

/// Documentation/kbuild/reproducible-builds.rst: what makes two builds comparable.
const REPRODUCIBLE: &[(&str, &str)] = &[
    ("KBUILD_BUILD_TIMESTAMP", "Thu Jan  1 00:00:00 UTC 1970"),
    ("KBUILD_BUILD_VERSION", "1"),
    ("KBUILD_BUILD_USER", "nccrs"),
    ("KBUILD_BUILD_HOST", "nccrs"),
];

fn jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// A hash of every object file and of `vmlinux`, by path under `build`.
fn object_hashes(build: &Path) -> BTreeMap<PathBuf, u64> {
    use std::hash::Hasher;
    let mut out = BTreeMap::new();
    let mut dirs = vec![build.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                dirs.push(p);
            } else if t.is_file()
                && (p.extension().is_some_and(|x| x == "o") || p == build.join("vmlinux"))
            {
                // A fixed-key hasher: the same bytes give the same value every run.
                let mut h = std::collections::hash_map::DefaultHasher::new();
                h.write(&std::fs::read(&p).expect("read object"));
                out.insert(
                    p.strip_prefix(build).expect("under build").to_owned(),
                    h.finish(),
                );
            }
        }
    }
    out
}

/// Checks that a plain build in the same directory, after `make clean`, makes the very
/// same objects and `vmlinux` as the nccrs build just made.
fn check_plain_build_is_identical(build: &Path, arch: &str) {
    let with_nccrs = object_hashes(build);
    assert!(with_nccrs.len() > 100, "only {} objects", with_nccrs.len());
    run(Command::new("make")
        .arg("-C")
        .arg(build)
        .arg(format!("ARCH={arch}"))
        .arg("clean"));
    let started = std::time::Instant::now();
    run(Command::new("make")
        .arg("-C")
        .arg(build)
        .arg(format!("ARCH={arch}"))
        .arg(format!("-j{}", jobs()))
        .envs(REPRODUCIBLE.iter().copied()));
    eprintln!("plain build: {:.0} s", started.elapsed().as_secs_f64());
    let plain = object_hashes(build);
    let differ: Vec<String> = with_nccrs
        .keys()
        .chain(plain.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|p| with_nccrs.get(*p) != plain.get(*p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} objects differ between the nccrs and the plain build: {:?}",
        differ.len(),
        plain.len(),
        &differ[..differ.len().min(20)]
    );
    eprintln!(
        "{} objects and vmlinux byte-identical with and without nccrs",
        plain.len() - 1
    );
}

/// Translation units recorded, and those that failed, checked against the objects.
fn check_units(db: &Path, build: &Path) {
    let dump = stdout(&nccnav(db, &["dump"]));
    let tus: Vec<Value> = dump
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"tu\""))
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let failed: Vec<&Value> = tus.iter().filter(|t| t["status"] != "ok").collect();
    eprintln!(
        "translation units: {} indexed, {} with problems",
        tus.len(),
        failed.len()
    );
    for t in &failed {
        eprintln!(
            "  {} {}: {}",
            t["status"],
            t["object"],
            t["reason"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
        );
    }
    let recorded: std::collections::HashSet<PathBuf> = tus
        .iter()
        .filter_map(|t| t["object"].as_str().map(PathBuf::from))
        .collect();
    let objects = compiled_objects(build);
    let missing: Vec<&PathBuf> = objects.iter().filter(|o| !recorded.contains(*o)).collect();
    eprintln!(
        "C objects compiled through nccrs: {}; without a recorded unit: {}",
        objects.len(),
        missing.len()
    );
    for m in &missing {
        eprintln!("  not recorded: {}", m.display());
    }
    assert!(
        objects.len() > 100,
        "only {} C objects found",
        objects.len()
    );
    let hard_failures = failed.iter().filter(|t| t["status"] == "failed").count();
    assert!(
        (hard_failures + missing.len()) * 200 <= objects.len(),
        "more than 0.5% of the C objects were not indexed"
    );
}

#[test]
fn kernel_6_1_x86_64_tinyconfig() {
    assert_eq!(
        std::env::consts::ARCH,
        "x86_64",
        "the native kernel test builds for x86_64 and needs an x86_64 machine"
    );
    let src = kernel_source("6.1");
    let build = cache_dir().join("x86-tiny-test");
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(&build).expect("mkdir");
    run(Command::new("make")
        .arg("-C")
        .arg(&src)
        .arg(format!("O={}", build.display()))
        .args(["ARCH=x86_64", "tinyconfig"]));
    let started = std::time::Instant::now();
    run(Command::new("make")
        .arg("-C")
        .arg(&build)
        .arg("ARCH=x86_64")
        .arg(format!("CC={}", bin("nccrs").display()))
        .arg(format!("-j{}", jobs()))
        // This build indexes in the background (the default); the UML one beside
        // each compile.
        .env_remove("NCCRS_INDEX")
        .env_remove("NCCRS_DB"));
    eprintln!(
        "x86_64 tinyconfig with nccrs indexing in the background: make returned after {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let db = build.join("vmlinux.db");
    assert!(
        db.is_file(),
        "vmlinux.db is not at the top of the build tree"
    );
    let wait = nccrs_wait(&db);
    eprintln!(
        "database complete after {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(wait.status.code(), Some(0), "{wait:?}");
    assert_eq!(
        stdout(&wait),
        format!("{}: every compile is indexed\n", db.display())
    );
    assert!(build.join("vmlinux").is_file(), "the build made no vmlinux");
    check_units(&db, &build);
    let mut failures = Vec::new();
    for (args, want) in [
        (
            &["def", "start_kernel"][..],
            &["init/main.c:", "function start_kernel"][..],
        ),
        (
            &["callees", "start_kernel"],
            &["setup_arch", "init/main.c:"],
        ),
        (
            &["def", "x86_64_start_kernel"],
            &["arch/x86/kernel/head64.c:"],
        ),
        (&["callers", "setup_arch"], &["start_kernel"]),
        // The way in from user space, read from the object entry_64.S assembles to
        // (`call do_syscall_64` is line 121 of 6.1's arch/x86/entry/entry_64.S).
        (
            &["callers", "do_syscall_64"],
            &[
                "entry_SYSCALL_64",
                "arch/x86/entry/entry_64.S:121:7",
                "[from assembly]",
            ],
        ),
    ] {
        let text = stdout(&nccnav(&db, args));
        for w in want {
            if !text.contains(w) {
                failures.push(format!("nccnav {args:?} lacks {w:?}:\n{text}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kernel_6_1_uml_defconfig() {
    let src = kernel_source("6.1");
    let build = cache_dir().join("um-test");
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(&build).expect("mkdir");
    run(Command::new("make")
        .arg("-C")
        .arg(&src)
        .arg(format!("O={}", build.display()))
        .args(["ARCH=um", "defconfig"]));
    // DWARF in every object, for `nccnav verify`.
    run(Command::new(src.join("scripts/config"))
        .arg("--file")
        .arg(build.join(".config"))
        .args([
            "-d",
            "DEBUG_INFO_NONE",
            "-e",
            "DEBUG_INFO",
            "-e",
            "DEBUG_INFO_DWARF4",
        ]));
    run(Command::new("make")
        .arg("-C")
        .arg(&src)
        .arg(format!("O={}", build.display()))
        .args(["ARCH=um", "olddefconfig"]));
    let config = std::fs::read_to_string(build.join(".config")).expect(".config");
    assert!(
        config.contains("CONFIG_DEBUG_INFO_DWARF4=y"),
        "DWARF 4 debug information could not be turned on"
    );
    let started = std::time::Instant::now();
    run(Command::new("make")
        .arg("-C")
        .arg(&build)
        .arg("ARCH=um")
        .arg(format!("CC={}", bin("nccrs").display()))
        .arg(format!("-j{}", jobs()))
        .envs(REPRODUCIBLE.iter().copied())
        // This build indexes beside each compile; the x86_64 one in the background.
        .env("NCCRS_INDEX", "inline")
        .env_remove("NCCRS_DB"));
    eprintln!(
        "kernel build with nccrs: {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let db = build.join("vmlinux.db");
    assert!(
        db.is_file(),
        "vmlinux.db is not at the top of the build tree"
    );
    assert!(build.join("vmlinux").is_file(), "the build made no vmlinux");

    // Translation units: how many, and which ones failed and why.
    check_units(&db, &build);

    let failures = check_facts(&db, FACTS, FACT_LINES);
    print_indirect_call_figures(&db);
    crate::tui::kernel_walk(&db);
    check_verify(&db, &[]);
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    eprintln!("database: {:.1} MB", size as f64 / 1e6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The build is sacred: the same objects and vmlinux without nccrs.
    check_plain_build_is_identical(&build, "um");
}

/// C objects the build compiled with nccrs (not host programs, not assembly): those
/// whose `.o.cmd` command runs nccrs on a `.c` file.
fn compiled_objects(build: &Path) -> Vec<PathBuf> {
    let cc = bin("nccrs").display().to_string();
    let out = Command::new("find")
        .arg(build)
        .args(["-name", "*.o.cmd"])
        .output()
        .expect("find");
    stdout(&out)
        .lines()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines()
                // `savedcmd_` since Linux 6.2.
                .find(|l| l.starts_with("cmd_") || l.starts_with("savedcmd_"))
                .is_some_and(|cmd| {
                    cmd.contains(&format!("{cc} "))
                        && cmd
                            .split(|c: char| c.is_whitespace() || c == ';')
                            .any(|w| w.ends_with(".c"))
                })
        })
        .filter_map(|p| {
            // dir/.name.o.cmd describes dir/name.o
            let p = Path::new(p);
            let name = p.file_name()?.to_str()?;
            let object = name.strip_prefix('.')?.strip_suffix(".cmd")?;
            std::fs::canonicalize(p.with_file_name(object)).ok()
        })
        .collect()
}

// ---- Linux 6.12 ----

/// How one kernel of the tests is configured and built.
struct Recipe {
    version: &'static str,
    /// The build tree's name in the cache (`O=`), or, for a build in the source tree,
    /// the name of the source tree's private copy.
    name: &'static str,
    in_tree: bool,
    config: &'static str,
    /// `make` variables of every call: `ARCH=`, `CROSS_COMPILE=`, `LLVM=`, `CC=`.
    vars: Vec<String>,
    background: bool,
}

/// A kernel the tests built with nccrs.
struct Built {
    src: PathBuf,
    /// The build tree: the `O=` directory, or the source tree itself.
    out: PathBuf,
    db: PathBuf,
    vars: Vec<String>,
}

fn nccrs_cc(compiler: Option<&str>) -> String {
    match compiler {
        Some(c) => format!("CC={} {c}", bin("nccrs").display()),
        None => format!("CC={}", bin("nccrs").display()),
    }
}

/// Configures (`config`, plus DWARF 4 for `nccnav verify`) and builds `r`; when
/// indexing in the background, waits for the database too.
fn build(r: &Recipe) -> Built {
    let (src, out) = if r.in_tree {
        let src = private_source(r.version, r.name);
        (src.clone(), src)
    } else {
        let out = cache_dir().join(r.name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("mkdir");
        (kernel_source(r.version), out)
    };
    let make = |targets: &[&str]| {
        let mut cmd = Command::new("make");
        cmd.arg("-C").arg(&src);
        if !r.in_tree {
            cmd.arg(format!("O={}", out.display()));
        }
        cmd.args(&r.vars).args(targets).env_remove("NCCRS_DB");
        cmd
    };
    run(&mut make(&[r.config]));
    run(Command::new(src.join("scripts/config"))
        .arg("--file")
        .arg(out.join(".config"))
        .args([
            "-e",
            "DEBUG_KERNEL",
            "-d",
            "DEBUG_INFO_NONE",
            "-e",
            "DEBUG_INFO",
            "-e",
            "DEBUG_INFO_DWARF4",
        ]));
    run(&mut make(&["olddefconfig"]));
    let config = std::fs::read_to_string(out.join(".config")).expect(".config");
    assert!(
        config.contains("CONFIG_DEBUG_INFO_DWARF4=y"),
        "{}: DWARF 4 debug information could not be turned on",
        r.name
    );
    let started = std::time::Instant::now();
    let mut cmd = make(&[&format!("-j{}", jobs())]);
    cmd.envs(REPRODUCIBLE.iter().copied());
    // The default, background, or beside each compile.
    if r.background {
        cmd.env_remove("NCCRS_INDEX");
    } else {
        cmd.env("NCCRS_INDEX", "inline");
    }
    run(&mut cmd);
    eprintln!(
        "{}: make returned after {:.0} s",
        r.name,
        started.elapsed().as_secs_f64()
    );
    let db = out.join("vmlinux.db");
    assert!(
        db.is_file(),
        "{}: vmlinux.db is not at the top of the build tree",
        r.name
    );
    if r.background {
        let wait = nccrs_wait(&db);
        assert_eq!(wait.status.code(), Some(0), "{}: {wait:?}", r.name);
        eprintln!(
            "{}: database complete after {:.0} s",
            r.name,
            started.elapsed().as_secs_f64()
        );
    }
    assert!(out.join("vmlinux").is_file(), "{}: no vmlinux", r.name);
    Built {
        src,
        out,
        db,
        vars: r.vars.clone(),
    }
}

/// Builds `r` once for every test that asks; a failed build fails each of them.
fn shared(
    cell: &'static OnceLock<Result<Built, String>>,
    r: impl FnOnce() -> Recipe,
) -> &'static Built {
    let built = cell.get_or_init(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(&r()))).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    });
    match built {
        Ok(b) => b,
        Err(e) => panic!("the shared kernel build failed: {e}"),
    }
}

/// Linux 6.12 UML defconfig with DWARF, in an `O=` directory outside the source tree
/// (kbuild then exports `srctree` absolute and `objtree=.`), indexed in the background.
fn uml_6_12() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    shared(&BUILT, || Recipe {
        version: "6.12",
        name: "um-6.12-test",
        in_tree: false,
        config: "defconfig",
        vars: vec!["ARCH=um".into(), nccrs_cc(None)],
        background: true,
    })
}

/// No file of the kernel's trees is stored with an absolute path.
fn check_paths_relative(b: &Built) {
    let dump = stdout(&nccnav(&b.db, &["dump"]));
    let trees = [
        std::fs::canonicalize(&b.src).expect("source tree"),
        std::fs::canonicalize(&b.out).expect("build tree"),
    ];
    let absolute: Vec<&str> = dump
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"file\""))
        .filter(|l| {
            let v: Value = serde_json::from_str(l).expect("json");
            v["root"] == "abs"
                && trees.iter().any(|t| {
                    v["path"]
                        .as_str()
                        .is_some_and(|p| Path::new(p).starts_with(t))
                })
        })
        .take(10)
        .collect();
    assert!(
        absolute.is_empty(),
        "files of the kernel's trees stored absolute: {absolute:?}"
    );
}

/// Facts checked by hand against the 6.12 sources.
const FACTS_6_12_UML: &[(&[&str], &[&str])] = &[
    // The issue's own example: fs/dcache.c:79, not an absolute path.
    (
        &["def", "rename_lock"],
        &["fs/dcache.c:79:", "via DEFINE_SEQLOCK"],
    ),
    (
        &["def", "mmlist_lock"],
        &["kernel/fork.c:1237:", "via DEFINE_SPINLOCK"],
    ),
    (
        &["def", "__do_sys_read"],
        &["fs/read_write.c:720:", "via SYSCALL_DEFINE3"],
    ),
    (
        &["callees", "__do_sys_read"],
        &["ksys_read", "fs/read_write.c:722:"],
    ),
    (
        &["path", "__do_sys_read", "vfs_read"],
        &["-> ksys_read", "-> vfs_read", "fs/read_write.c:712:"],
    ),
    (
        &["def", "nr_dentry"],
        &["fs/dcache.c:135:", "(internal)", "via DEFINE_PER_CPU"],
    ),
    (
        &["def", "task_struct"],
        &["include/linux/sched.h:784:8: struct task_struct"],
    ),
    (
        &["def", "PageDirty"],
        &["include/linux/page-flags.h:514:", "via PAGEFLAG"],
    ),
    // Its line moves with Debian's stable updates: checked against the source below.
    (
        &["def", "__alloc_pages_noprof"],
        &[
            "mm/page_alloc.c:",
            "function __alloc_pages_noprof (external)",
        ],
    ),
    (
        &["def", "init_net"],
        &["net/core/net_namespace.c:48:12: variable init_net (external)"],
    ),
    (
        &["def", "tcp_v4_rcv"],
        &["net/ipv4/tcp_ipv4.c:2183:5: function tcp_v4_rcv (external)"],
    ),
];

const FACT_LINES_6_12_UML: &[(&[&str], &[&[&str]])] = &[
    (
        &["callers", "__mmput"],
        &[
            &["mmput ", "kernel/fork.c:1399:"],
            &["mmput_async_fn", "kernel/fork.c:1409:"],
        ],
    ),
    (
        &["uses", "mmlist_lock"],
        &[&["__mmput", "addr", "kernel/fork.c:1381:"]],
    ),
    (
        &["callers", "ext4_file_read_iter"],
        &[&[
            "new_sync_read",
            "fs/read_write.c:488:",
            "[indirect via file_operations::read_iter]",
        ]],
    ),
    (
        &["stores", "file_operations::read_iter"],
        &[&["ext4_file_read_iter", "fs/ext4/file.c:933:"]],
    ),
    (
        &["stores", "worker::current_func"],
        &[&["copy of work_struct::func", "kernel/workqueue.c:3194:"]],
    ),
    (
        &["callers", "wq_barrier_func"],
        &[&[
            "process_one_work",
            "kernel/workqueue.c:3266:",
            "[indirect via worker::current_func]",
        ]],
    ),
    // Every reference: the comparison `work->func == wq_barrier_func` that is neither
    // a call nor a store, and the store with the function that made it.
    (
        &["refs", "wq_barrier_func"],
        &[
            &["pr_cont_work", "kernel/workqueue.c:6265:", "addr"],
            &[
                "insert_wq_barrier",
                "kernel/workqueue.c:3829:",
                "stored into work_struct::func",
            ],
        ],
    ),
    (
        &["stores", "wq_barrier_func"],
        &[&[
            "into work_struct::func",
            "kernel/workqueue.c:3829:",
            "in insert_wq_barrier",
        ]],
    ),
    // kmem_cache_create() is a _Generic macro on 6.12: the constructor passed through
    // it is stored, and reached through the cache's member.
    (
        &["stores", "anon_vma_ctor"],
        &[&[
            "into __kmem_cache_create::ctor",
            "mm/rmap.c:472:4",
            "in anon_vma_init",
        ]],
    ),
    (
        &["callers", "anon_vma_ctor"],
        &[&[
            "setup_object",
            "mm/slub.c:",
            "[indirect via kmem_cache::ctor]",
        ]],
    ),
    // Two of kmem_cache_create's associations are functions of one type: `&args`, a
    // `struct kmem_cache_args *`, picks the one that type name is written before.
    (
        &["callees", "files_init"],
        &[&[
            "__kmem_cache_create_args",
            "fs/file_table.c:",
            "via kmem_cache_create",
        ]],
    ),
    // Who expands a function-like macro, where (kernel/workqueue.c:2882 is
    // reap_dying_workers, whose loop is list_for_each_entry_safe at 2886).
    (
        &["refs", "list_for_each_entry_safe"],
        &[&["reap_dying_workers", "kernel/workqueue.c:2886:2", "expand"]],
    ),
    // A macro's page: the locks DEFINE_SPINLOCK defined, each where it is written.
    (
        &["def", "DEFINE_SPINLOCK"],
        &[
            &["made by its expansions:", "variable"],
            &["variable swap_lock", "mm/swapfile.c:66:"],
        ],
    ),
    // SYSCALL_DEFINE3 declares sys_read an alias of __se_sys_read; UML's system-call
    // table holds sys_read, and handle_syscall calls through `(*sys_call_table[nr])`.
    (
        &["def", "sys_read"],
        &[&[
            "fs/read_write.c:",
            "function sys_read (external)",
            "alias of __se_sys_read",
            "via SYSCALL_DEFINE3",
        ]],
    ),
    (
        &["path", "handle_syscall", "vfs_read"],
        &[
            &[
                "-> sys_read",
                "arch/um/kernel/skas/syscall.c:",
                "via EXECUTE_SYSCALL",
                "[indirect via sys_call_table]",
            ],
            &["-> __se_sys_read", "fs/read_write.c:", "[alias target]"],
            &["-> ksys_read", "fs/read_write.c:"],
        ],
    ),
    // A function's result: pm_op() returns ops->resume (drivers/base/power/main.c:351,
    // CONFIG_SUSPEND), device_resume() passes it to dpm_run_callback(), which calls it;
    // alarmtimer_pm_ops has .resume = alarmtimer_resume (kernel/time/alarmtimer.c:915).
    (
        &["stores", "pm_op::return"],
        &[&[
            "copy of dev_pm_ops::resume",
            "drivers/base/power/main.c:351:",
            "in pm_op",
        ]],
    ),
    (
        &["callers", "alarmtimer_resume"],
        &[&[
            "dpm_run_callback",
            "drivers/base/power/main.c:",
            "[indirect via dpm_run_callback::cb]",
        ]],
    ),
    (
        &["def", "pm_op::return"],
        &[&["drivers/base/power/main.c:", "result pm_op::return"]],
    ),
    // hash_add's ilog2() picks __ilog2_u64 for a size_t: `sizeof(n) <= 4 ? ... : ...`
    // is constant, and the other arm is dead in this configuration.
    (
        &["callees", "process_one_work", "--dead"],
        &[
            &[
                "__ilog2_u32",
                "kernel/workqueue.c:",
                "via hash_add",
                "[dead in this configuration]",
            ],
            &["__ilog2_u64", "kernel/workqueue.c:", "via hash_add"],
        ],
    ),
];

#[test]
fn kernel_6_12_uml_defconfig() {
    let b = uml_6_12();
    check_units(&b.db, &b.out);
    check_paths_relative(b);
    let mut failures = check_facts(&b.db, FACTS_6_12_UML, FACT_LINES_6_12_UML);
    // A system call asked for by its name: the functions SYSCALL_DEFINE made.
    let out = nccnav(&b.db, &["def", "openat"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) || !err.contains("__do_sys_openat") {
        failures.push(format!("def openat: {:?} {err}", out.status.code()));
    }
    // The line the unpacked source defines it on.
    let page_alloc = std::fs::read_to_string(b.src.join("mm/page_alloc.c")).expect("source");
    let line = page_alloc
        .lines()
        .position(|l| l.starts_with("struct page *__alloc_pages_noprof("))
        .expect("__alloc_pages_noprof in mm/page_alloc.c")
        + 1;
    let def = stdout(&nccnav(&b.db, &["def", "__alloc_pages_noprof"]));
    if !def.contains(&format!("mm/page_alloc.c:{line}:")) {
        failures.push(format!(
            "def __alloc_pages_noprof: not at line {line}: {def}"
        ));
    }
    // Code this configuration compiled out: kernel/workqueue.c:1306 is `#ifdef
    // CONFIG_WQ_CPU_INTENSIVE_REPORT` (not set on UML defconfig), wci_find_ent is
    // defined at 1333 inside it.
    let out = nccnav(&b.db, &["def", "wci_find_ent"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1)
        || !err.contains(
            "wci_find_ent: not compiled in this configuration: kernel/workqueue.c:1333, inside #ifdef CONFIG_WQ_CPU_INTENSIVE_REPORT (kernel/workqueue.c:1306)",
        )
    {
        failures.push(format!("def wci_find_ent: {:?} {err}", out.status.code()));
    }
    // include/linux/printk.h:383-385 is `#ifndef pr_fmt` / `#define pr_fmt(fmt) fmt`:
    // the units that define pr_fmt first skip line 384, the others compile it, so the
    // build compiled it; 390-438, inside `#ifdef CONFIG_PRINTK_INDEX` (not set), no
    // unit compiled.
    let dump = stdout(&nccnav(&b.db, &["dump", "--canonical"]));
    let printk = dump
        .lines()
        .find(|l| l.contains(r#""type":"skipped""#) && l.contains(r#"include/linux/printk.h""#))
        .unwrap_or_default();
    if !printk.contains("[390,438]") || printk.contains("[384,384]") {
        failures.push(format!("the lines printk.h compiled out: {printk:?}"));
    }
    // Without --dead, the dead arm is not a callee.
    let callees = stdout(&nccnav(&b.db, &["callees", "process_one_work"]));
    if callees.contains("__ilog2_u32") || !callees.contains("__ilog2_u64") {
        failures.push(format!("callees process_one_work, the dead arm: {callees}"));
    }
    // The language server on the same database.
    failures.extend(crate::lsp::check_kernel(&b.db, &b.src));
    // And the MCP server, through the official Python SDK.
    failures.extend(crate::mcp::check_kernel(&b.db, &b.src));
    print_indirect_call_figures(&b.db);
    // And the objects' ELF symbol tables: aliases (SYSCALL_DEFINE's sys_read,
    // cond_syscall's weak ones) included.
    check_verify(&b.db, &["--min-symbols", "99.5"]);
    let size = std::fs::metadata(&b.db).map(|m| m.len()).unwrap_or(0);
    eprintln!("database: {:.1} MB", size as f64 / 1e6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `make -C BUILD M=DIR CC=nccrs`: an external module against the 6.12 UML build. Its
/// units join the kernel's database, its calls reach the kernel's functions, and its
/// files are stored relative to its own directory (root `ext`), shown short and opened.
#[test]
fn kernel_6_12_external_module() {
    let b = uml_6_12();
    let module = tempfile::tempdir().expect("tempdir");
    for f in ["Kbuild", "hello.h", "helper.c", "main.c"] {
        std::fs::copy(nccrs_e2e::fixture("extmod").join(f), module.path().join(f))
            .expect("copy the module");
    }
    let dir = std::fs::canonicalize(module.path()).expect("module dir");
    let before = nccrs_e2e::units(&b.db).len();
    run(Command::new("make")
        .arg("-C")
        .arg(&b.out)
        .args(&b.vars)
        .arg(format!("M={}", dir.display()))
        .arg(format!("-j{}", jobs()))
        .env("NCCRS_INDEX", "inline")
        .env_remove("NCCRS_DB"));
    assert!(dir.join("nccrs_hello.ko").is_file(), "no module built");

    let units = nccrs_e2e::units(&b.db);
    let ours: Vec<&Value> = units
        .iter()
        .filter(|t| {
            t["object"]
                .as_str()
                .is_some_and(|o| Path::new(o).starts_with(&dir))
        })
        .collect();
    assert!(
        units.len() >= before + 2 && ours.len() >= 2,
        "the module's units did not join the kernel's ({before} before): {ours:?}"
    );
    for t in &ours {
        assert_eq!(t["status"], "ok", "{t}");
        assert_eq!(t["module"], true, "{t}");
        // 6.12 also links scripts/module-common.c into every module, as a module of
        // its own name.
        let object = t["object"].as_str().unwrap_or("");
        if !object.ends_with("/.module-common.o") {
            assert_eq!(t["modname"], "nccrs_hello", "{t}");
        }
    }
    let files: Vec<Value> = stdout(&nccnav(&b.db, &["dump"]))
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"file\""))
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|f: &Value| f["root"] == "ext")
        .collect();
    let paths: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    for want in ["main.c", "helper.c", "hello.h"] {
        assert!(
            paths.contains(&want),
            "{want} not under root ext: {files:?}"
        );
    }
    assert!(
        files.iter().all(|f| f["base"].as_str() == dir.to_str()),
        "{files:?}"
    );

    let facts: &[(&[&str], &[&str])] = &[
        (
            &["def", "hello_read"],
            &[
                "main.c:15:",
                "function hello_read (internal)",
                "[module nccrs_hello]",
            ],
        ),
        (&["def", "proc_create"], &["fs/proc/generic.c:"]),
        (
            &["callees", "hello_init"],
            &["hello_greeting  main.c:28:", "proc_create     main.c:31:"],
        ),
        // A global defined in every module: each definition with its module.
        (
            &["def", "__this_module"],
            &[
                "nccrs_hello.mod.c:",
                "[module nccrs_hello]",
                "[module loop]",
            ],
        ),
    ];
    let lines: &[(&[&str], &[&[&str]])] = &[
        (
            &["callers", "kasprintf"],
            &[&["hello_greeting", "helper.c:9:"]],
        ),
        (
            &["stores", "proc_ops::proc_read"],
            &[&["hello_read", "main.c:23:"]],
        ),
        // pde_read copies the member into a local pointer and calls through it.
        (
            &["callers", "hello_read"],
            &[&[
                "pde_read",
                "fs/proc/inode.c:308:",
                "[indirect via pde_read::read]",
            ]],
        ),
    ];
    let failures = check_facts(&b.db, facts, lines);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The navigator finds the module's source where it is.
    let screen = crate::tui::opened_on(&b.db, "hello_read");
    assert!(
        screen.contains("static ssize_t hello_read(struct file *file"),
        "{screen}"
    );
}

/// Linux 6.12 arm64 tinyconfig, cross-compiled with the compiler named after nccrs.
#[test]
fn kernel_6_12_arm64_tinyconfig() {
    let b = build(&Recipe {
        version: "6.12",
        name: "arm64-tiny-6.12-test",
        in_tree: false,
        config: "tinyconfig",
        vars: vec![
            "ARCH=arm64".into(),
            "CROSS_COMPILE=aarch64-linux-gnu-".into(),
            nccrs_cc(Some("aarch64-linux-gnu-gcc")),
        ],
        background: false,
    });
    check_units(&b.db, &b.out);
    check_paths_relative(&b);
    let facts: &[(&[&str], &[&str])] = &[
        (
            &["def", "invoke_syscall"],
            &[
                "arch/arm64/kernel/syscall.c:38:",
                "function invoke_syscall (internal)",
            ],
        ),
        (
            &["def", "start_kernel"],
            &["init/main.c:", "function start_kernel"],
        ),
    ];
    let lines: &[(&[&str], &[&[&str]])] = &[
        (
            &["callees", "invoke_syscall"],
            &[&["__invoke_syscall", "arch/arm64/kernel/syscall.c:49:"]],
        ),
        // The pointer taken from the table is called through the parameter.
        (
            &["callees", "__invoke_syscall"],
            &[&["syscall_fn", "arch/arm64/kernel/syscall.c:35:"]],
        ),
        (
            &["callers", "invoke_syscall"],
            &[&["el0_svc_common", "arch/arm64/kernel/syscall.c:"]],
        ),
        // A `bl` in assembly (arch/arm64/kernel/entry.S:859, in ret_from_fork), read
        // from the object's CALL26 relocation.
        (
            &["callers", "schedule_tail"],
            &[&[
                "ret_from_fork",
                "arch/arm64/kernel/entry.S:859:5",
                "[from assembly]",
            ]],
        ),
    ];
    let failures = check_facts(&b.db, facts, lines);
    // Parsed for the target: arm64's register variables and inline assembly are no
    // errors to libclang.
    let partial: Vec<String> = nccrs_e2e::units(&b.db)
        .into_iter()
        .filter(|t| t["status"] != "ok")
        .map(|t| format!("{} {}", t["object"], t["reason"]))
        .collect();
    eprintln!("units that were not read whole: {partial:?}");
    assert!(partial.is_empty(), "{partial:#?}");
    check_verify(&b.db, &[]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Linux 6.12 x86_64 tinyconfig built with LLVM (`LLVM=-19 CC="nccrs clang-19"`), in
/// the source tree (kbuild exports `srctree=.`).
#[test]
fn kernel_6_12_llvm_tinyconfig_in_tree() {
    assert_eq!(
        std::env::consts::ARCH,
        "x86_64",
        "the native kernel test builds for x86_64 and needs an x86_64 machine"
    );
    let b = build(&Recipe {
        version: "6.12",
        name: "linux-6.12-llvm-in-tree-test",
        in_tree: true,
        config: "tinyconfig",
        vars: vec![
            "ARCH=x86_64".into(),
            "LLVM=-19".into(),
            nccrs_cc(Some("clang-19")),
        ],
        background: false,
    });
    let config = std::fs::read_to_string(b.out.join(".config")).expect(".config");
    assert!(
        config.contains("CONFIG_CC_IS_CLANG=y"),
        "not built with clang"
    );
    check_units(&b.db, &b.out);
    check_paths_relative(&b);
    let facts: &[(&[&str], &[&str])] = &[
        (
            &["def", "start_kernel"],
            &["init/main.c:", "function start_kernel"],
        ),
        (
            &["def", "x64_sys_call"],
            &["arch/x86/entry/syscall_64.c:30:"],
        ),
        (
            &["path", "do_syscall_64", "vfs_read"],
            &["-> x64_sys_call", "-> __x64_sys_read", "-> vfs_read"],
        ),
        // From the system-call instruction's entry, written in assembly (clang's
        // integrated assembler), to vfs_read.
        (
            &["path", "entry_SYSCALL_64", "vfs_read"],
            &[
                "-> do_syscall_64",
                "arch/x86/entry/entry_64.S:121:7  [from assembly]",
                "-> x64_sys_call",
                "-> __x64_sys_read",
                "-> vfs_read",
            ],
        ),
    ];
    let lines: &[(&[&str], &[&[&str]])] = &[
        (
            &["callees", "start_kernel"],
            &[&["setup_arch", "init/main.c:"]],
        ),
        // The switch's `case` lines come from the generated syscall table.
        (
            &["callers", "__x64_sys_read"],
            &[&[
                "x64_sys_call",
                "arch/x86/include/generated/asm/syscalls_64.h:1:1",
                "via __SYSCALL",
            ]],
        ),
    ];
    let failures = check_facts(&b.db, facts, lines);
    check_verify(&b.db, &[]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The private tree is big: leave it for the next run only on failure.
    let _ = std::fs::remove_dir_all(&b.src);
}
