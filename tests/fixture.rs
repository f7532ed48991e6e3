//! `make CC=nccrs` on fixtures/minikernel: the facts, the build's transparency, and
//! the nccnav commands.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nccrs_e2e::{
    bin, expect_file, facts_text, files_under, fixture, make, nccnav, nccrs_wait, stdout, unit,
    units,
};
use serde_json::Value;

/// One nccrs build of the fixture (all and the broken file), shared by the tests.
pub(crate) struct Built {
    _dir: tempfile::TempDir,
    pub(crate) objdir: PathBuf,
    pub(crate) db: PathBuf,
}

pub(crate) fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let objdir = dir.path().join("build");
        let out = make("minikernel", &objdir, &bin("nccrs"), &[], &["all"]);
        assert!(
            out.status.success(),
            "make failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("nccrs:"),
            "nccrs complained:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let broken = make("minikernel", &objdir, &bin("nccrs"), &[], &["broken"]);
        assert!(!broken.status.success(), "broken.c compiled");
        // kbuild exports abs_objtree, and so does the fixture: the database goes there.
        let db = objdir.join("vmlinux.db");
        assert!(db.is_file(), "no database at the top of the build tree");
        Built {
            _dir: dir,
            objdir,
            db,
        }
    })
}

#[test]
fn facts_match_the_hand_checked_list() {
    let b = built();
    expect_file(
        &fixture("minikernel").join("expected.facts"),
        &facts_text(&b.db),
    );
}

