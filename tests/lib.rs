//! Helpers shared by the end-to-end tests: find the binaries, build fixtures with and
//! without nccrs, and turn a database into sorted, reviewable text.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Where the tests keep what they unpack or install once (kernel sources, the MCP
/// client): `$NCCRS_KERNEL_CACHE`, default `~/.cache/nccrs`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("NCCRS_KERNEL_CACHE") {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache/nccrs"),
            None => std::env::temp_dir().join("nccrs-cache"),
        },
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// A binary of this workspace, built by the same `cargo test` run.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    private_cache(dir);
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`",
        p.display()
    );
    p
}

/// Every nccrs the tests start keeps its facts cache in a directory of this test
/// process's own (`target/PROFILE/facts-cache-PID`), so that a hit never hides a
/// change of the indexer; the tests of the cache name a cache of their own. The
/// directories of test processes that ended are removed.
fn private_cache(target: &Path) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for e in std::fs::read_dir(target).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("facts-cache-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = target.join(format!("facts-cache-{}", std::process::id()));
        // Set before any nccrs starts: the first binary is asked for before that.
        std::env::set_var("NCCRS_CACHE_DIR", dir);
    });
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

/// Runs `make -C fixtures/NAME O=objdir TARGETS` with `CC` set as given.
pub fn make(
    fixture_name: &str,
    objdir: &Path,
    cc: &Path,
    env: &[(&str, &Path)],
    targets: &[&str],
) -> Output {
    make_tree(&fixture(fixture_name), objdir, cc, env, targets)
}

/// A copy of fixtures/minikernel in `dir/src`, to change at will.
pub fn fixture_copy(dir: &Path) -> PathBuf {
    let to = dir.join("src");
    let st = Command::new("cp")
        .arg("-r")
        .arg(fixture("minikernel"))
        .arg(&to)
        .status()
        .expect("cp");
    assert!(st.success());
    let _ = std::fs::remove_dir_all(to.join("build"));
    to
}

/// Runs `make -C SRC O=objdir TARGETS` with `CC` set as given.
pub fn make_tree(
    src: &Path,
    objdir: &Path,
    cc: &Path,
    env: &[(&str, &Path)],
    targets: &[&str],
) -> Output {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(src)
        .arg(format!("O={}", objdir.display()));
    cmd.arg(format!("CC={}", cc.display())).args(targets);
    // The tests read the database as soon as make returns and look for the indexer's
    // warnings in make's output: inline, unless a test says otherwise. An empty
    // NCCRS_INDEX leaves the variable unset, for the tests of the default.
    cmd.env_remove("NCCRS_DB")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env("NCCRS_INDEX", "inline");
    for (k, v) in env {
        if *k == "NCCRS_INDEX" && v.as_os_str().is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.output().expect("make runs")
}

pub fn nccnav(db: &Path, args: &[&str]) -> Output {
    Command::new(bin("nccnav"))
        .arg(db)
        .args(args)
        .output()
        .expect("nccnav runs")
}

/// `nccrs --wait DB`: returns when every compile into DB is indexed.
pub fn nccrs_wait(db: &Path) -> Output {
    Command::new(bin("nccrs"))
        .arg("--wait")
        .arg(db)
        .output()
        .expect("nccrs --wait runs")
}

/// The translation-unit records of a database (`nccnav dump`'s `tu` lines).
pub fn units(db: &Path) -> Vec<Value> {
    stdout(&nccnav(db, &["dump"]))
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"tu\""))
        .map(|l| serde_json::from_str(l).expect("dump line is JSON"))
        .collect()
}

/// The record of the unit whose object path ends with `suffix`.
pub fn unit(db: &Path, suffix: &str) -> Value {
    units(db)
        .into_iter()
        .find(|t| t["object"].as_str().is_some_and(|o| o.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no unit for {suffix} in {}", db.display()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every fact of a database as sorted lines, with names in place of ids, so that a
/// human can check them against the source:
///
/// ```text
/// def KIND LINKAGE NAME at FILE:LINE:COL [via MACRO] [declaration]
/// call CALLER -> CALLEE at FILE:LINE:COL [indirect] [via MACRO]
/// tu SOURCE STATUS [module]
/// ```
///
/// A name that several symbols share is written `NAME@FILE` (its first definition).
pub fn facts_text(db: &Path) -> String {
    let out = nccnav(db, &["dump"]);
    assert!(
        out.status.success(),
        "nccnav dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("dump line is JSON"))
        .collect();
    let mut files: HashMap<i64, String> = HashMap::new();
    let mut symbols: HashMap<i64, Value> = HashMap::new();
    let mut name_count: HashMap<String, usize> = HashMap::new();
    for v in &lines {
        match v["type"].as_str() {
            Some("file") => {
                let root = v["root"].as_str().unwrap_or("?");
                let path = v["path"].as_str().unwrap_or("?");
                let shown = if root == "src" {
                    path.to_owned()
                } else {
                    format!("{root}:{path}")
                };
                files.insert(v["id"].as_i64().unwrap_or(-1), shown);
            }
            Some("symbol") => {
                let name = full_name(v);
                *name_count.entry(name).or_default() += 1;
                symbols.insert(v["id"].as_i64().unwrap_or(-1), v.clone());
            }
            _ => {}
        }
    }
    let file = |id: &Value| {
        files
            .get(&id.as_i64().unwrap_or(-1))
            .cloned()
            .unwrap_or_else(|| "?".into())
    };
    let name = |id: &Value| {
        let s = &symbols[&id.as_i64().unwrap_or(-1)];
        let n = full_name(s);
        if name_count[&n] > 1 {
            format!("{n}@{}", file(&s["file"]))
        } else {
            n
        }
    };
    let via = |v: &Value| {
        v["macro"]
            .as_str()
            .map(|m| format!(" via {m}"))
            .unwrap_or_default()
    };
    let mut out = BTreeSet::new();
    for v in &lines {
        match v["type"].as_str() {
            Some("def") => {
                let s = &symbols[&v["symbol"].as_i64().unwrap_or(-1)];
                let decl = if v["definition"].as_bool() == Some(true) {
                    ""
                } else {
                    " declaration"
                };
                out.insert(format!(
                    "def {} {} {} at {}:{}:{}{}{decl}",
                    s["kind"].as_str().unwrap_or("?"),
                    s["linkage"].as_str().unwrap_or("?"),
                    name(&v["symbol"]),
                    file(&v["file"]),
                    v["line"],
                    v["col"],
                    via(v)
                ));
            }
            Some("call") => {
                let ind = if v["indirect"].as_bool() == Some(true) {
                    " indirect"
                } else {
                    ""
                };
                let flag = |f: &str| {
                    if v[f].as_bool() == Some(true) {
                        format!(" {f}")
                    } else {
                        String::new()
                    }
                };
                out.insert(format!(
                    "call {} -> {} at {}:{}:{}{ind}{}{}{}",
                    name(&v["caller"]),
                    name(&v["callee"]),
                    file(&v["file"]),
                    v["line"],
                    v["col"],
                    via(v),
                    flag("dead"),
                    flag("alias")
                ));
            }
            Some("store") => {
                let value = match v.get("function") {
                    Some(f) => name(f),
                    None => format!("copy of {}", name(&v["from"])),
                };
                out.insert(format!(
                    "store {} <- {value} at {}:{}:{}{} in {}",
                    name(&v["member"]),
                    file(&v["file"]),
                    v["line"],
                    v["col"],
                    via(v),
                    name(&v["within"])
                ));
            }
            Some("skipped") => {
                for r in v["lines"].as_array().into_iter().flatten() {
                    out.insert(format!(
                        "skipped {} lines {}-{}",
                        file(&v["file"]),
                        r[0],
                        r[1]
                    ));
                }
            }
            Some("use") => {
                out.insert(format!(
                    "use {} {} {} at {}:{}:{}{}",
                    name(&v["function"]),
                    v["access"].as_str().unwrap_or("?"),
                    name(&v["symbol"]),
                    file(&v["file"]),
                    v["line"],
                    v["col"],
                    via(v)
                ));
            }
            Some("tu") => {
                let module = if v["module"].as_bool() == Some(true) {
                    " module"
                } else {
                    ""
                };
                out.insert(format!(
                    "tu {} {}{module}",
                    file(&v["source"]),
                    v["status"].as_str().unwrap_or("?")
                ));
            }
            _ => {}
        }
    }
    out.into_iter().map(|l| l + "\n").collect()
}

fn full_name(s: &Value) -> String {
    let n = s["name"].as_str().unwrap_or("?");
    match s["scope"].as_str() {
        Some(scope) => format!("{scope}::{n}"),
        None => n.to_owned(),
    }
}

/// Compares `actual` with the file at `expected`; `UPDATE_EXPECT=1` rewrites the file.
pub fn expect_file(expected: &Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(expected, actual).expect("write expected file");
        return;
    }
    let want = std::fs::read_to_string(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_EXPECT=1 writes it)", expected.display()));
    if want != actual {
        let want_set: BTreeSet<&str> = want.lines().collect();
        let got_set: BTreeSet<&str> = actual.lines().collect();
        let missing: Vec<_> = want_set.difference(&got_set).collect();
        let extra: Vec<_> = got_set.difference(&want_set).collect();
        panic!(
            "facts differ from {} (UPDATE_EXPECT=1 rewrites it after review)\nmissing:\n  {}\nunexpected:\n  {}",
            expected.display(),
            missing.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("\n  "),
            extra.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("\n  ")
        );
    }
}

