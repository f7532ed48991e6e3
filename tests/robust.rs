//! When things go wrong: the build never notices, the database never loses or keeps
//! a stale fact, and bad input gets a clear answer.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use nccrs_e2e::{bin, facts_text, fixture, fixture_copy, make_tree, nccnav, nccrs_wait, stdout};

fn compile(dir: &Path, cc: &Path, db: &Path, args: &[&str]) -> Output {
    compile_env(dir, cc, db, args, &[])
}

fn compile_env(dir: &Path, cc: &Path, db: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(cc)
        .args(args)
        .current_dir(dir)
        .env("NCCRS_INDEX", "inline")
        .env("NCCRS_DB", db)
        .env_remove("abs_objtree")
        .env_remove("abs_srctree")
        .envs(env.iter().copied())
        .output()
        .expect("runs")
}

fn warnings(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.starts_with("nccrs:"))
        .map(str::to_owned)
        .collect()
}

/// Compiles `a.c` with gcc and with nccrs writing to `db`: same status, stdout,
/// object and diagnostics, plus exactly one warning line.
fn check_unaffected(dir: &Path, db: &Path, what: &str) {
    check_unaffected_env(dir, db, what, &[]);
}

fn check_unaffected_env(dir: &Path, db: &Path, what: &str, env: &[(&str, &str)]) {
    let args = ["-Wall", "-c", "a.c", "-o", "a.o"];
    let gcc = compile(dir, Path::new("gcc"), db, &args);
    let object = std::fs::read(dir.join("a.o")).expect("gcc's object");
    std::fs::remove_file(dir.join("a.o")).expect("rm");
    let ours = compile_env(dir, &bin("nccrs"), db, &args, env);
    assert_eq!(gcc.status.code(), ours.status.code(), "{what}: exit status");
    assert_eq!(gcc.stdout, ours.stdout, "{what}: stdout");
    let ours_err: String = String::from_utf8_lossy(&ours.stderr)
        .lines()
        .filter(|l| !l.starts_with("nccrs:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&gcc.stderr),
        ours_err,
        "{what}: diagnostics"
    );
    assert_eq!(
        std::fs::read(dir.join("a.o")).expect("object"),
        object,
        "{what}: object"
    );
    let w = warnings(&ours);
    assert_eq!(w.len(), 1, "{what}: want one warning, got {w:?}");
    assert!(
        w[0].starts_with("nccrs: warning: a.c: not indexed: "),
        "{what}: {}",
        w[0]
    );
}

fn source_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.c"),
        "int unused_var(void) { int x; return 1; }\nint b(void) { return unused_var(); }\n",
    )
    .expect("write");
    dir
}

#[test]
fn without_a_usable_database_the_compile_is_unaffected() {
    let dir = source_dir();
    let d = dir.path();

    // The database's directory cannot exist (its parent is a file).
    std::fs::write(d.join("plain-file"), "x").expect("write");
    check_unaffected(d, &d.join("plain-file/x.db"), "unwritable directory");

    // A file that is not a database, and a truncated database: left as they are.
    std::fs::write(d.join("text.db"), "not a database\n").expect("write");
    check_unaffected(d, &d.join("text.db"), "text file");
    assert_eq!(
        std::fs::read(d.join("text.db")).expect("read"),
        b"not a database\n"
    );

    let good = d.join("good.db");
    let out = compile(d, &bin("nccrs"), &good, &["-c", "a.c", "-o", "a.o"]);
    assert!(out.status.success() && warnings(&out).is_empty(), "{out:?}");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(d.join("truncated.db"), &bytes[..bytes.len() / 3]).expect("write");
    check_unaffected(d, &d.join("truncated.db"), "truncated database");

    // A database some other process keeps locked: the indexer gives up at its time
    // limit, the compile does not wait for it longer than that.
    let locked = d.join("locked.db");
    std::fs::copy(&good, &locked).expect("copy");
    let conn = rusqlite::Connection::open(&locked).expect("open");
    conn.execute_batch("BEGIN EXCLUSIVE; CREATE TABLE held(x);")
        .expect("lock");
    let started = std::time::Instant::now();
    check_unaffected_env(
        d,
        &locked,
        "locked database",
        &[("NCCRS_INDEX_TIMEOUT", "2")],
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "waited {:?}",
        started.elapsed()
    );
    drop(conn);
}

