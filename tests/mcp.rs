//! `nccnav mcp` driven by the official MCP Python SDK (`mcp` from PyPI, pinned), as a
//! coding agent's client drives it: the tools listed, each called on the fixture, and
//! bad calls answered with errors while the server keeps going.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use nccrs_e2e::{bin, cache_dir};
use serde_json::{json, Value};

use crate::fixture::built;

/// The client's SDK version.
const MCP_SDK: &str = "mcp==2.3.0";

/// The Python of a virtual environment holding the pinned SDK, made on first use in
/// the tests' cache (`.ci/install-deps` installs `python3-venv` for it).
fn python() -> PathBuf {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = cache_dir().join("mcp-2.3.0-venv");
    let python = venv.join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", "import mcp"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(cache_dir()).expect("the tests' cache");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 runs");
    assert!(
        made.status.success(),
        "python3 -m venv failed (apt-get install python3-venv; .ci/install-deps does): {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", MCP_SDK])
        .output()
        .expect("pip runs");
    assert!(
        pip.status.success(),
        "pip install {MCP_SDK} failed: {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    assert!(ready(&python), "{MCP_SDK} is not importable from {venv:?}");
    python
}

/// Starts `nccnav mcp DB` under `tests/mcp/client.py`, which lists the tools and makes
/// `calls` (`[tool, arguments]` each); the client's report.
pub(crate) fn session(db: &Path, calls: &[(&str, Value)]) -> Value {
    let calls: Vec<Value> = calls.iter().map(|(t, a)| json!([t, a])).collect();
    let out = Command::new("timeout")
        .arg("300")
        .arg(python())
        .arg(nccrs_e2e::root().join("tests/mcp/client.py"))
        .arg(bin("nccnav"))
        .arg(db)
        .arg(Value::Array(calls).to_string())
        .output()
        .expect("the MCP client runs");
    assert!(
        out.status.success(),
        "the MCP client failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client's JSON report")
}

/// The answer of call `i` of a session: its structured content.
fn answer(report: &Value, i: usize) -> &Value {
    let call = &report["calls"][i];
    assert_eq!(call["is_error"], false, "call {i}: {call}");
    &call["structured"]
}

