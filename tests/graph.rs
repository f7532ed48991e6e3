//! `nccnav DB path` and `nccnav DB graph` on the fixture database.
//!
//! The expected texts are read off fixtures/minikernel: line and column of each call
//! as the source has them, calls through ops tables and pointers as its stores say.

use std::path::Path;
use std::process::{Command, Output};

use nccrs_e2e::{bin, nccnav, stdout};
use serde_json::Value;

use crate::fixture::built;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs nccnav and expects it to succeed.
fn ok(db: &Path, args: &[&str]) -> String {
    let out = nccnav(db, args);
    assert!(
        out.status.success(),
        "nccnav {args:?}: {:?}: {}",
        out.status,
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn path_lists_each_call_with_its_site() {
    let db = &built().db;
    let rows: &[(&[&str], &str)] = &[
        // Through a macro-made function, and an ops table filled in another file.
        (
            &["path", "__se_sys_read", "ramfs_read"],
            "\
__se_sys_read -> ramfs_read: 4 calls
  __se_sys_read
  -> __do_sys_read  fs/read_write.c:23:1  via SYSCALL_DEFINE3
  -> ksys_read      fs/read_write.c:25:9
  -> vfs_read       fs/read_write.c:20:9
  -> ramfs_read     fs/read_write.c:12:9  [indirect via file_operations::read]
",
        ),
        // From UML's dispatcher, through the system-call table, to the alias the
        // table holds and the function behind it.
        (
            &["path", "handle_syscall", "vfs_read"],
            "\
handle_syscall -> vfs_read: 5 calls
  handle_syscall
  -> sys_read       arch/um/syscall.c:28:9  via EXECUTE_SYSCALL  [indirect via sys_call_table]
  -> __se_sys_read  fs/read_write.c:23:1  via SYSCALL_DEFINE3  [alias target]
  -> __do_sys_read  fs/read_write.c:23:1  via SYSCALL_DEFINE3
  -> ksys_read      fs/read_write.c:25:9
  -> vfs_read       fs/read_write.c:20:9
",
        ),
        // From the assembly entry (arch/um/entry.S, read from its object) on.
        (
            &["path", "entry_syscall", "vfs_read"],
            "\
entry_syscall -> vfs_read: 6 calls
  entry_syscall
  -> handle_syscall  arch/um/entry.S:6:7  [from assembly]
  -> sys_read        arch/um/syscall.c:28:9  via EXECUTE_SYSCALL  [indirect via sys_call_table]
  -> __se_sys_read   fs/read_write.c:23:1  via SYSCALL_DEFINE3  [alias target]
  -> __do_sys_read   fs/read_write.c:23:1  via SYSCALL_DEFINE3
  -> ksys_read       fs/read_write.c:25:9
  -> vfs_read        fs/read_write.c:20:9
",
        ),
        // A function stored by a macro into one member, copied into another, called
        // through the second.
        (
            &["path", "insert_barrier", "wq_barrier_func"],
            "\
insert_barrier -> wq_barrier_func: 2 calls
  insert_barrier
  -> process_one_work  kernel/workqueue.c:22:2
  -> wq_barrier_func   kernel/workqueue.c:16:2  [indirect via worker::current_func]
",
        ),
        // A function passed as an argument, called through the parameter.
        (
            &["path", "flush_all", "wq_barrier_func"],
            "\
flush_all -> wq_barrier_func: 2 calls
  flush_all
  -> for_each_work    kernel/workqueue.c:75:2
  -> wq_barrier_func  kernel/workqueue.c:70:3  [indirect via for_each_work::fn]
",
        ),
        // run_class reaches start_b through wq_ops::start (line 59) and through
        // default_start (line 61): one call, shown at its first site.
        (
            &["path", "run_class", "start_b"],
            "\
run_class -> start_b: 1 call
  run_class
  -> start_b  kernel/workqueue.c:59:2  [indirect via wq_ops::start]
",
        ),
        // `init` names two statics; only kernel/fork.c's is called from copy_process.
        (
            &["path", "copy_process", "init"],
            "\
copy_process -> init: 1 call
  copy_process
  -> init [kernel/fork.c]  kernel/fork.c:43:2
",
        ),
        // FILE:NAME picks one; a cycle back to the start (mutual recursion).
        (
            &["path", "ksys_read", "dcache.c:init"],
            "\
ksys_read -> dcache.c:init: 2 calls
  ksys_read
  -> fget                fs/read_write.c:18:19
  -> init [fs/dcache.c]  fs/dcache.c:27:3
",
        ),
        (
            &["path", "is_even", "is_even"],
            "\
is_even -> is_even: 2 calls
  is_even
  -> is_odd   kernel/sched.c:40:22
  -> is_even  kernel/sched.c:45:22
",
        ),
        // A call written in a macro's argument.
        (
            &["path", "wait_for_children", "count_ancestors"],
            "\
wait_for_children -> count_ancestors: 1 call
  wait_for_children
  -> count_ancestors  kernel/sched.c:50:25  via wait_event
",
        ),
    ];
    let mut failures = Vec::new();
    for (args, want) in rows {
        let got = ok(db, args);
        if got != *want {
            failures.push(format!("nccnav {args:?}\n--- want\n{want}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn path_json_has_one_array_of_steps_per_path() {
    let db = &built().db;
    let out = ok(db, &["path", "--json", "demo_init", "ramfs_read"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let paths = v.as_array().expect("an array of paths");
    assert_eq!(paths.len(), 1, "{v:#}");
    let steps = paths[0].as_array().expect("an array of steps");
    assert_eq!(steps.len(), 2, "{v:#}");
    let (first, second) = (&steps[0], &steps[1]);
    assert_eq!(first["caller"], "demo_init");
    assert_eq!(first["callee"], "vfs_read");
    assert_eq!(first["root"], "src");
    assert_eq!(first["file"], "drivers/demo/demo.c");
    assert_eq!((&first["line"], &first["col"]), (&14.into(), &2.into()));
    assert_eq!(first["macro"], Value::Null);
    assert_eq!(first["via"], Value::Null);
    assert_eq!(second["caller"], "vfs_read");
    assert_eq!(second["callee"], "ramfs_read");
    assert_eq!(second["file"], "fs/read_write.c");
    assert_eq!((&second["line"], &second["col"]), (&12.into(), &9.into()));
    assert_eq!(second["via"], "file_operations::read");
    assert!(first["caller_id"].is_i64() && first["callee_id"].is_i64());
    assert_eq!(first["callee_id"], second["caller_id"]);
    assert_ne!(first["caller_id"], second["callee_id"]);

    let out = ok(db, &["path", "--json", "__se_sys_read", "__do_sys_read"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0][0]["macro"], "SYSCALL_DEFINE3", "{v:#}");
}

#[test]
fn path_says_when_there_is_none() {
    let db = &built().db;
    // ramfs_read calls nothing; ksys_read calls vfs_read, not the other way round.
    for (from, to) in [("ramfs_read", "vfs_read"), ("vfs_read", "ksys_read")] {
        let out = nccnav(db, &["path", from, to]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            format!("nccnav: no recorded chain of calls leads from {from} to {to}\n")
        );
    }
    // Neither init calls itself.
    let out = nccnav(db, &["path", "init", "init"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // JSON readers get an empty list.
    let out = nccnav(db, &["path", "--json", "ramfs_read", "vfs_read"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out), "[]\n");
}

#[test]
fn path_and_graph_take_functions_only() {
    let db = &built().db;
    let rows: &[(&[&str], i32, &str)] = &[
        (
            &["path", "vfs_read", "file_operations::read"],
            2,
            "nccnav: path: file_operations::read is a field, not a function\n",
        ),
        (
            &["path", "mmlist_lock", "vfs_read"],
            2,
            "nccnav: path: mmlist_lock is a variable, not a function\n",
        ),
        (
            &["graph", "work_struct::func"],
            2,
            "nccnav: graph: work_struct::func is a field, not a function\n",
        ),
        (
            &["path", "vfs_read"],
            2,
            "nccnav: path takes two functions: nccnav DB path FROM TO\n",
        ),
        (
            &["graph", "vfs_read", "-o", "calls.png"],
            2,
            "nccnav: graph: -o takes FILE.dot or FILE.svg, not calls.png\n",
        ),
    ];
    let mut failures = Vec::new();
    for (args, code, want) in rows {
        let out = nccnav(db, args);
        if out.status.code() != Some(*code) || stderr(&out) != *want || !out.stdout.is_empty() {
            failures.push(format!(
                "nccnav {args:?}\n  want: {code} {want:?}\n  got:  {:?} {:?} {:?}",
                out.status.code(),
                stderr(&out),
                stdout(&out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // An unknown name is exit 1, with suggestions, as for every command.
    let out = nccnav(db, &["path", "vfs_reed", "ksys_read"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr(&out).starts_with("nccnav: no symbol named \"vfs_reed\"; close matches: vfs_read"),
        "{}",
        stderr(&out)
    );
    assert!(!Path::new("calls.png").exists() && !Path::new("calls.dot").exists());
}

const DOT_HEAD: &str = "\
digraph calls {
  rankdir=LR;
  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];
  edge [fontname=\"Helvetica\", fontsize=9];
";

const START: &str = "style=\"rounded,filled,bold\", fillcolor=\"#ffd966\"";

#[test]
fn graph_draws_the_callers_to_the_depth_asked() {
    let db = &built().db;
    // Callers of vfs_read, by name; then the caller of ksys_read. __se_sys_read is a
    // third call away.
    let want = format!(
        "// callers of vfs_read to depth 2
{DOT_HEAD}  n0 [label=\"vfs_read\\nfs/read_write.c:7\", tooltip=\"fs/read_write.c:7\", {START}];
  n1 [label=\"broken_ok\\nbroken/broken.c:5\", tooltip=\"broken/broken.c:5\"];
  n2 [label=\"demo_init\\ndrivers/demo/demo.c:9\", tooltip=\"drivers/demo/demo.c:9\"];
  n3 [label=\"ksys_read\\nfs/read_write.c:16\", tooltip=\"fs/read_write.c:16\"];
  n4 [label=\"__do_sys_read\\nfs/read_write.c:23\", tooltip=\"fs/read_write.c:23\"];
  n1 -> n0;
  n2 -> n0;
  n3 -> n0;
  n4 -> n3;
}}
"
    );
    assert_eq!(
        ok(db, &["graph", "vfs_read", "--callers", "--depth", "2"]),
        want
    );
    // Two is the default depth.
    assert_eq!(ok(db, &["graph", "--callers", "vfs_read"]), want);
}

#[test]
fn graph_dashes_calls_through_pointers() {
    let db = &built().db;
    // vfs_read reaches ramfs_read only through the ops table.
    assert_eq!(
        ok(db, &["graph", "vfs_read", "--callees"]),
        format!(
            "// callees of vfs_read to depth 2
{DOT_HEAD}  n0 [label=\"vfs_read\\nfs/read_write.c:7\", tooltip=\"fs/read_write.c:7\", {START}];
  n1 [label=\"ramfs_read\\nfs/ramfs/file.c:5\", tooltip=\"fs/ramfs/file.c:5\"];
  n0 -> n1 [style=dashed, label=\"file_operations::read\"];
}}
"
        )
    );
    // One edge per function reached, labelled with every pointer it goes through.
    assert_eq!(
        ok(db, &["graph", "run_class", "--depth", "1"]),
        format!(
            "// callees of run_class to depth 1
{DOT_HEAD}  n0 [label=\"run_class\\nkernel/workqueue.c:57\", tooltip=\"kernel/workqueue.c:57\", {START}];
  n1 [label=\"start_a\\nkernel/workqueue.c:36\", tooltip=\"kernel/workqueue.c:36\"];
  n2 [label=\"start_b\\nkernel/workqueue.c:38\", tooltip=\"kernel/workqueue.c:38\"];
  n3 [label=\"stop_a\\nkernel/workqueue.c:37\", tooltip=\"kernel/workqueue.c:37\"];
  n0 -> n1 [style=dashed, label=\"fallback, wq_ops::start\"];
  n0 -> n2 [style=dashed, label=\"default_start, wq_ops::start\"];
  n0 -> n3 [style=dashed, label=\"fallback\"];
}}
"
        )
    );
}

#[test]
fn graph_depth_zero_and_huge_depths_are_fine() {
    let db = &built().db;
    let zero = ok(db, &["graph", "vfs_read", "--depth", "0"]);
    assert_eq!(
        zero,
        format!(
            "// callees of vfs_read to depth 0
{DOT_HEAD}  n0 [label=\"vfs_read\\nfs/read_write.c:7\", tooltip=\"fs/read_write.c:7\", {START}];
}}
"
        )
    );
    // Everything __se_sys_read reaches, however deep: 7 functions, 6 calls.
    let all = ok(
        db,
        &["graph", "__se_sys_read", "--depth", &usize::MAX.to_string()],
    );
    let nodes = all.lines().filter(|l| l.contains("[label=")).count();
    let edges = all.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!((nodes, edges), (7, 6), "{all}");
    for name in ["fget", "init", "ramfs_read"] {
        assert!(
            all.contains(&format!("[label=\"{name}\\n")),
            "{name}:\n{all}"
        );
    }
    // A name for two functions starts from both.
    let inits = ok(db, &["graph", "init", "--callers", "--depth", "1"]);
    assert_eq!(inits.matches(START).count(), 2, "{inits}");
    assert!(
        inits.contains("[label=\"copy_process\\nkernel/fork.c:")
            && inits.contains("[label=\"fget\\n"),
        "{inits}"
    );
}

/// nccnav with PATH holding nothing (no Graphviz), run in `dir`.
fn without_graphviz(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("nccnav"))
        .arg(&built().db)
        .args(args)
        .current_dir(dir)
        .env("PATH", dir.join("empty"))
        .output()
        .expect("nccnav runs")
}

#[test]
fn graph_writes_dot_and_svg_files() {
    let have_dot = Command::new("dot").arg("-V").output();
    assert!(
        have_dot.is_ok_and(|o| o.status.success()),
        "Graphviz's dot is missing: .ci/install-deps installs it (apt-get install graphviz)"
    );
    let db = &built().db;
    let dir = tempfile::tempdir().expect("tempdir");
    let dot_text = ok(db, &["graph", "vfs_read"]);

    // -o FILE.svg: the SVG only; a DOT file beside it is left alone.
    let svg = dir.path().join("calls.svg");
    let dot_file = dir.path().join("calls.dot");
    std::fs::write(&dot_file, "mine").expect("write");
    let out = nccnav(
        db,
        &["graph", "vfs_read", "-o", svg.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let said = stderr(&out);
    assert!(
        said.contains("wrote ") && said.contains("calls.svg"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&dot_file).expect("calls.dot"),
        "mine"
    );
    let dot_text_file = dir.path().join("text.dot");
    let out = nccnav(
        db,
        &[
            "graph",
            "vfs_read",
            "-o",
            dot_text_file.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&dot_text_file).expect("text.dot"),
        dot_text
    );
    let picture = std::fs::read_to_string(&svg).expect("calls.svg");
    assert!(picture.contains("<svg"), "{picture}");
    for text in ["vfs_read", "ramfs_read", "file_operations::read"] {
        assert!(picture.contains(text), "{text} not in:\n{picture}");
    }

    // -o FILE.dot, with a name that starts like an option: both again.
    let out = Command::new(bin("nccnav"))
        .arg(db)
        .args(["graph", "vfs_read", "--callers", "--output=-calls.dot"])
        .current_dir(dir.path())
        .output()
        .expect("nccnav runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("-calls.dot").is_file());
    let picture = std::fs::read_to_string(dir.path().join("-calls.svg")).expect("-calls.svg");
    assert!(
        picture.contains("<svg") && picture.contains("ksys_read"),
        "{picture}"
    );
}

#[test]
fn graph_without_graphviz_keeps_the_dot_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");

    let out = without_graphviz(dir.path(), &["graph", "vfs_read", "-o", "calls.svg"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        stderr(&out),
        "nccnav: cannot write calls.svg: Graphviz's `dot` is not installed (apt-get install \
         graphviz); the graph is in calls.dot\n"
    );
    assert!(!dir.path().join("calls.svg").exists());
    let kept = std::fs::read_to_string(dir.path().join("calls.dot")).expect("calls.dot");
    assert!(kept.contains("label=\"file_operations::read\""), "{kept}");

    let out = without_graphviz(dir.path(), &["graph", "vfs_read", "-o", "only.dot"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stderr(&out).contains("wrote only.dot"), "{}", stderr(&out));
    assert!(dir.path().join("only.dot").is_file());
    assert!(!dir.path().join("only.svg").exists());
}

/// A call in an arm a constant condition never takes (`IS_ENABLED(CONFIG_X)` with X
/// off) is recorded as dead: left out of callers, callees, refs and path, shown and
/// marked with `--dead`, `"dead": true` in `dump`.
#[test]
fn calls_this_configuration_never_runs_are_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let db = nccrs_e2e::dead_calls_db(d);
    let here = format!("{}/", d.display());
    let ok = |db: &Path, args: &[&str]| ok(db, args).replace(&here, "");

    assert_eq!(
        ok(&db, &["callees", "f"]),
        "b  d.c:4:60\n(1 more in code this configuration never runs: --dead lists them)\n",
        "the dead call is left out, and counted"
    );
    assert_eq!(
        ok(&db, &["callees", "f", "--dead"]),
        "a  d.c:4:48  [dead in this configuration]\nb  d.c:4:60\n"
    );
    let none = nccnav(&db, &["callers", "a"]);
    assert!(stdout(&none).contains("(no recorded callers)"), "{none:?}");
    let json: Value =
        serde_json::from_str(&ok(&db, &["callers", "a", "--dead", "--json"])).expect("json");
    assert_eq!(json[0]["dead"], true, "{json}");
    assert!(!ok(&db, &["refs", "a"]).contains("d.c:4:48"));
    let refs = ok(&db, &["refs", "a", "--dead"]);
    assert!(
        refs.contains("d.c:4:48  call  [dead in this configuration]"),
        "{refs}"
    );
    assert!(!nccnav(&db, &["path", "g", "a"]).status.success());
    let path = ok(&db, &["path", "g", "a", "--dead"]);
    assert!(
        path.contains("-> a  d.c:4:48  [dead in this configuration]"),
        "{path}"
    );
    let dot = ok(&db, &["graph", "f", "--callees", "--dead"]);
    assert!(
        dot.contains("style=dotted, color=gray, label=\"dead\""),
        "{dot}"
    );
    let dump = ok(&db, &["dump"]);
    let calls: Vec<Value> = dump
        .lines()
        .filter(|l| l.contains("\"type\":\"call\""))
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(calls.len(), 3, "{dump}");
    assert_eq!(
        calls.iter().filter(|c| c["dead"] == true).count(),
        1,
        "{dump}"
    );
}

/// `verify`'s precision: of the recorded direct calls whose caller the compiler
/// emitted, those the DWARF has, and the others by why.
#[test]
fn verify_says_which_recorded_calls_the_compiler_left_out_and_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = nccrs_e2e::dead_calls_db(dir.path());
    let text = ok(&db, &["verify"]);
    // f -> b and g -> f are inlined (in the DWARF); f -> a is dead.
    assert!(
        text.contains(
            "precision: 2 of 3 recorded direct calls whose caller the compiler emitted are in the DWARF (66.67%)"
        ),
        "{text}"
    );
    assert!(
        text.contains("  dead in this configuration: 1 (e.g. f -> a)"),
        "{text}"
    );
    assert!(text.contains("call edges: 2 of 2 in the DWARF"), "{text}");
}

#[test]
fn a_macro_or_a_type_says_why_it_has_no_calls() {
    let db = &built().db;
    assert_eq!(
        ok(db, &["callers", "wait_event"]),
        "(no recorded callers: wait_event is a macro; calls written through it are \
         recorded against the functions its definition names: prepare_to_wait, \
         schedule, finish_wait)\n"
    );
    assert_eq!(
        ok(db, &["callees", "pid_type"]),
        "(no recorded calls: pid_type is a type)\n"
    );
}