fn lines(db: &Path, args: &[&str]) -> Vec<String> {
    let out = nccnav(db, args);
    assert!(
        out.status.success(),
        "nccnav {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn def_callers_callees_answer_each_case() {
    let db = &built().db;
    let rows: &[(&[&str], &[&str])] = &[
        // Variables declared by macros, with the macro named.
        (
            &["def", "mmlist_lock"],
            &["kernel/fork.c:8:17: variable mmlist_lock (external) via DEFINE_SPINLOCK"],
        ),
        (
            &["def", "sched_mutex"],
            &["kernel/sched.c:7:14: variable sched_mutex (external) via DEFINE_MUTEX"],
        ),
        (
            &["def", "process_counts"],
            &["kernel/fork.c:9:31: variable process_counts (external) via DEFINE_PER_CPU"],
        ),
        (
            &["def", "rename_lock"],
            &["fs/dcache.c:6:43: variable rename_lock (internal) via DEFINE_SEQLOCK"],
        ),
        // Names made by token pasting point at the macro invocation.
        (
            &["def", "__do_sys_read"],
            &["fs/read_write.c:23:1: function __do_sys_read (internal) via SYSCALL_DEFINE3"],
        ),
        (
            &["def", "__se_sys_read"],
            &["fs/read_write.c:23:1: function __se_sys_read (external) via SYSCALL_DEFINE3"],
        ),
        (
            &["def", "__ksymtab_vfs_read"],
            &["fs/read_write.c:14:1: variable __ksymtab_vfs_read (internal) via EXPORT_SYMBOL"],
        ),
        (
            &["callees", "__do_sys_read"],
            &["ksys_read fs/read_write.c:25:9"],
        ),
        (
            &["callees", "__se_sys_read"],
            &["__do_sys_read fs/read_write.c:23:1 via SYSCALL_DEFINE3"],
        ),
        // What a macro's expansions defined, counted by kind, a row each.
        (
            &["def", "DEFINE_SPINLOCK"],
            &[
                "include/linux/spinlock.h:8:9: macro DEFINE_SPINLOCK",
                "made by its expansions: 3 (3 variable)",
                "variable dcache_lock fs/dcache.c:7:24",
                "variable demo_lock drivers/demo/demo.c:6:24",
                "variable mmlist_lock kernel/fork.c:8:17",
            ],
        ),
        // SYSCALL_DEFINE3's `sys_read`, declared an alias of `__se_sys_read`: a
        // definition, joined to its target; the system-call table holds the alias and
        // UML's dispatcher calls through `(*sys_call_table[nr])(...)`.
        (
            &["def", "sys_read"],
            &["fs/read_write.c:23:1: function sys_read (external) alias of __se_sys_read via SYSCALL_DEFINE3"],
        ),
        (
            &["callers", "__se_sys_read"],
            &["sys_read fs/read_write.c:23:1 via SYSCALL_DEFINE3 [alias]"],
        ),
        (
            &["callees", "sys_read"],
            &["__se_sys_read fs/read_write.c:23:1 via SYSCALL_DEFINE3 [alias target]"],
        ),
        (
            &["callers", "sys_read"],
            &["handle_syscall arch/um/syscall.c:28:9 via EXECUTE_SYSCALL [indirect via sys_call_table]"],
        ),
        // Calls from assembly, read from the object arch/um/entry.S assembles to: a
        // global entry and a local label, each where its source writes it.
        (
            &["callers", "handle_syscall"],
            &["entry_syscall arch/um/entry.S:6:7 [from assembly]"],
        ),
        (
            &["callers", "mmput"],
            &["syscall_error arch/um/entry.S:14:7 [from assembly]"],
        ),
        (
            &["def", "syscall_error"],
            &["arch/um/entry.S:13:1: function syscall_error (internal)"],
        ),
        (
            &["callers", "vfs_read"],
            &[
                "ksys_read fs/read_write.c:20:9",
                "demo_init drivers/demo/demo.c:14:2",
                "broken_ok broken/broken.c:7:9",
            ],
        ),
        // A header static inline: one symbol, its call recorded once, callers from many files.
        (
            &["def", "spin_lock"],
            &["include/linux/spinlock.h:11:20: function spin_lock (internal)"],
        ),
        (
            &["callees", "spin_lock"],
            &["arch_spin_lock include/linux/spinlock.h:13:2"],
        ),
        (
            &["callers", "spin_lock"],
            &[
                "mmput kernel/fork.c:21:2",
                "write_seqlock include/linux/seqlock.h:11:2",
                "d_alloc fs/dcache.c:18:2",
                "demo_init drivers/demo/demo.c:13:2",
            ],
        ),
        // Two static functions of one name: both shown with their file; FILE:NAME picks.
        (
            &["def", "init"],
            &[
                "kernel/fork.c:13:12: function init (internal)",
                "fs/dcache.c:11:12: function init (internal)",
            ],
        ),
        (&["callers", "fs/dcache.c:init"], &["fget fs/dcache.c:27:3"]),
        (
            &["callers", "fork.c:init"],
            &["copy_process kernel/fork.c:43:2"],
        ),
        // Calls written inside a macro body, and a call in a macro argument.
        (
            &["callees", "wait_for_children"],
            &[
                "prepare_to_wait kernel/sched.c:50:2 via wait_event",
                "finish_wait kernel/sched.c:50:2 via wait_event",
                "schedule kernel/sched.c:50:2 via wait_event",
                "count_ancestors kernel/sched.c:50:25 via wait_event",
                "is_even kernel/sched.c:51:9",
            ],
        ),
        // Recursion, direct and mutual.
        (
            &["callees", "count_ancestors"],
            &["count_ancestors kernel/sched.c:32:13"],
        ),
        (&["callees", "is_even"], &["is_odd kernel/sched.c:40:22"]),
        (&["callees", "is_odd"], &["is_even kernel/sched.c:45:22"]),
        // A call through an ops table, recorded against the member, with what is
        // stored there (a designated initializer in another file).
        (
            &["callees", "vfs_read"],
            &[
                "file_operations::read fs/read_write.c:12:9 [indirect call through field]",
                "-> ramfs_read",
            ],
        ),
        (
            &["callers", "ramfs_read"],
            &["vfs_read fs/read_write.c:12:9 [indirect via file_operations::read]"],
        ),
        (
            &["stores", "file_operations::read"],
            &["ramfs_read fs/ramfs/file.c:18:10 in ramfs_file_operations"],
        ),
        (
            &["stores", "ramfs_open"],
            &["into file_operations::open fs/ramfs/file.c:19:10 in ramfs_file_operations"],
        ),
        // An assignment hidden in a macro, copied from member to member, called
        // through the second member; and passed as a callback argument.
        (
            &["stores", "work_struct::func"],
            &["wq_barrier_func kernel/workqueue.c:21:18 in insert_barrier via INIT_WORK"],
        ),
        (
            &["stores", "worker::current_func"],
            &["copy of work_struct::func kernel/workqueue.c:14:31 in process_one_work"],
        ),
        (
            &["callees", "process_one_work"],
            &[
                "worker::current_func kernel/workqueue.c:16:2 [indirect call through field]",
                "-> wq_barrier_func",
            ],
        ),
        (
            &["callers", "wq_barrier_func"],
            &[
                "process_one_work kernel/workqueue.c:16:2 [indirect via worker::current_func]",
                "for_each_work kernel/workqueue.c:70:3 [indirect via for_each_work::fn]",
            ],
        ),
        (
            &["stores", "for_each_work::fn"],
            &["wq_barrier_func kernel/workqueue.c:75:26 in flush_all"],
        ),
        // A parameter of function type; a variadic argument stores nothing.
        (
            &["callers", "start_b"],
            &[
                "run_class kernel/workqueue.c:59:2 [indirect via wq_ops::start]",
                "run_class kernel/workqueue.c:61:2 [indirect via default_start]",
                "apply kernel/workqueue.c:81:2 [indirect via apply::fn]",
            ],
        ),
        (
            &["stores", "stop_a"],
            &[
                "into wq_ops::stop kernel/workqueue.c:43:20 in classes",
                "into fallback kernel/workqueue.c:54:20 in set_fallback",
            ],
        ),
        // Positional, nested, designated, cast, arrays of structs; global and static
        // pointers; both arms of a conditional.
        (
            &["stores", "wq_ops::start"],
            &[
                "start_a kernel/workqueue.c:43:11 in classes",
                "start_b kernel/workqueue.c:44:35 in classes",
                "start_a kernel/workqueue.c:45:32 in classes",
            ],
        ),
        (
            &["stores", "wq_ops::stop"],
            &[
                "stop_a kernel/workqueue.c:43:20 in classes",
                "stop_b kernel/workqueue.c:44:65 in classes",
            ],
        ),
        (
            &["callees", "run_class"],
            &[
                "wq_ops::start kernel/workqueue.c:59:2 [indirect call through field]",
                "-> start_a",
                "-> start_b",
                "fallback kernel/workqueue.c:60:2 [indirect call through variable]",
                "-> start_a",
                "-> stop_a",
                "default_start kernel/workqueue.c:61:2 [indirect call through variable]",
                "-> start_b",
            ],
        ),
        // The kernel's READ_ONCE and WRITE_ONCE, GNU `?:`, an element of an array of
        // pointers, a compound literal, a function's static variable.
        (
            &["callees", "notifier_call"],
            &[
                "notifier_call::fn kernel/notify.c:32:9 [indirect call through variable]",
                "-> notify_a",
                "-> notify_b",
                "-> notify_c",
            ],
        ),
        (
            &["stores", "notify_c"],
            &["into notifier::call kernel/notify.c:38:34 in notifier_register"],
        ),
        (
            &["uses", "chain"],
            &[
                "notifier_set write kernel/notify.c:22:13 via WRITE_ONCE",
                "notifier_call read kernel/notify.c:31:27 via READ_ONCE",
            ],
        ),
        // A function a function returns, one written through an out-parameter, one
        // stored through another member of a union.
        (
            &["callees", "notifier_dispatch"],
            &[
                "notifier_get kernel/notify.c:77:2",
                "notifier_pick kernel/notify.c:78:9",
                "notifier_pick::return kernel/notify.c:78:9 [indirect call through result]",
                "-> notify_a",
                "-> notify_b",
                "-> notify_d",
                "notifier_dispatch::fn kernel/notify.c:78:32 [indirect call through variable]",
                "-> notify_e",
                "(anonymous)::fn kernel/notify.c:78:41 [indirect call through field]",
                "-> notify_f",
            ],
        ),
        (
            &["callers", "notify_e"],
            &["notifier_dispatch kernel/notify.c:78:32 [indirect via notifier_dispatch::fn]"],
        ),
        (
            &["stores", "notifier_dispatch::fn"],
            &["copy of notifier_get::out kernel/notify.c:77:16 in notifier_dispatch"],
        ),
        (
            &["uses", "notifier::stats"],
            &["notifier_set write kernel/notify.c:23:6"],
        ),
        (&["uses", "files"], &["fget addr fs/dcache.c:28:10"]),
        (
            &["uses", "notifier_calls::calls"],
            &["notifier_calls write kernel/notify.c:45:11"],
        ),
        // Who reads, writes, takes the address of a global or a member.
        (
            &["uses", "mmlist_lock"],
            &[
                "mmput addr kernel/fork.c:21:13",
                "mmput addr kernel/fork.c:23:15",
            ],
        ),
        (
            &["uses", "fallback"],
            &[
                "set_fallback write kernel/workqueue.c:54:2",
                "run_class read kernel/workqueue.c:60:2",
            ],
        ),
        (
            &["uses", "file::f_pos"],
            &[
                "ramfs_read write fs/ramfs/file.c:7:8",
                "ramfs_open write fs/ramfs/file.c:13:8",
            ],
        ),
        (
            &["callers", "file_operations::read"],
            &["vfs_read fs/read_write.c:12:9"],
        ),
        (
            &["def", "file_operations::read"],
            &["include/linux/fs.h:6:12: field file_operations::read"],
        ),
        // A call through a global function pointer; a variable only declared (the
        // kernel's jiffies comes from the linker script).
        (
            &["callees", "idle"],
            &[
                "idle_hook kernel/sched.c:70:3 [indirect call through variable]",
                "-> (no function recorded as stored there)",
            ],
        ),
        (
            &["def", "jiffies"],
            &["include/linux/sched.h:21:31: variable jiffies (external, declared only)"],
        ),
        (
            &["def", "child_wait"],
            &["kernel/sched.c:8:24: variable child_wait (external)"],
        ),
        // A static of a module.
        (
            &["def", "demo_lock"],
            &["drivers/demo/demo.c:6:24: variable demo_lock (internal) via DEFINE_SPINLOCK [module demo]"],
        ),
        // The part of the broken file that could be read.
        (
            &["callees", "broken_ok"],
            &["fget broken/broken.c:7:18", "vfs_read broken/broken.c:7:9"],
        ),
    ];
    let mut failures = Vec::new();
    for (args, want) in rows {
        let got = lines(db, args);
        let want: Vec<String> = want
            .iter()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let mut g = got.clone();
        let mut w = want.clone();
        g.sort();
        w.sort();
        if g != w {
            failures.push(format!(
                "nccnav {args:?}\n  want: {want:?}\n  got:  {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn disabled_code_is_absent() {
    let db = &built().db;
    let out = nccnav(db, &["def", "debug_fork_dump"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "debug_fork_dump is under an unset CONFIG_ option"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "nccnav: debug_fork_dump: not compiled in this configuration: kernel/fork.c:35, inside #ifdef CONFIG_DEBUG_FORK (kernel/fork.c:33)"
    );
    // A header's lines one unit skipped and another compiled count as compiled; those
    // no unit compiled are compiled out.
    let out = nccnav(db, &["def", "spin_debug"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "nccnav: spin_debug: not compiled in this configuration: include/linux/spinlock.h:25, inside #ifdef CONFIG_DEBUG_SPINLOCK (include/linux/spinlock.h:23)"
    );
    assert_eq!(lines(db, &["def", "SPIN_OWNER_MODULE"]).len(), 1);
    // A name defined nowhere is unknown, as before.
    let out = nccnav(db, &["def", "no_such_function_anywhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no symbol named"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = nccnav(db, &["callees", "copy_process"]);
    assert!(!stdout(&out).contains("debug_fork_dump"));
    assert!(
        stdout(&out).contains("count_fork"),
        "enabled code is present: {}",
        stdout(&out)
    );
}

#[test]
fn translation_units_are_recorded() {
    let db = &built().db;
    let dump = stdout(&nccnav(db, &["dump"]));
    let tus: Vec<Value> = dump
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|v| v["type"] == "tu")
        .collect();
    assert_eq!(
        tus.len(),
        12,
        "10 objects of C, one of assembly, and the broken one: {tus:?}"
    );
    let by_object = |suffix: &str| {
        tus.iter()
            .find(|t| t["object"].as_str().unwrap_or("").ends_with(suffix))
            .cloned()
    };
    let demo = by_object("drivers/demo/demo.o").expect("demo.o");
    assert_eq!(demo["module"], true);
    assert_eq!(demo["modname"], "demo");
    assert_eq!(demo["status"], "ok");
    let entry = by_object("arch/um/entry.o").expect("entry.o, assembled");
    assert_eq!(entry["status"], "ok", "{entry}");
    let fork = by_object("kernel/fork.o").expect("fork.o");
    assert_eq!(fork["module"], false);
    assert!(
        fork.get("modname").is_none(),
        "built-in code has no module: {fork}"
    );
    assert_eq!(fork["directory"].as_str(), built().objdir.to_str());
    let cmd: Vec<&str> = fork["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cmd.contains(&"-fconserve-stack") && cmd.contains(&"kernel/fork.o"),
        "the full command: {cmd:?}"
    );
    let broken = by_object("broken/broken.o").expect("broken.o");
    assert_eq!(broken["status"], "partial");
    let reason = broken["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("broken.c:12:9") && reason.contains("undeclared_variable"),
        "{reason}"
    );
}

#[test]
fn dump_follows_the_spec_format() {
    let db = &built().db;
    let dump = stdout(&nccnav(db, &["dump"]));
    let keys = |t: &str| -> &[&str] {
        match t {
            "file" => &["type", "id", "root", "path"],
            "symbol" => &[
                "type",
                "id",
                "name",
                "kind",
                "linkage",
                "file",
                "line",
                "col",
                "macro",
                "definition",
            ],
            "call" => &[
                "type", "caller", "callee", "file", "line", "col", "indirect", "macro",
            ],
            "store" => &["type", "member", "file", "line", "col", "macro"],
            "use" => &[
                "type", "function", "symbol", "access", "file", "line", "col", "macro",
            ],
            _ => &["type"],
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for l in dump.lines() {
        let v: Value = serde_json::from_str(l).expect("each line is one JSON object");
        let t = v["type"].as_str().expect("type").to_owned();
        for k in keys(&t) {
            assert!(v.get(k).is_some(), "{t} line without {k}: {l}");
        }
        if t == "symbol" {
            let kind = v["kind"].as_str().unwrap_or("");
            assert!(
                [
                    "function",
                    "variable",
                    "macro",
                    "struct",
                    "union",
                    "enum",
                    "typedef",
                    "field",
                    "enumerator",
                    "parameter",
                    "result"
                ]
                .contains(&kind),
                "{l}"
            );
            assert!(
                ["external", "internal", "none"].contains(&v["linkage"].as_str().unwrap_or("")),
                "{l}"
            );
        }
        if t == "file" {
            assert!(
                ["src", "obj", "abs"].contains(&v["root"].as_str().unwrap_or("")),
                "{l}"
            );
        }
        seen.insert(t);
    }
    // The README's own example line, for a macro-made variable.
    let rename = dump
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .find(|v| v["type"] == "symbol" && v["name"] == "rename_lock")
        .expect("rename_lock");
    assert_eq!(rename["kind"], "variable");
    assert_eq!(rename["linkage"], "internal");
    assert_eq!(rename["macro"], "DEFINE_SEQLOCK");
    assert_eq!(rename["definition"], true);
    for t in ["file", "symbol", "call", "tu"] {
        assert!(seen.contains(t), "no {t} lines");
    }
}

/// Truth from the compiler: every function and variable `nm` shows defined in an
/// object is a recorded definition.
#[test]
fn every_symbol_nm_sees_is_defined_in_the_database() {
    let b = built();
    let facts = facts_text(&b.db);
    let mut missing = Vec::new();
    let mut checked = 0;
    for rel in files_under(&b.objdir) {
        if rel.extension().is_none_or(|e| e != "o") || rel == Path::new("vmlinux.o") {
            continue;
        }
        let out = Command::new("nm")
            .arg("--defined-only")
            .arg(b.objdir.join(&rel))
            .output()
            .expect("nm runs");
        for line in stdout(&out).lines() {
            let mut parts = line.split_whitespace();
            let (Some(_addr), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            // `.LC0` and friends: the compiler's own labels (string literals).
            if !"TtDdBbRr".contains(kind) || name.starts_with(".L") {
                continue;
            }
            checked += 1;
            let needle = format!(" {name} at ");
            let needle_dup = format!(" {name}@");
            // gcc names a function's static variable `calls.0`; we say `fn::calls`.
            let needle_local = name
                .split_once('.')
                .map(|(base, _)| format!("::{base} at "))
                .unwrap_or_else(|| needle.clone());
            if !facts.lines().any(|l| {
                l.starts_with("def ")
                    && (l.contains(&needle) || l.contains(&needle_dup) || l.contains(&needle_local))
            }) {
                missing.push(format!("{}: {name}", rel.display()));
            }
        }
    }
    assert!(checked > 20, "nm found only {checked} symbols");
    assert!(
        missing.is_empty(),
        "defined in the objects but not recorded: {missing:?}"
    );
}

/// The same sources built with gcc and with nccrs give byte-identical objects,
/// dependency files and link output, in the same build directory.
#[test]
fn objects_are_identical_with_and_without_nccrs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let plain = make("minikernel", &objdir, Path::new("gcc"), &[], &["all"]);
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let snapshot = |dir: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        files_under(dir)
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains(".db"))
            .map(|p| {
                let bytes = std::fs::read(dir.join(&p)).expect("read");
                (p, bytes)
            })
            .collect()
    };
    let before = snapshot(&objdir);
    assert!(
        before.iter().any(|(p, _)| p.ends_with("kernel/.fork.o.d")),
        "kbuild-style .d files are written"
    );
    std::fs::remove_dir_all(&objdir).expect("clean");
    let wrapped = make("minikernel", &objdir, &bin("nccrs"), &[], &["all"]);
    assert!(
        wrapped.status.success(),
        "{}",
        String::from_utf8_lossy(&wrapped.stderr)
    );
    assert_eq!(
        plain.stderr, wrapped.stderr,
        "the compiler's diagnostics differ"
    );
    let after = snapshot(&objdir);
    let names = |v: &[(PathBuf, Vec<u8>)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&before), names(&after));
    for ((p, a), (_, b)) in before.iter().zip(&after) {
        assert!(
            a == b,
            "{} differs between the gcc and the nccrs build",
            p.display()
        );
    }
}

/// Calling the compiler directly: output, diagnostics and exit status pass through.
#[test]
fn compiler_output_and_status_pass_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inc = fixture("minikernel").join("include");
    let broken = fixture("minikernel").join("broken/broken.c");
    let fork = fixture("minikernel").join("kernel/fork.c");
    let db = dir.path().join("t.db");
    let run = |cc: &Path, args: &[&str]| {
        Command::new(cc)
            .args(args)
            .current_dir(dir.path())
            .env("NCCRS_INDEX", "inline")
            .env("NCCRS_DB", &db)
            .env_remove("abs_objtree")
            .env_remove("abs_srctree")
            .output()
            .expect("runs")
    };
    let i = format!("-I{}", inc.display());
    let cases: Vec<Vec<String>> = vec![
        vec![
            i.clone(),
            "-Wall".into(),
            "-c".into(),
            broken.display().to_string(),
            "-o".into(),
            "b.o".into(),
        ],
        vec![
            i.clone(),
            "-Wall".into(),
            "-Wextra".into(),
            "-c".into(),
            fork.display().to_string(),
        ],
        vec!["--version".into()],
        vec!["-print-file-name=include".into()],
        vec![i.clone(), "-E".into(), fork.display().to_string()],
        vec!["-c".into(), "no-such-file.c".into()],
        vec![
            "-x".into(),
            "c".into(),
            "-c".into(),
            "/dev/null".into(),
            "-o".into(),
            "probe.o".into(),
        ],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let gcc = run(Path::new("gcc"), &args);
        let gcc_objects: Vec<_> = files_under(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "o"))
            .map(|p| (p.clone(), std::fs::read(dir.path().join(p)).expect("read")))
            .collect();
        let ours = run(&bin("nccrs"), &args);
        assert_eq!(
            gcc.status.code(),
            ours.status.code(),
            "exit status of {args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&gcc.stdout),
            String::from_utf8_lossy(&ours.stdout),
            "stdout of {args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&gcc.stderr),
            String::from_utf8_lossy(&ours.stderr),
            "stderr of {args:?}"
        );
        for (p, bytes) in gcc_objects {
            assert_eq!(
                std::fs::read(dir.path().join(&p)).expect("read"),
                bytes,
                "{} differs",
                p.display()
            );
        }
    }
    // Without a kernel build around it, the database is the one NCCRS_DB names.
    assert!(db.is_file());
}

#[test]
fn masquerade_symlink_and_nested_calls_do_not_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = dir.path().join("bin");
    std::fs::create_dir(&shim).expect("mkdir");
    std::os::unix::fs::symlink(bin("nccrs"), shim.join("gcc")).expect("symlink");
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let src = dir.path().join("a.c");
    std::fs::write(
        &src,
        "int twice(int x) { return 2 * x; }\nint four(void) { return twice(2); }\n",
    )
    .expect("write");
    for env in [
        vec![],
        vec![("NCCRS_CC", "gcc")],
        vec![("NCCRS_CC", "gcc -O1")],
    ] {
        let mut cmd = Command::new(shim.join("gcc"));
        cmd.args(["-c", "a.c", "-o", "a.o"])
            .current_dir(dir.path())
            .env("PATH", &path);
        cmd.env("NCCRS_INDEX", "inline")
            .env("NCCRS_DB", dir.path().join("m.db"));
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("runs");
        assert!(
            out.status.success(),
            "{env:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{env:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Outside a kernel tree, paths are absolute.
    let got = lines(&dir.path().join("m.db"), &["callers", "twice"]);
    assert_eq!(got, vec![format!("four {}:2:25", src.display())]);
}

/// `CC="nccrs gcc"`, the form ccache and distcc are used in (`CC="nccrs
/// aarch64-linux-gnu-gcc"` for a cross build): the first argument names the real
/// compiler, and wins over NCCRS_CC; the build and its facts are the same.
#[test]
fn the_real_compiler_can_be_the_first_argument() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let gcc = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v gcc"])
            .output()
            .expect("sh")
            .stdout,
    )
    .expect("utf-8");
    let out = Command::new("make")
        .arg("-C")
        .arg(fixture("minikernel"))
        .arg(format!("O={}", objdir.display()))
        .arg(format!("CC={} {}", bin("nccrs").display(), gcc.trim()))
        .env("NCCRS_INDEX", "inline")
        .arg("all")
        // Were NCCRS_CC taken, the first argument would reach it as an input file.
        .env("NCCRS_CC", "clang")
        .env_remove("MAKEFLAGS")
        .output()
        .expect("make");
    assert!(
        out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("nccrs:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = stdout(&nccnav(&objdir.join("vmlinux.db"), &["dump"]));
    let commands: Vec<String> = dump
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"tu\""))
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["command"][0].to_string())
        .collect();
    assert!(
        !commands.is_empty() && commands.iter().all(|c| c.contains("gcc")),
        "{commands:?}"
    );
    let ours: String = facts_text(&objdir.join("vmlinux.db"));
    let shared: String = facts_text(&built().db)
        .lines()
        .filter(|l| !l.contains("broken"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(ours, shared);
}

/// `dump --canonical` names every id by what it names: two builds that record the
/// same facts print the same lines, whatever order their units were written in.
#[test]
fn canonical_dumps_do_not_depend_on_the_build_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let build = |jobs: &str| {
        let _ = std::fs::remove_dir_all(&objdir);
        let out = make("minikernel", &objdir, &bin("nccrs"), &[], &[jobs, "all"]);
        assert!(out.status.success(), "{out:?}");
        let dump = nccnav(&objdir.join("vmlinux.db"), &["dump", "--canonical"]);
        assert!(dump.status.success(), "{dump:?}");
        stdout(&dump)
    };
    let serial = build("-j1");
    let parallel = build("-j8");
    assert!(serial.lines().count() > 400, "{serial}");
    let mut sorted: Vec<&str> = serial.lines().collect();
    sorted.sort_unstable();
    assert_eq!(sorted, serial.lines().collect::<Vec<_>>(), "not sorted");
    assert!(!serial.contains("\"id\""), "an id is left");
    assert_eq!(serial, parallel);
}

#[test]
fn parallel_make_gives_the_same_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let out = make("minikernel", &objdir, &bin("nccrs"), &[], &["-j8", "all"]);
    assert!(out.status.success());
    // The broken file is built in the shared build only.
    let ours: String = facts_text(&objdir.join("vmlinux.db"));
    let shared: String = facts_text(&built().db)
        .lines()
        .filter(|l| !l.contains("broken"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(ours, shared);
}

/// By default (`NCCRS_INDEX` unset) the indexing runs in the background: make returns
/// after the compiles, with the build's output and objects untouched; `nccrs --wait`
/// returns when the same facts as an inline build are recorded, and leaves nothing
/// pending.
#[test]
fn background_indexing_records_the_same_facts_after_make_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let out = make(
        "minikernel",
        &objdir,
        &bin("nccrs"),
        &[("NCCRS_INDEX", Path::new(""))],
        &["all"],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("nccrs"),
        "{out:?}"
    );
    let plain_dir = dir.path().join("plain");
    let plain = make("minikernel", &plain_dir, Path::new("gcc"), &[], &["all"]);
    assert!(plain.status.success(), "{plain:?}");
    let objects: Vec<PathBuf> = files_under(&plain_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    assert!(!objects.is_empty());
    for rel in &objects {
        assert_eq!(
            std::fs::read(plain_dir.join(rel)).expect("read"),
            std::fs::read(objdir.join(rel)).expect("built in the background build too"),
            "{}",
            rel.display()
        );
    }

    let db = objdir.join("vmlinux.db");
    let wait = nccrs_wait(&db);
    assert_eq!(wait.status.code(), Some(0), "{wait:?}");
    assert!(wait.stderr.is_empty(), "{wait:?}");
    assert_eq!(
        stdout(&wait),
        format!("{}: every compile is indexed\n", db.display())
    );
    let pending: Vec<String> = std::fs::read_dir(objdir.join("vmlinux.db.pending"))
        .expect("pending directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["drain.lock", "compiled", "indexed"].contains(&n.as_str()))
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
    let progress = schema::pending::progress(&db);
    let compiled = units(&db).len() as u64;
    assert_eq!(
        (progress.compiled, progress.indexed, progress.pending),
        (compiled, compiled, 0)
    );
    let shared: String = facts_text(&built().db)
        .lines()
        .filter(|l| !l.contains("broken"))
        .map(|l| format!("{l}\n"))
        .collect();
    let not_ok: Vec<Value> = units(&db)
        .into_iter()
        .filter(|t| t["status"] != "ok")
        .collect();
    assert!(not_ok.is_empty(), "{not_ok:#?}");
    assert_eq!(facts_text(&db), shared);

    // nccnav says when compiles are still pending, and only then.
    let def = nccnav(&db, &["def", "vfs_read"]);
    assert!(def.status.success() && def.stderr.is_empty(), "{def:?}");
    // A job of a compile still running (this process): nobody may claim it, not even
    // a drainer that is just leaving.
    let job = nccrs_e2e::pending_job_of_this_process(&db);
    let def = nccnav(&db, &["def", "vfs_read"]);
    assert!(def.status.success(), "{def:?}");
    assert_eq!(
        String::from_utf8_lossy(&def.stderr),
        format!(
            "nccnav: note: indexing: {compiled} of {} compiles indexed so far; `nccrs --wait {}` waits for the rest\n",
            compiled + 1,
            db.display()
        )
    );
    std::fs::remove_file(&job).expect("remove it");

    // Waiting again has nothing to wait for; a database that is not there is an error.
    let again = nccrs_wait(&db);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let missing = nccrs_wait(&dir.path().join("nothing.db"));
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("nothing.db: no such database"),
        "{missing:?}"
    );
}

/// In the background the indexers live across units: the drainer hands each of its
/// indexers job after job (libclang loaded once), never more indexers at once than
/// processors, and the facts are those of an inline build. (The jobs are registered
/// while this test holds the drainer's lock; `nccrs --wait` then indexes them all.)
#[test]
fn background_indexers_live_across_units() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objdir = dir.path().join("build");
    let db = objdir.join("vmlinux.db");
    let pending = objdir.join("vmlinux.db.pending");
    std::fs::create_dir_all(&pending).expect("pending directory");
    let lock = std::fs::File::create(pending.join("drain.lock")).expect("lock file");
    lock.try_lock().expect("the drainer's lock");
    let out = make(
        "minikernel",
        &objdir,
        &bin("nccrs"),
        &[("NCCRS_INDEX", Path::new("background"))],
        &["all"],
    );
    assert!(out.status.success(), "{out:?}");
    let registered = schema::pending::progress(&db);
    assert_eq!(registered.indexed, 0, "no drainer ran");
    drop(lock);
    let profile = dir.path().join("profile");
    let wait = Command::new(bin("nccrs"))
        .arg("--wait")
        .arg(&db)
        .env("NCCRS_PROFILE", &profile)
        .output()
        .expect("nccrs --wait runs");
    assert_eq!(wait.status.code(), Some(0), "{wait:?}");
    let text = std::fs::read_to_string(&profile).expect("profile");
    let indexers: std::collections::BTreeSet<&str> = text
        .lines()
        .map(|l| l.rsplit_once("\tindexer=").expect("indexer column").1)
        .collect();
    let units_of_c = text.lines().count();
    let processors = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(units_of_c >= 10, "{text}");
    // (With as many processors as jobs, each job may start an indexer of its own.)
    let most = if processors < units_of_c + 1 {
        processors.min(units_of_c - 1)
    } else {
        processors
    };
    assert!(
        indexers.len() <= most,
        "{} units of C indexed by {} processes",
        units_of_c,
        indexers.len()
    );
    let not_ok: Vec<Value> = units(&db)
        .into_iter()
        .filter(|t| t["status"] != "ok")
        .collect();
    assert!(not_ok.is_empty(), "{not_ok:#?}");
    let shared: String = facts_text(&built().db)
        .lines()
        .filter(|l| !l.contains("broken"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(facts_text(&db), shared);
}

#[test]
fn rebuilding_a_unit_replaces_its_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("x.c");
    let db = dir.path().join("r.db");
    let compile = || {
        let out = Command::new(bin("nccrs"))
            .args(["-c", "x.c"])
            .current_dir(dir.path())
            .env("NCCRS_INDEX", "inline")
            .env("NCCRS_DB", &db)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(&src, "void a(void) {}\nvoid b(void) { a(); }\n").expect("write");
    compile();
    compile();
    let first = facts_text(&db);
    assert_eq!(first.matches("call b -> a").count(), 1, "{first}");
    // Rename a function and drop the call: nothing of the old version stays.
    std::fs::write(&src, "void a2(void) {}\nvoid b(void) { }\n").expect("write");
    compile();
    let second = facts_text(&db);
    assert!(
        !second.contains(" a at ") && !second.contains("call b"),
        "{second}"
    );
    assert!(second.contains("def function external a2 at"), "{second}");
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a database\n".repeat(100)).expect("write");
    let out = nccnav(&text, &["def", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an nccrs database"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&text).expect("read"),
        "this is not a database\n".repeat(100)
    );

    let out = nccnav(&dir.path().join("missing.db"), &["def", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such file"),
        "{out:?}"
    );
    assert!(!dir.path().join("missing.db").exists());

    let db = &built().db;
    let out = nccnav(db, &["callers", "vfs_reed"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("nccnav: no symbol named \"vfs_reed\"") && err.contains("vfs_read"),
        "{err}"
    );
}

#[test]
fn refs_lists_every_place_a_name_is_referred_to() {
    let db = &built().db;
    // Stored by a macro, passed as a callback, compared: each with the function it is
    // in, in file and line order.
    assert_eq!(
        lines(db, &["refs", "wq_barrier_func"]),
        [
            "insert_barrier kernel/workqueue.c:21:18 stored into work_struct::func via INIT_WORK",
            "flush_all kernel/workqueue.c:75:26 stored into for_each_work::fn",
            "is_barrier kernel/workqueue.c:96:23 addr",
        ]
    );
    // A member: the calls through it, what is stored into it (in an initializer, the
    // variable initialized), who reads it.
    let member = lines(db, &["refs", "wq_ops::start"]);
    for want in [
        "classes kernel/workqueue.c:43:11 store of start_a",
        "run_class kernel/workqueue.c:59:2 call",
    ] {
        assert!(member.iter().any(|l| l == want), "{want:?} in {member:#?}");
    }
    let out = nccnav(db, &["refs", "wq_barrier_func", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[2]["within"], "is_barrier");
    assert_eq!(v[2]["kind"], "addr");
    assert_eq!(v[0]["other"], "work_struct::func");
    // `stores` names the function too.
    assert_eq!(
        lines(db, &["stores", "wq_barrier_func"]),
        [
            "into work_struct::func kernel/workqueue.c:21:18 in insert_barrier via INIT_WORK",
            "into for_each_work::fn kernel/workqueue.c:75:26 in flush_all",
        ]
    );
}

#[test]
fn every_row_is_printed_unless_a_limit_is_asked_for() {
    let db = &built().db;
    assert_eq!(lines(db, &["callers", "vfs_read"]).len(), 3);
    assert_eq!(
        lines(db, &["callers", "vfs_read", "--limit", "1"]),
        [
            "ksys_read fs/read_write.c:20:9",
            "... and 2 more (--limit 1; without it, all)",
        ]
    );
    // The functions behind a call through a pointer, too.
    assert_eq!(
        lines(db, &["callees", "run_class", "--limit", "1"])[..3],
        [
            "wq_ops::start kernel/workqueue.c:59:2 [indirect call through field]",
            "-> start_a",
            "-> ... and 1 more (--limit 1; without it, all)",
        ]
    );
    let out = nccnav(db, &["callers", "vfs_read", "--limit", "2", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 more (--limit 2"),
        "{out:?}"
    );
}

#[test]
fn a_directory_names_the_database_in_it_or_above_it() {
    let b = built();
    for dir in [b.objdir.clone(), b.objdir.join("kernel")] {
        assert_eq!(
            lines(&dir, &["def", "mmlist_lock"]),
            ["kernel/fork.c:8:17: variable mmlist_lock (external) via DEFINE_SPINLOCK"],
            "{}",
            dir.display()
        );
    }
    let empty = tempfile::tempdir().expect("tempdir");
    let out = nccnav(empty.path(), &["def", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a directory, with no vmlinux.db or nccrs.db in it"),
        "{err}"
    );
    assert!(!err.contains("I/O error"), "{err}");
}

#[test]
fn json_output_parses() {
    let db = &built().db;
    let out = nccnav(db, &["def", "mmlist_lock", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["file"], "kernel/fork.c");
    assert_eq!(v[0]["line"], 8);
    assert_eq!(v[0]["macro"], "DEFINE_SPINLOCK");
    let out = nccnav(db, &["--json", "callers", "vfs_read"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let callers: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["caller"].as_str())
        .collect();
    assert!(
        callers.contains(&"ksys_read") && callers.contains(&"demo_init"),
        "{callers:?}"
    );
}

/// Headers read differently by different units, and after a configuration change:
/// the database holds what each unit saw, and nothing stale.
#[test]
fn header_facts_follow_what_each_unit_saw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let db = d.join("h.db");
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).expect("write");
    let cc = |args: &[&str]| {
        let out = Command::new(bin("nccrs"))
            .args(args)
            .current_dir(d)
            .env("NCCRS_INDEX", "inline")
            .env("NCCRS_DB", &db)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    write("h.h", "void call_a(void);\nvoid call_b(void);\nstatic inline void helper(void)\n{\n#ifdef CONFIG_X\n\tcall_a();\n#else\n\tcall_b();\n#endif\n}\n");
    write(
        "ev.h",
        "#ifdef CREATE_POINTS\nvoid made_here(void) {}\n#endif\nvoid plain(void);\n",
    );
    write(
        "a.c",
        "#include \"h.h\"\n#include \"ev.h\"\nvoid a(void) { helper(); }\n",
    );
    write(
        "b.c",
        "#define CREATE_POINTS\n#include \"ev.h\"\n#include \"h.h\"\nvoid b(void) { helper(); }\n",
    );
    write(
        "s.c",
        "int g(void);\nint n(void) { return sizeof(g()) + __builtin_expect(n(), 1); }\n",
    );
    write("config.h", "#define CONFIG_X 1\n");
    for f in ["a.c", "b.c", "s.c"] {
        cc(&["-include", "config.h", "-c", f]);
    }
    let callees = |name: &str| lines(&db, &["callees", name]).join("\n");
    assert!(
        callees("helper").contains("call_a") && !callees("helper").contains("call_b"),
        "{}",
        callees("helper")
    );
    // b.c's #define before the #include makes ev.h define made_here, though a.c
    // recorded ev.h first.
    assert_eq!(lines(&db, &["def", "made_here"]).len(), 1);
    // sizeof does not call; builtins are not calls.
    assert_eq!(callees("n"), format!("n {}/s.c:2:53", d.display()));

    // The configuration changes and everything is rebuilt: nothing of the old one stays.
    write("config.h", "/* CONFIG_X is not set */\n");
    for f in ["a.c", "b.c", "s.c"] {
        cc(&["-include", "config.h", "-c", f]);
    }
    assert!(
        callees("helper").contains("call_b") && !callees("helper").contains("call_a"),
        "{}",
        callees("helper")
    );
    assert_eq!(lines(&db, &["callers", "helper"]).len(), 2);
}

/// The indexer crashing or hanging on a unit costs one warning line and a `failed`
/// record, never the build: same objects, same exit status. Inline, the warning is in
/// the build's output; in the background, the build says nothing and `nccrs --wait`
/// tells it, once.
#[test]
fn a_crashing_or_hanging_indexer_does_not_touch_the_build() {
    for (mode, fault, timeout, reason) in [
        ("inline", "crash:kernel/fork.c", "60", "killed by signal 6"),
        ("inline", "hang:kernel/fork.c", "2", "timed out"),
        (
            "background",
            "crash:kernel/fork.c",
            "60",
            "killed by signal 6",
        ),
        // 3 s of processor time; a sleeping indexer is stopped after 20 times that.
        // (The wall-clock limit leaves room for the other units, which wait at nice 19
        // while other tests build kernels.)
        ("background", "hang:kernel/fork.c", "3", "timed out"),
    ] {
        let what = format!("{mode} {fault}");
        let dir = tempfile::tempdir().expect("tempdir");
        let objdir = dir.path().join("build");
        let db = objdir.join("vmlinux.db");
        let out = make(
            "minikernel",
            &objdir,
            &bin("nccrs"),
            &[
                ("NCCRS_INDEX", Path::new(mode)),
                ("NCCRS_FAULT", Path::new(fault)),
                ("NCCRS_INDEX_TIMEOUT", Path::new(timeout)),
            ],
            &["all"],
        );
        assert!(out.status.success(), "{what}: {out:?}");
        let build_err = String::from_utf8_lossy(&out.stderr);
        let told: String = if mode == "inline" {
            build_err.into_owned()
        } else {
            assert!(!build_err.contains("nccrs"), "{what}: {build_err}");
            let wait = nccrs_wait(&db);
            assert_eq!(wait.status.code(), Some(1), "{what}: {wait:?}");
            assert!(
                stdout(&wait).ends_with("indexed, 1 warning(s) above\n"),
                "{wait:?}"
            );
            // Told once.
            let again = nccrs_wait(&db);
            assert_eq!(again.status.code(), Some(0), "{again:?}");
            String::from_utf8_lossy(&wait.stderr).into_owned()
        };
        let warnings: Vec<&str> = told.lines().filter(|l| l.starts_with("nccrs:")).collect();
        assert_eq!(warnings.len(), 1, "{what}: {told}");
        // nccnav tells it with every answer, until the unit is indexed.
        let def = nccnav(&db, &["def", "vfs_read"]);
        let err = String::from_utf8_lossy(&def.stderr);
        assert!(
            def.status.success()
                && err.starts_with(
                    "nccnav: warning: 1 unit(s) could not be indexed: kernel/fork.c ("
                )
                && err.contains(reason)
                && err.lines().count() == 1,
            "{what}: {def:?}"
        );
        assert!(
            warnings[0].starts_with("nccrs: warning: ")
                && warnings[0].contains("kernel/fork.c: not indexed: ")
                && warnings[0].contains(reason),
            "{what}: {}",
            warnings[0]
        );
        let fork = std::fs::read(objdir.join("kernel/fork.o")).expect("fork.o was built");
        let plain_dir = dir.path().join("plain");
        let plain = make("minikernel", &plain_dir, Path::new("gcc"), &[], &["all"]);
        assert!(plain.status.success());
        assert_eq!(
            fork,
            std::fs::read(plain_dir.join("kernel/fork.o")).expect("read"),
            "{what}: fork.o differs"
        );
        let tu = unit(&db, "kernel/fork.o");
        assert_eq!(tu["status"], "failed", "{what}");
        assert!(
            tu["reason"].as_str().unwrap_or("").contains(reason),
            "{what}: {tu}"
        );
        // The other units are indexed as usual.
        assert!(lines(&db, &["def", "vfs_read"]).len() == 1);
    }
}

#[test]
fn verify_agrees_with_the_compilers_dwarf() {
    let db = &built().db;
    // Every definition the compiler's debug information names, at its line; every
    // call edge, directly or through a pointer the callee was stored into.
    let out = nccnav(
        db,
        &[
            "verify",
            "--misses",
            "--min-definitions",
            "100",
            "--min-calls",
            "95",
        ],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{out:?}");
    assert!(!text.contains("missing "), "{text}");
    assert!(text.contains("; 0 could not be read)"), "{text}");
    for kind in [
        "written at the definition line",
        "given as a macro argument",
        "made by token pasting",
    ] {
        let line = text.lines().find(|l| l.contains(kind)).expect(kind);
        assert!(line.ends_with("(100.00%)"), "{line}");
    }
    // `apply` is inlined into `apply_all`: its call through the parameter `fn` became
    // a direct call of `start_b`, which the database resolves through the store.
    assert!(
        text.contains("1 more through a pointer the callee was stored into"),
        "{text}"
    );
    // Below a threshold: exit status 3, and the reason.
    let out = nccnav(db, &["verify", "--min-calls", "100"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        stdout(&out).contains("below the threshold: call edges"),
        "{out:?}"
    );
}