#[test]
fn a_full_disk_costs_the_facts_not_the_build() {
    let dir = source_dir();
    let mnt = dir.path().join("full");
    std::fs::create_dir(&mnt).expect("mkdir");
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .status()
        .expect("mount");
    assert!(
        st.success(),
        "this test mounts a 64 KiB tmpfs and needs root"
    );
    // Fill it up.
    let _ = std::fs::write(mnt.join("filler"), vec![0u8; 64 * 1024]);
    check_unaffected(dir.path(), &mnt.join("x.db"), "full disk");
    let _ = Command::new("umount").arg(&mnt).status();
}

#[test]
fn the_real_compiler_missing_or_killed() {
    let dir = source_dir();
    let d = dir.path();
    let db = d.join("k.db");
    let out = Command::new(bin("nccrs"))
        .args(["-c", "a.c"])
        .current_dir(d)
        .env("NCCRS_CC", "/nonexistent/gcc")
        .env("NCCRS_INDEX", "inline")
        .env("NCCRS_DB", &db)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/gcc"),
        "{out:?}"
    );

    // A compiler killed by a signal: nccrs exits the way a shell reports it.
    let script = d.join("dying-cc");
    std::fs::write(&script, "#!/bin/sh\necho partial output\nkill -SEGV $$\n").expect("write");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let shell = Command::new("sh")
        .arg("-c")
        .arg(format!("{} -c a.c; exit $?", script.display()))
        .current_dir(d)
        .output()
        .expect("sh");
    let ours = Command::new(bin("nccrs"))
        .args(["-c", "a.c"])
        .current_dir(d)
        .env("NCCRS_CC", &script)
        .env("NCCRS_INDEX", "inline")
        .env("NCCRS_DB", &db)
        .output()
        .expect("runs");
    assert_eq!(shell.status.code(), Some(139));
    assert_eq!(ours.status.code(), Some(139), "{ours:?}");
    assert_eq!(ours.stdout, b"partial output\n");
}