/// Every regular file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Registers a pending job owned by this (live) process in `db`'s pending directory, as
/// a compile under way does; returns its file.
pub fn pending_job_of_this_process(db: &Path) -> PathBuf {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("comm")
        .1
        .split_whitespace()
        .collect();
    let job = schema::pending::dir(db).join(format!("{}-{}.job", std::process::id(), fields[19]));
    std::fs::write(&job, "{}").expect("write a pending job");
    job
}

/// A database of one unit, `d.c` in `dir`, whose `f` calls `a` in an arm a constant
/// condition never takes (`IS_ENABLED(CONFIG_X)` with X off, at 4:48) and `b` (at
/// 4:60); `g` calls `f`. Compiled with `-g -O2`, the calls that run stay calls.
pub fn dead_calls_db(dir: &Path) -> PathBuf {
    std::fs::write(
        dir.join("d.c"),
        "#define IS_ENABLED(x) 0\n\
         int x; __attribute__((noinline)) int a(void) { x = 1; return 0; }\n\
         __attribute__((noinline)) int b(void) { x = 2; return 0; } \
         __attribute__((noinline)) int f(void);\n\
         int f(void) { if (IS_ENABLED(CONFIG_X)) return a(); return b(); }\n\
         int g(void) { return f(); }\n",
    )
    .expect("write");
    let db = dir.join("nccrs.db");
    let out = Command::new(bin("nccrs"))
        .args(["-g", "-O2", "-c", "d.c", "-o", "d.o"])
        .current_dir(dir)
        .env("NCCRS_INDEX", "inline")
        .env("NCCRS_DB", &db)
        .output()
        .expect("runs");
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    db
}