/// The values of `key` in the rows under `list` of an answer.
fn column(answer: &Value, list: &str, key: &str) -> Vec<String> {
    answer[list]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|r| r[key].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn an_agent_lists_the_tools_and_calls_each() {
    let report = session(
        &built().db,
        &[
            ("definitions", json!({"name": "dcache_lock"})),
            ("callers", json!({"name": "vfs_read"})),
            ("callees", json!({"name": "vfs_read"})),
            ("callers", json!({"name": "ramfs_read"})),
            ("callers", json!({"name": "vfs_read", "depth": 3})),
            (
                "call_paths",
                json!({"from": "__se_sys_read", "to": "ramfs_read"}),
            ),
            ("stores", json!({"name": "file_operations::read"})),
            ("uses", json!({"name": "nr_threads"})),
            ("references", json!({"name": "wq_barrier_func"})),
            ("search_symbols", json!({"query": "spin_"})),
            (
                "source",
                json!({"file": "fs/read_write.c", "line": 7, "context": 1}),
            ),
            ("callers", json!({"name": "spin_lock", "limit": 3})),
            ("callers", json!({"name": "init", "limit": 1})),
            ("callers", json!({"name": "wait_event"})),
            (
                "source",
                json!({"file": "fs/read_write.c:7:9", "line": 7, "context": 0}),
            ),
        ],
    );
    assert_eq!(report["server"], "nccnav");
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        tools,
        [
            "definitions",
            "callers",
            "callees",
            "call_paths",
            "stores",
            "uses",
            "references",
            "search_symbols",
            "source"
        ]
    );
    for t in report["tools"].as_array().expect("tools") {
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 100),
            "{t}"
        );
        assert_eq!(t["input_schema"]["type"], "object", "{t}");
    }
    // The lock DEFINE_SPINLOCK made, where the macro is invoked.
    let defs = answer(&report, 0);
    assert_eq!(defs["definitions"][0]["at"], "fs/dcache.c:7:24");
    assert_eq!(defs["definitions"][0]["macro"], "DEFINE_SPINLOCK");
    let callers = answer(&report, 1);
    let mut sites: Vec<String> = callers["callers"]
        .as_array()
        .expect("callers")
        .iter()
        .map(|r| format!("{} {}", r["caller"], r["at"]))
        .collect();
    sites.sort();
    assert_eq!(
        sites,
        [
            "\"broken_ok\" \"broken/broken.c:7:9\"",
            "\"demo_init\" \"drivers/demo/demo.c:14:2\"",
            "\"ksys_read\" \"fs/read_write.c:20:9\"",
        ]
    );
    // The call through the ops table, and what can be behind it.
    let callees = answer(&report, 2);
    let through: Vec<&Value> = callees["callees"]
        .as_array()
        .expect("callees")
        .iter()
        .filter(|c| c["indirect"] == true)
        .collect();
    assert_eq!(through.len(), 1, "{callees}");
    assert_eq!(through[0]["callee"], "file_operations::read");
    assert_eq!(through[0]["at"], "fs/read_write.c:12:9");
    assert_eq!(through[0]["targets"][0]["name"], "ramfs_read");
    let ramfs = answer(&report, 3);
    assert_eq!(column(ramfs, "callers", "caller"), ["vfs_read"]);
    assert_eq!(ramfs["callers"][0]["via"], "file_operations::read");
    // Three calls up: the system call's functions, at their depths.
    let deep = answer(&report, 4);
    let at_depth = |name: &str| {
        deep["callers"]
            .as_array()
            .expect("callers")
            .iter()
            .find(|r| r["caller"] == name)
            .map(|r| r["depth"].clone())
    };
    assert_eq!(at_depth("ksys_read"), Some(json!(1)), "{deep}");
    assert_eq!(at_depth("__do_sys_read"), Some(json!(2)), "{deep}");
    assert_eq!(at_depth("__se_sys_read"), Some(json!(3)), "{deep}");
    let paths = answer(&report, 5);
    let steps: Vec<String> = paths["paths"][0]
        .as_array()
        .expect("a path")
        .iter()
        .map(|s| format!("{} {}", s["callee"], s["at"]))
        .collect();
    assert_eq!(
        steps,
        [
            "\"__do_sys_read\" \"fs/read_write.c:23:1\"",
            "\"ksys_read\" \"fs/read_write.c:25:9\"",
            "\"vfs_read\" \"fs/read_write.c:20:9\"",
            "\"ramfs_read\" \"fs/read_write.c:12:9\"",
        ]
    );
    assert_eq!(paths["paths"][0][3]["via"], "file_operations::read");
    let stores = answer(&report, 6);
    assert_eq!(stores["stores"][0]["value"], "ramfs_read");
    assert_eq!(stores["stores"][0]["within"], "ramfs_file_operations");
    assert_eq!(stores["stores"][0]["at"], "fs/ramfs/file.c:18:10");
    let uses = answer(&report, 7);
    let mut users = column(uses, "uses", "function");
    users.sort();
    assert_eq!(users, ["copy_process", "init", "mmput"]);
    // Every reference, with the function it is in: stored, and compared.
    let refs = answer(&report, 8);
    let kinds: Vec<String> = refs["references"]
        .as_array()
        .expect("references")
        .iter()
        .map(|r| format!("{} {} {}", r["within"], r["kind"], r["at"]))
        .collect();
    assert!(
        kinds.contains(&"\"is_barrier\" \"addr\" \"kernel/workqueue.c:96:23\"".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"\"insert_barrier\" \"stored\" \"kernel/workqueue.c:21:18\"".to_owned()),
        "{kinds:?}"
    );
    let found = answer(&report, 9);
    assert_eq!(
        column(found, "symbols", "name")[..2],
        ["spin_lock", "spin_unlock"]
    );
    assert_eq!(found["symbols"][0]["at"], "include/linux/spinlock.h:11:20");
    let source = answer(&report, 10);
    let lines: Vec<String> = source["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| format!("{}: {}", l["line"], l["text"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        lines,
        [
            "6: ",
            "7: ssize_t vfs_read(struct file *file, char *buf, size_t count)",
            "8: {"
        ]
    );
    // Bounded: 3 of the 4 rows, and how many more there are.
    let cut = answer(&report, 11);
    assert_eq!(cut["callers"].as_array().map(Vec::len), Some(3), "{cut}");
    assert_eq!(cut["left_out"], 1, "{cut}");
    // The limit is the whole answer's, over every symbol the name means.
    let both = answer(&report, 12);
    assert_eq!(both["callers"].as_array().map(Vec::len), Some(1), "{both}");
    assert_eq!(both["left_out"], 1, "{both}");
    // A macro is never called: the answer says why, and what it expands to.
    let why = answer(&report, 13)["why_empty"][0].as_str().unwrap_or("");
    assert!(
        why.contains("is a macro") && why.contains("prepare_to_wait"),
        "{why}"
    );
    // A place as the answers give it names its file.
    let one = answer(&report, 14);
    assert_eq!(one["lines"][0]["line"], 7, "{one}");
}