#[test]
fn sixty_four_writers_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let db = d.join("many.db");
    for i in 0..64 {
        std::fs::write(d.join(format!("u{i}.c")), format!("static int helper(void) {{ return {i}; }}\nint unit_{i}(void) {{ return helper(); }}\n"))
            .expect("write");
    }
    let children: Vec<_> = (0..64)
        .map(|i| {
            Command::new(bin("nccrs"))
                .args(["-c", &format!("u{i}.c")])
                .current_dir(d)
                .env("NCCRS_INDEX", "inline")
                .env("NCCRS_DB", &db)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{out:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let facts = facts_text(&db);
    for i in 0..64 {
        assert!(
            facts.contains(&format!("call unit_{i} -> helper@")),
            "unit_{i} lost"
        );
    }
    assert_eq!(facts.lines().filter(|l| l.starts_with("tu ")).count(), 64);
    let conn = rusqlite::Connection::open(&db).expect("open");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
}

fn make_in(src: &Path, objdir: &Path, targets: &[&str]) -> Output {
    let out = make_tree(src, objdir, &bin("nccrs"), &[], targets);
    assert!(
        out.status.success(),
        "make {targets:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).expect("write");
    // Make sure make sees a newer file, whatever the file system's time resolution.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
}

#[test]
fn incremental_rebuilds_leave_exactly_the_new_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    let obj = dir.path().join("obj");
    make_in(&src, &obj, &["all"]);
    let steps: &[(&str, &str, &str)] = &[
        // A function body changes.
        (
            "kernel/fork.c",
            "\tnr_threads = 1;\n",
            "\tnr_threads = 1;\n\tmmput();\n",
        ),
        // A function is renamed.
        (
            "fs/read_write.c",
            "ssize_t ksys_read(unsigned",
            "ssize_t ksys_read_renamed(unsigned",
        ),
        (
            "fs/read_write.c",
            "return ksys_read(fd, buf, count);",
            "return ksys_read_renamed(fd, buf, count);",
        ),
        // A call goes.
        ("fs/dcache.c", "\twrite_seqlock(&rename_lock);\n", ""),
        // A header's static inline changes.
        (
            "include/linux/spinlock.h",
            "\tarch_spin_lock(&lock->locked);\n",
            "\tarch_spin_lock(&lock->locked);\n\tarch_spin_unlock(&lock->locked);\n",
        ),
        // The configuration changes.
        (
            "config",
            "CONFIG_FORK_STATS=y",
            "# CONFIG_FORK_STATS is not set",
        ),
    ];
    for (file, from, to) in steps {
        edit(&src.join(file), from, to);
        make_in(&src, &obj, &["all"]);
        let scratch = dir.path().join("scratch");
        let _ = std::fs::remove_dir_all(&scratch);
        make_in(&src, &scratch, &["all"]);
        let (got, want) = (
            facts_text(&obj.join("vmlinux.db")),
            facts_text(&scratch.join("vmlinux.db")),
        );
        if got != want {
            let g: std::collections::BTreeSet<&str> = got.lines().collect();
            let w: std::collections::BTreeSet<&str> = want.lines().collect();
            panic!(
                "after changing {file}: stale {:?}\nmissing {:?}",
                g.difference(&w).collect::<Vec<_>>(),
                w.difference(&g).collect::<Vec<_>>()
            );
        }
    }
    // `make clean` and a full build give the same facts again.
    let before = facts_text(&obj.join("vmlinux.db"));
    make_in(&src, &obj, &["clean"]);
    make_in(&src, &obj, &["all"]);
    assert_eq!(facts_text(&obj.join("vmlinux.db")), before);
}

#[test]
fn an_interrupted_build_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    // Enough units that the build is still running when it is killed.
    for i in 0..40 {
        std::fs::write(
            src.join(format!("kernel/gen{i}.c")),
            format!("#include <linux/spinlock.h>\nDEFINE_SPINLOCK(gen_lock_{i});\nvoid gen_{i}(void) {{ spin_lock(&gen_lock_{i}); }}\n"),
        )
        .expect("write");
    }
    let mf = src.join("Makefile");
    let objs: String = (0..40).map(|i| format!(" kernel/gen{i}.o")).collect();
    edit(
        &mf,
        "\tfs/ramfs/file.o arch/um/lock.o arch/um/syscall.o arch/um/entry.o\n",
        &format!("\tfs/ramfs/file.o arch/um/lock.o arch/um/syscall.o arch/um/entry.o{objs}\n"),
    );
    let obj = dir.path().join("obj");
    for delay_ms in [300u64, 900] {
        let child = Command::new("setsid")
            .arg("make")
            .arg("-j4")
            .arg("-C")
            .arg(&src)
            .arg(format!("O={}", obj.display()))
            .arg(format!("CC={}", bin("nccrs").display()))
            .env("NCCRS_INDEX", "inline")
            .env_remove("MAKEFLAGS")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("make");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // kill -9 the whole session: make, the wrappers, the compilers, the indexers.
        let pgid = child.id() as i32;
        assert_eq!(kill_group(pgid), 0, "kill -9 failed");
        let _ = child.wait_with_output();
        if obj.join("vmlinux.db").exists() {
            let conn = rusqlite::Connection::open(obj.join("vmlinux.db")).expect("open");
            let ok: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("check");
            assert_eq!(ok, "ok");
        }
    }
    // Re-running make finishes the build, including the units whose objects were
    // written but whose indexers were killed (make does not compile those again):
    // the database then holds exactly what a clean build's does.
    make_in(&src, &obj, &["all"]);
    let scratch = dir.path().join("scratch");
    make_in(&src, &scratch, &["all"]);
    let got = facts_text(&obj.join("vmlinux.db"));
    let want = facts_text(&scratch.join("vmlinux.db"));
    assert_eq!(
        got, want,
        "an interrupted build, finished, differs from a clean one"
    );
    let left = schema::pending::count(&obj.join("vmlinux.db"));
    assert_eq!(left, 0, "jobs still pending");
    let conn = rusqlite::Connection::open(obj.join("vmlinux.db")).expect("open");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
}

#[test]
fn a_compile_whose_indexer_was_killed_is_indexed_later() {
    let dir = source_dir();
    let db = dir.path().join("k.db");
    std::fs::write(dir.path().join("b.c"), "int b_fn(void) { return 2; }\n").expect("write");
    let hung_compile = || {
        // The compile finishes and writes its object; its indexer hangs; then the
        // whole process group dies at once, as with kill -9 of make.
        let child = Command::new("setsid")
            .arg(bin("nccrs"))
            .args(["-c", "b.c", "-o", "b.o"])
            .current_dir(dir.path())
            .env("NCCRS_INDEX", "inline")
            .env("NCCRS_DB", &db)
            .env("NCCRS_FAULT", "hang:b.c")
            .env_remove("abs_objtree")
            .env_remove("abs_srctree")
            .spawn()
            .expect("nccrs");
        let t = std::time::Instant::now();
        while !dir.path().join("b.o").exists() && t.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(kill_group(child.id() as i32), 0);
        let _ = child.wait_with_output();
        assert!(dir.path().join("b.o").exists(), "the compile finished");
        std::fs::remove_file(dir.path().join("b.o")).expect("rm");
        assert_eq!(schema::pending::count(&db), 1);
    };
    let b_known = || nccnav(&db, &["def", "b_fn"]).status.success();

    // `nccrs --finish` indexes it.
    compile(dir.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    hung_compile();
    assert!(!b_known(), "b.c was not indexed yet");
    let out = Command::new(bin("nccrs"))
        .arg("--finish")
        .arg(&db)
        .output()
        .expect("finish");
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("1 interrupted job(s) indexed"),
        "{out:?}"
    );
    assert!(b_known(), "b.c indexed by --finish");
    assert_eq!(schema::pending::count(&db), 0);

    // So does the next compile into the same database, quietly.
    std::fs::remove_file(&db).expect("rm");
    compile(dir.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    hung_compile();
    assert!(!b_known(), "b.c was not indexed yet");
    let out = compile(dir.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    assert!(b_known(), "b.c indexed by the next compile");
    assert_eq!(schema::pending::count(&db), 0);

    // So does `nccrs --wait`, which nccnav points to meanwhile.
    std::fs::remove_file(&db).expect("rm");
    compile(dir.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    hung_compile();
    let def = nccnav(&db, &["def", "b_fn"]);
    assert!(
        String::from_utf8_lossy(&def.stderr).contains("nccnav: note: indexing: ")
            && String::from_utf8_lossy(&def.stderr).contains("waits for the rest"),
        "{def:?}"
    );
    let out = nccrs_wait(&db);
    assert!(out.status.success(), "{out:?}");
    assert!(b_known(), "b.c indexed by --wait");
    let def = nccnav(&db, &["def", "b_fn"]);
    assert!(def.stderr.is_empty(), "{def:?}");
}

/// `kill -9` every process of group `pgid`, one positive pid at a time (found in
/// /proc), so that no pid argument can ever be read as "every process".
fn kill_group(pgid: i32) -> i32 {
    assert!(pgid > 1, "refusing to kill process group {pgid}");
    for _round in 0..3 {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 1;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp ...
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            let pgrp = rest
                .split_whitespace()
                .nth(2)
                .and_then(|s| s.parse::<i32>().ok());
            if pgrp == Some(pgid) && pid > 1 {
                let _ = Command::new("/bin/kill")
                    .arg("-9")
                    .arg(pid.to_string())
                    .status();
            }
        }
    }
    0
}

#[test]
fn nccnav_refuses_damaged_databases_without_touching_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let src = source_dir();
    let good = d.join("good.db");
    let out = compile(
        src.path(),
        &bin("nccrs"),
        &good,
        &["-c", "a.c", "-o", "a.o"],
    );
    assert!(out.status.success());
    let bytes = std::fs::read(&good).expect("read");
    let mut corrupt = bytes.clone();
    for b in corrupt.iter_mut().skip(100).take(4000) {
        *b = 0xa5;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.db", Vec::new()),
        ("text.db", b"hello\n".to_vec()),
        ("truncated.db", bytes[..bytes.len() / 2].to_vec()),
        ("corrupt.db", corrupt),
    ];
    for (name, content) in cases {
        let p = d.join(name);
        std::fs::write(&p, &content).expect("write");
        let out = nccnav(&p, &["def", "b"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        assert!(
            err.starts_with("nccnav: ") && err.lines().count() == 1,
            "{name}: {err}"
        );
        assert_eq!(
            std::fs::read(&p).expect("read"),
            content,
            "{name} was modified"
        );
    }

    // Being written by a running build: readers are not blocked.
    let conn = rusqlite::Connection::open(&good).expect("open");
    conn.execute_batch("BEGIN IMMEDIATE; CREATE TABLE pending(x);")
        .expect("write lock");
    let out = nccnav(&good, &["def", "b"]);
    assert!(
        out.status.success() && stdout(&out).contains("function b"),
        "{out:?}"
    );
    conn.execute_batch("ROLLBACK").expect("rollback");
    drop(conn);

    // Someone else's read-only copy: answered, and nothing is created beside it.
    let ro = d.join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    let copy = ro.join("vmlinux.db");
    std::fs::copy(&good, &copy).expect("copy");
    Command::new("chmod")
        .args(["-R", "a-w"])
        .arg(&ro)
        .status()
        .expect("chmod");
    Command::new("chmod")
        .args(["a+rx"])
        .arg(&ro)
        .arg(d)
        .status()
        .expect("chmod");
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(bin("nccnav"))
        .arg(&copy)
        .args(["def", "b"])
        .output()
        .expect("runuser");
    Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&ro)
        .status()
        .expect("chmod");
    assert!(
        out.status.success() && stdout(&out).contains("function b"),
        "{out:?}"
    );
}

#[test]
fn odd_names_and_paths_are_shown_safely() {
    let dir = tempfile::tempdir().expect("tempdir");
    let odd = dir.path().join("my dir/ünïcode \x1b[31mred\x07");
    std::fs::create_dir_all(&odd).expect("mkdir");
    let long_line = format!(
        "int long_one(void) {{ return {}; }}\n",
        vec!["1"; 5000].join(" + ")
    );
    std::fs::write(odd.join("a b.c"), format!("/* \x1b]0;title\x07 */\n{long_line}int caller_of_long(void) {{ return long_one(); }}\n"))
        .expect("write");
    let db = dir.path().join("odd.db");
    let out = compile(&odd, &bin("nccrs"), &db, &["-c", "a b.c", "-o", "a b.o"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    let text = nccnav(&db, &["callers", "long_one"]);
    assert!(text.status.success(), "{text:?}");
    let shown = stdout(&text);
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "control characters reach the terminal: {shown:?}"
    );
    assert!(
        shown.contains("ünïcode \\x1b[31mred\\x07/a b.c:3:"),
        "{shown:?}"
    );
    // The navigator shows the path and the source escaped too (the file's first line
    // holds an OSC sequence).
    let seen = crate::tui::assert_terminal_safe(&db, "long_one");
    assert!(
        seen.contains("red\\x07/a b.c") && seen.contains("^[]0;title^G"),
        "{seen}"
    );
    // JSON keeps the exact path.
    let json: serde_json::Value =
        serde_json::from_slice(&nccnav(&db, &["callers", "long_one", "--json"]).stdout)
            .expect("json");
    assert!(
        json[0]["file"]
            .as_str()
            .expect("file")
            .ends_with("ünïcode \x1b[31mred\x07/a b.c"),
        "{json}"
    );

    // A file name that is not UTF-8 is compiled and indexed under its own name; the
    // database writes the bytes that are not UTF-8 as \xNN.
    use std::os::unix::ffi::OsStrExt;
    let latin1 = odd.join(std::ffi::OsStr::from_bytes(b"caf\xe9.c"));
    std::fs::write(
        &latin1,
        "int long_one(void);\nint latin1_fn(void) { return long_one(); }\n",
    )
    .expect("write");
    let out = Command::new(bin("nccrs"))
        .arg("-c")
        .arg(latin1.file_name().expect("name"))
        .arg("-o")
        .arg("latin1.o")
        .current_dir(&odd)
        .env("NCCRS_INDEX", "inline")
        .env("NCCRS_DB", &db)
        .env_remove("abs_objtree")
        .env_remove("abs_srctree")
        .output()
        .expect("runs");
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    let def = nccnav(&db, &["def", "latin1_fn"]);
    assert!(
        def.status.success() && stdout(&def).contains("/caf\\xe9.c:2:5"),
        "{def:?}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&nccnav(&db, &["callees", "latin1_fn", "--json"]).stdout)
            .expect("json");
    assert!(
        json[0]["file"]
            .as_str()
            .expect("file")
            .ends_with("/caf\\xe9.c")
            && json[0]["callee"] == "long_one",
        "{json}"
    );
}

/// Runs `cmd` to its end; fails the test with `what` if that takes over `secs` seconds.
fn output_within(mut cmd: Command, secs: u64, what: &str) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(cmd.output());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("not within {secs} s: {what}"))
        .expect("the command runs")
}

/// Processes whose command line holds every one of `words`, by pid.
fn processes_with(words: &[&str]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                words.iter().all(|w| c.contains(w))
            })
        })
        .collect()
}

/// In the background: the drainer holds none of the build's pipes (a pipeline ends
/// with make), its indexers die with it, and what a killed drainer left is done by
/// `nccrs --wait`, without the injected fault.
#[test]
fn a_killed_drainer_holds_nothing_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let obj = dir.path().join("obj");
    let db = obj.join("vmlinux.db");
    // fork.c's indexer hangs, so the drainer is still there when make is done. Its
    // file descriptor 3 is the pipe this test reads: held by the drainer, reading
    // would not end before it does.
    let script = format!(
        "make -s -C '{}' O='{}' CC='{}' all 3>&1 >/dev/null 2>&1; echo make done $?",
        fixture("minikernel").display(),
        obj.display(),
        bin("nccrs").display()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&script)
        .env("NCCRS_INDEX", "background")
        .env("NCCRS_FAULT", "hang:kernel/fork.c")
        .env_remove("MAKEFLAGS")
        .env_remove("NCCRS_DB");
    // (Held open, the pipe would last until the hanging indexer's 40 minutes are up.)
    let out = output_within(
        cmd,
        300,
        "the pipeline ended with make, not with the indexing",
    );
    assert_eq!(stdout(&out), "make done 0\n", "{out:?}");

    let db_arg = db.display().to_string();
    // Whatever happens below, the hanging indexer does not outlive the test.
    struct KillDrainers(String);
    impl Drop for KillDrainers {
        fn drop(&mut self) {
            for pid in processes_with(&["--drain", &self.0]) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
    let _cleanup = KillDrainers(db_arg.clone());
    // Two compiles may each start a drainer; the one that does not get the database's
    // lock leaves at once.
    let mut drainers = processes_with(&["--drain", &db_arg]);
    for _ in 0..50 {
        if drainers.len() == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        drainers = processes_with(&["--drain", &db_arg]);
    }
    assert_eq!(
        drainers.len(),
        1,
        "one drainer for the database: {drainers:?}"
    );
    let indexers = || {
        processes_with(&["--index-job"])
            .into_iter()
            .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == obj))
            .count()
    };
    // The drainer runs at nice 19: it may not have claimed fork.c yet when make is
    // done. Its hanging indexer is what this test kills it over: wait for the claim
    // (the job file renamed to name its claimer).
    let pending = dir.path().join("obj/vmlinux.db.pending");
    let fork_claimed = || {
        std::fs::read_dir(&pending).is_ok_and(|d| {
            d.flatten().any(|e| {
                e.file_name().to_string_lossy().contains(".job.")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("kernel/fork.c"))
            })
        })
    };
    let t = std::time::Instant::now();
    while !(fork_claimed() && indexers() > 0) && t.elapsed().as_secs() < 240 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(fork_claimed(), "the drainer never took fork.c");
    let killed = Command::new("kill")
        .args(["-9", &drainers[0].to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let t = std::time::Instant::now();
    while indexers() > 0 && t.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(indexers(), 0, "an indexer outlived its drainer");

    // fork.c (and whatever else was being indexed) is pending under a dead drainer's
    // name; --wait takes it over. A retry runs without the injected fault.
    let wait = nccrs_wait(&db);
    assert_eq!(wait.status.code(), Some(0), "{wait:?}");
    assert!(wait.stderr.is_empty(), "{wait:?}");
    let recorded = nccrs_e2e::units(&db);
    // Ten units of C and one of assembly.
    assert_eq!(recorded.len(), 11, "{recorded:?}");
    assert!(recorded.iter().all(|t| t["status"] == "ok"), "{recorded:?}");
}

/// In the background, a database nccrs cannot use costs a warning per compile from
/// `nccrs --wait`, which returns; the file is left as it was.
#[test]
fn background_indexing_into_an_unusable_database_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let obj = dir.path().join("obj");
    std::fs::create_dir_all(&obj).expect("mkdir");
    let db = obj.join("vmlinux.db");
    std::fs::write(&db, "not a database\n").expect("write");
    let out = make_tree(
        &fixture("minikernel"),
        &obj,
        &bin("nccrs"),
        &[("NCCRS_INDEX", Path::new("background"))],
        &["all"],
    );
    assert!(out.status.success(), "{out:?}");
    let mut cmd = Command::new(bin("nccrs"));
    cmd.arg("--wait").arg(&db);
    // Generous: the drainer's indexers run at nice 19, behind any other build.
    let wait = output_within(cmd, 600, "--wait returned");
    assert_eq!(wait.status.code(), Some(1), "{wait:?}");
    let err = String::from_utf8_lossy(&wait.stderr);
    assert_eq!(err.lines().count(), 11, "one for each unit: {err}");
    assert!(
        err.lines()
            .all(|l| l.starts_with("nccrs: warning: ") && l.contains("not an nccrs database")),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).expect("read"), b"not a database\n");
}