#[test]
fn bad_calls_get_errors_and_the_server_goes_on() {
    let report = session(
        &built().db,
        &[
            ("definitions", json!({"name": "vfs_raed"})),
            ("no_such_tool", json!({})),
            ("callers", json!({"nmae": "vfs_read"})),
            ("callers", json!({"name": 7})),
            ("callers", json!({"name": "vfs_read", "limit": 0})),
            ("source", json!({"file": "/etc/passwd", "line": 1})),
            ("source", json!({"file": "fs/read_write.c", "line": 100000})),
            (
                "call_paths",
                json!({"from": "ramfs_read", "to": "vfs_read"}),
            ),
            ("definitions", json!({"name": "vfs_read"})),
            ("definitions", json!({"name": "debug_fork_dump"})),
        ],
    );
    let calls = report["calls"].as_array().expect("calls");
    // A name this configuration compiled out: where it would be.
    let out = &calls[9];
    assert_eq!(out["is_error"], true, "{out}");
    assert_eq!(
        out["structured"]["compiled_out"],
        json!([{"at": "kernel/fork.c:35", "inside": "#ifdef CONFIG_DEBUG_FORK", "directive_at": "kernel/fork.c:33"}]),
        "{out}"
    );
    // An unknown name: a tool error the agent can act on, with close matches.
    assert_eq!(calls[0]["is_error"], true, "{}", calls[0]);
    assert_eq!(calls[0]["structured"]["close_matches"], json!(["vfs_read"]));
    // Malformed calls: protocol errors.
    for c in &calls[1..5] {
        assert_eq!(c["protocol_error"], -32602, "{c}");
    }
    assert!(
        calls[2]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nmae")),
        "{}",
        calls[2]
    );
    // A file the build never read is not served; a line past the end says so.
    for c in &calls[5..8] {
        assert_eq!(c["is_error"], true, "{c}");
        assert!(c["structured"]["error"].is_string(), "{c}");
    }
    assert!(
        calls[7]["structured"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("no recorded chain of calls")),
        "{}",
        calls[7]
    );
    // And it still answers.
    assert_eq!(
        answer(&report, 8)["definitions"][0]["at"],
        "fs/read_write.c:7:9"
    );
}