/// A misspelt `NCCRS_INDEX` costs a compile one warning and indexes as by default, in
/// the background; calls that are not compiles (a probe, `--version`) say nothing, as
/// the compiler alone would.
#[test]
fn an_unknown_indexing_mode_is_told_and_indexed_as_by_default() {
    let dir = source_dir();
    let db = dir.path().join("m.db");
    let env = [("NCCRS_INDEX", "later")];
    let probe = compile_env(dir.path(), &bin("nccrs"), &db, &["--version"], &env);
    assert!(
        probe.status.success() && probe.stderr.is_empty(),
        "{probe:?}"
    );
    let out = compile_env(
        dir.path(),
        &bin("nccrs"),
        &db,
        &["-c", "a.c", "-o", "a.o"],
        &env,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        warnings(&out),
        ["nccrs: warning: NCCRS_INDEX=later: expected inline or background; indexing in the background"]
    );
    let wait = nccrs_wait(&db);
    assert_eq!(wait.status.code(), Some(0), "{wait:?}");
    assert!(nccnav(&db, &["def", "unused_var"]).status.success());
}

/// A database holds one build's facts: a compile of another build (here: a kernel's,
/// into the database of a plain compile) is refused with one line, the build is
/// unaffected, and nothing is written or left pending.
#[test]
fn another_builds_database_is_refused_and_kept() {
    let src = source_dir();
    let kernel = tempfile::tempdir().expect("tempdir");
    let db = src.path().join("t.db");
    let out = compile(src.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    assert!(out.status.success() && warnings(&out).is_empty(), "{out:?}");
    let before = facts_text(&db);
    let tree = kernel.path().to_str().expect("utf-8").to_owned();
    let env = [
        ("abs_srctree", tree.as_str()),
        ("abs_objtree", tree.as_str()),
    ];
    check_unaffected_env(src.path(), &db, "another build", &env);
    let again = compile_env(src.path(), &bin("nccrs"), &db, &["-c", "a.c"], &env);
    let w = warnings(&again);
    assert!(
        w.len() == 1 && w[0].contains("remove it or set NCCRS_DB"),
        "{w:?}"
    );
    assert_eq!(facts_text(&db), before, "the other build's facts changed");
    let pending = schema::pending::count(&db);
    assert_eq!(pending, 0, "a refused job was left pending");
}

/// A database written by an nccrs that did not recognise a kernel build (Linux 6.2
/// and later), with the kernel's paths stored absolute: nccnav says to remove it and
/// leaves it as it is; the next build's writer starts it afresh.
#[test]
fn a_database_with_absolute_kernel_paths_is_never_mixed() {
    let src = source_dir();
    let db = src.path().join("old.db");
    let out = compile(
        src.path(),
        &bin("nccrs"),
        &db,
        &["-D__KERNEL__", "-c", "a.c", "-o", "a.o"],
    );
    assert!(out.status.success(), "{out:?}");
    // As the nccrs before the kbuild-aware schema (version 3) left it: without what
    // versions 3 to 14 added (the definitions and uses all in one chunk, which is enough here).
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE files_v2(id INTEGER PRIMARY KEY,
             root TEXT NOT NULL CHECK (root IN ('src', 'obj', 'abs')),
             path TEXT NOT NULL, UNIQUE (root, path));
         INSERT INTO files_v2 SELECT id, root, path FROM files;
         DROP TABLE files;
         ALTER TABLE files_v2 RENAME TO files;
         ALTER TABLE tus DROP COLUMN modname;
         DROP INDEX tus_by_source;
         DROP INDEX tus_by_status;
         ALTER TABLE tus DROP COLUMN facts;
         ALTER TABLE stores DROP COLUMN within;
         CREATE TABLE symbols_v2(id INTEGER PRIMARY KEY, usr TEXT NOT NULL UNIQUE,
             name TEXT NOT NULL, scope TEXT, kind TEXT NOT NULL, linkage TEXT NOT NULL);
         INSERT INTO symbols_v2 SELECT id, 'c:@' || id, name, scope, kind, linkage
             FROM symbols;
         DROP TABLE symbols;
         ALTER TABLE symbols_v2 RENAME TO symbols;
         CREATE INDEX symbols_by_name ON symbols(name);
         DROP TABLE arguments;
         ALTER TABLE calls DROP COLUMN dead;
         ALTER TABLE calls DROP COLUMN alias;
         UPDATE tus SET command = 'gcc' || char(0) || '-D__KERNEL__' || char(0) || '-c';
         CREATE TABLE definitions_v7(symbol INTEGER NOT NULL, file INTEGER NOT NULL,
             line INTEGER NOT NULL, col INTEGER NOT NULL, macro TEXT,
             definition INTEGER NOT NULL, chunk INTEGER NOT NULL,
             PRIMARY KEY (symbol, file, line, col, chunk)) WITHOUT ROWID;
         INSERT INTO definitions_v7 SELECT symbol, file, line, col, macro, definition,
             (SELECT min(id) FROM chunks) FROM definitions;
         DROP TABLE definitions;
         ALTER TABLE definitions_v7 RENAME TO definitions;
         CREATE INDEX definitions_by_chunk ON definitions(chunk);
         CREATE TABLE uses_v13(symbol INTEGER NOT NULL, function INTEGER NOT NULL,
             access TEXT NOT NULL, file INTEGER NOT NULL, line INTEGER NOT NULL,
             col INTEGER NOT NULL, macro TEXT, chunk INTEGER NOT NULL,
             PRIMARY KEY (symbol, function, access, file, line, col, chunk)) WITHOUT ROWID;
         INSERT INTO uses_v13 SELECT symbol, function, access, file, line, col, macro,
             (SELECT min(id) FROM chunks) FROM uses;
         DROP TABLE uses;
         ALTER TABLE uses_v13 RENAME TO uses;
         CREATE INDEX uses_by_chunk ON uses(chunk);
         ALTER TABLE chunks DROP COLUMN definitions;
         ALTER TABLE chunks DROP COLUMN units;
         ALTER TABLE chunks DROP COLUMN skipped;
         CREATE INDEX tu_chunks_by_chunk ON tu_chunks(chunk);
         UPDATE tus SET object = '/elsewhere/old.o';
         PRAGMA user_version = 2;",
    )
    .expect("downgrade");
    drop(conn);
    let bytes = std::fs::read(&db).expect("read");
    let out = nccnav(&db, &["def", "b"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        err.lines().count() == 1 && err.contains("remove it and build again"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).expect("read"), bytes, "nccnav wrote");
    // The next compile into it starts afresh: only its own unit is left.
    let out = compile(src.path(), &bin("nccrs"), &db, &["-c", "a.c", "-o", "a.o"]);
    assert!(out.status.success() && warnings(&out).is_empty(), "{out:?}");
    let tus: Vec<String> = stdout(&nccnav(&db, &["dump"]))
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"tu\""))
        .map(str::to_owned)
        .collect();
    assert!(tus.len() == 1 && !tus[0].contains("/elsewhere/"), "{tus:?}");
}