/// `nccnav mcp` on a kernel's database (`src` its source tree), every tool once:
/// `vfs_read`'s definition, its caller `ksys_read`, its call through
/// `file_operations::read`, the path to it from `ksys_read`, `wq_barrier_func`'s
/// store into `work_struct::func` in `insert_wq_barrier`, the search for it,
/// `generic_file_read_iter` stored into `file_operations::read_iter` by an ops table,
/// a read of `jiffies`, and the source line of `vfs_read`. What did not hold, one line
/// each.
pub(crate) fn check_kernel(db: &Path, src: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(src.join("fs/read_write.c")).unwrap_or_default();
    let Some(def_line) = text
        .lines()
        .position(|l| l.starts_with("ssize_t vfs_read(struct file *file"))
    else {
        return vec!["mcp: vfs_read's definition not found in fs/read_write.c".to_owned()];
    };
    let report = session(
        db,
        &[
            ("definitions", json!({"name": "vfs_read"})),
            ("callers", json!({"name": "vfs_read"})),
            ("callees", json!({"name": "vfs_read"})),
            ("call_paths", json!({"from": "ksys_read", "to": "vfs_read"})),
            ("references", json!({"name": "wq_barrier_func"})),
            ("search_symbols", json!({"query": "vfs_read"})),
            (
                "stores",
                json!({"name": "file_operations::read_iter", "limit": 1000}),
            ),
            ("uses", json!({"name": "jiffies", "limit": 20})),
            (
                "source",
                json!({"file": "fs/read_write.c", "line": def_line + 1, "context": 0}),
            ),
        ],
    );
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: &str, i: usize| {
        if !ok {
            failures.push(format!("mcp: {what}: {}", report["calls"][i]));
        }
    };
    let calls = &report["calls"];
    let def = calls[0]["structured"]["definitions"][0]["at"]
        .as_str()
        .unwrap_or("");
    check(
        def.starts_with("fs/read_write.c:"),
        "vfs_read defined in fs/read_write.c",
        0,
    );
    check(
        column(&calls[1]["structured"], "callers", "caller").contains(&"ksys_read".to_owned()),
        "ksys_read calls vfs_read",
        1,
    );
    check(
        column(&calls[2]["structured"], "callees", "callee")
            .contains(&"file_operations::read".to_owned()),
        "vfs_read calls through file_operations::read",
        2,
    );
    check(
        calls[3]["structured"]["paths"][0][0]["callee"] == "vfs_read",
        "ksys_read -> vfs_read in one call",
        3,
    );
    let stored = calls[4]["structured"]["references"]
        .as_array()
        .is_some_and(|rows| {
            rows.iter().any(|r| {
                r["kind"] == "stored"
                    && r["other"] == "work_struct::func"
                    && r["within"] == "insert_wq_barrier"
            })
        });
    check(
        stored,
        "wq_barrier_func stored into work_struct::func in insert_wq_barrier",
        4,
    );
    check(
        column(&calls[5]["structured"], "symbols", "name").first() == Some(&"vfs_read".to_owned()),
        "the search for vfs_read ranks it first",
        5,
    );
    let stored = calls[6]["structured"]["stores"]
        .as_array()
        .is_some_and(|rows| {
            rows.iter()
                .any(|r| r["value"] == "generic_file_read_iter" && r["within"].is_string())
        });
    check(
        stored,
        "generic_file_read_iter stored into file_operations::read_iter by an ops table",
        6,
    );
    check(
        column(&calls[7]["structured"], "uses", "access").contains(&"read".to_owned()),
        "jiffies read",
        7,
    );
    check(
        calls[8]["structured"]["lines"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("ssize_t vfs_read(")),
        "the source line of vfs_read",
        8,
    );
    failures
}

#[test]
fn a_database_not_there_yet_is_an_error_at_each_call_and_the_server_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = session(
        &dir.path().join("build/vmlinux.db"),
        &[
            ("definitions", json!({"name": "vfs_read"})),
            ("callers", json!({"name": "vfs_read"})),
        ],
    );
    assert_eq!(report["tools"].as_array().map(Vec::len), Some(9));
    for c in report["calls"].as_array().expect("calls") {
        assert_eq!(c["is_error"], true, "{c}");
        let error = c["structured"]["error"].as_str().unwrap_or("");
        assert!(error.starts_with("no database to answer from"), "{error}");
    }
}

/// Messages no SDK client sends, written by hand: answered with the protocol's
/// errors, and the server answers the next call.
#[test]
fn malformed_messages_get_protocol_errors() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let mut child = Command::new(bin("nccnav"))
        .arg("mcp")
        .arg(&built().db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("nccnav mcp starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "definitions", "arguments": [1]}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method", "params": {}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
               "params": {"name": "definitions", "arguments": {"name": "vfs_read"}}}),
    ];
    for l in &lines {
        writeln!(stdin, "{l}").expect("write");
    }
    stdin.flush().expect("flush");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut replies = Vec::new();
    while replies.len() < 4 {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read") == 0 {
            break;
        }
        replies.push(serde_json::from_str::<Value>(&line).expect("a JSON line"));
    }
    drop(stdin);
    let _ = child.wait();
    let by_id = |id: i64| {
        replies
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_id(2)["error"]["code"], -32602, "{replies:?}");
    assert_eq!(by_id(3)["error"]["code"], -32601, "{replies:?}");
    assert_eq!(
        by_id(4)["result"]["structuredContent"]["definitions"][0]["at"],
        "fs/read_write.c:7:9",
        "{replies:?}"
    );
}
