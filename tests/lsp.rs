//! `nccnav lsp` at the protocol level, on the fixture database: a client speaking the
//! language server protocol's framing over the server's standard input and output.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nccrs_e2e::{bin, fixture, fixture_copy, make_tree};
use serde_json::{json, Value};

use crate::fixture::built;

/// A client of one `nccnav lsp`.
struct Client {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Value>,
    next: i64,
}

impl Client {
    fn start(db: &std::path::Path) -> Client {
        let mut child = Command::new(bin("nccnav"))
            .arg("lsp")
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("nccnav lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, replies) = mpsc::channel();
        // A server that hangs fails the test at the timeout instead of hanging it.
        std::thread::spawn(move || loop {
            let mut len = 0;
            loop {
                let mut line = String::new();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    len = n.parse().expect("a length");
                }
            }
            let mut body = vec![0; len];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            if tx
                .send(serde_json::from_slice(&body).expect("JSON"))
                .is_err()
            {
                return;
            }
        });
        let mut client = Client {
            child,
            stdin,
            replies,
            next: 0,
        };
        let init = client.request("initialize", json!({"processId": null, "capabilities": {}}));
        assert_eq!(
            init["result"]["capabilities"]["callHierarchyProvider"],
            json!(true)
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    /// A message whose body is `body`, as given.
    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The whole response to a request: `result` or `error`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let reply = self
                .replies
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            if reply["id"] == json!(id) {
                return reply;
            }
        }
    }

    fn stop(mut self) {
        let reply = self.request("shutdown", Value::Null);
        assert!(reply.get("error").is_none(), "{reply}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{status}");
    }
}

fn uri(rel: &str) -> String {
    let path = std::fs::canonicalize(fixture("minikernel").join(rel)).expect("fixture file");
    format!("file://{}", path.display())
}

fn at(rel: &str, line: u32, character: u32) -> Value {
    at_uri(&uri(rel), line, character)
}

fn at_uri(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

/// The `path:line` of each location (lines from 1), sorted.
fn places(locations: &Value) -> Vec<String> {
    places_below(locations, "minikernel/")
}

/// The `path:line` of each location (lines from 1, the path after `below`), sorted.
fn places_below(locations: &Value, below: &str) -> Vec<String> {
    let mut v: Vec<String> = locations
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|l| {
            let uri = l["uri"].as_str().expect("uri");
            let rel = uri.rsplit_once(below).map_or(uri, |(_, r)| r);
            format!(
                "{rel}:{}",
                l["range"]["start"]["line"].as_u64().expect("line") + 1
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn lsp_answers_definition_references_hover_and_calls() {
    let mut c = Client::start(&built().db);
    // `vfs_read` in `return vfs_read(f, buf, count);` (line 20).
    let call = at("fs/read_write.c", 19, 10);
    let def = c.request("textDocument/definition", call.clone());
    assert_eq!(places(&def["result"]), ["fs/read_write.c:7"]);

    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": call["textDocument"], "position": call["position"],
               "context": {"includeDeclaration": false}}),
    );
    let refs = places(&refs["result"]);
    assert!(refs.contains(&"fs/read_write.c:20".to_owned()), "{refs:?}");

    let hover = c.request("textDocument/hover", call.clone());
    let text = hover["result"]["contents"]["value"]
        .as_str()
        .expect("hover text");
    assert!(text.contains("external function"), "{text}");
    assert!(text.contains("fs/read_write.c:7:"), "{text}");

    // Who calls ramfs_read: vfs_read, through the ops table's member.
    let items = c.request("textDocument/prepareCallHierarchy", call.clone());
    let vfs_read = items["result"][0].clone();
    assert_eq!(vfs_read["name"], "vfs_read");
    let out = c.request("callHierarchy/outgoingCalls", json!({"item": vfs_read}));
    let through: Vec<&Value> = out["result"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["to"]["name"] == "file_operations::read")
        .collect();
    assert_eq!(through.len(), 1, "{out}");
    let into = c.request("callHierarchy/incomingCalls", json!({"item": vfs_read}));
    let callers: Vec<&str> = into["result"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["from"]["name"].as_str().expect("name"))
        .collect();
    assert!(callers.contains(&"ksys_read"), "{callers:?}");

    // A position means what the build recorded there: `init()` in fs/dcache.c is that
    // file's static, not kernel/fork.c's; `read` in `file->f_op->read(...)` is the
    // member.
    let init = c.request("textDocument/definition", at("fs/dcache.c", 26, 3));
    assert_eq!(places(&init["result"]), ["fs/dcache.c:11"]);
    let member = c.request("textDocument/definition", at("fs/read_write.c", 11, 22));
    assert_eq!(places(&member["result"]), ["include/linux/fs.h:6"]);
    let hover = c.request("textDocument/hover", at("fs/read_write.c", 11, 22));
    let text = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(text.starts_with("`file_operations::read`"), "{text}");
    // Where nothing is recorded (here, lines the editor added), the name as C sees it:
    // this file's static `init`, not kernel/fork.c's; after `->`, the member; nothing
    // in a comment.
    let text = std::fs::read_to_string(fixture("minikernel").join("fs/dcache.c")).expect("source")
        + "\tinit();\n\tx->read;\n\t/* init */\n";
    let lines = text.lines().count() as u32;
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri("fs/dcache.c"), "languageId": "c",
               "version": 1, "text": text}}),
    );
    let def_at = |c: &mut Client, line, character| {
        let d = c.request(
            "textDocument/definition",
            at("fs/dcache.c", line, character),
        );
        places(&d["result"])
    };
    assert_eq!(def_at(&mut c, lines - 3, 2), ["fs/dcache.c:11"]);
    assert_eq!(def_at(&mut c, lines - 2, 5), ["include/linux/fs.h:6"]);
    assert!(def_at(&mut c, lines - 1, 5).is_empty());

    let symbols = c.request("workspace/symbol", json!({"query": "ramfs_rea"}));
    assert_eq!(symbols["result"][0]["name"], "ramfs_read", "{symbols}");

    // What it cannot answer, it says, and goes on.
    let odd = c.request("textDocument/rename", json!({}));
    assert_eq!(odd["error"]["code"], -32601);
    let bad = c.request("textDocument/definition", json!({"nonsense": 1}));
    assert_eq!(bad["error"]["code"], -32602);
    let nowhere = c.request("textDocument/definition", at("fs/read_write.c", 999, 0));
    assert_eq!(nowhere["result"], json!([]));
    c.stop();
}

#[test]
fn hover_says_when_a_file_was_edited_since_the_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixture_copy(dir.path());
    let obj = dir.path().join("build");
    let out = make_tree(&src, &obj, &bin("nccrs"), &[], &["all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = obj.join("vmlinux.db");
    let file = |rel: &str| {
        let path = std::fs::canonicalize(src.join(rel)).expect("file");
        format!("file://{}", path.display())
    };
    let hover_text = |c: &mut Client, rel: &str, line, character| {
        let h = c.request("textDocument/hover", at_uri(&file(rel), line, character));
        h["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let mut c = Client::start(&db);
    // As built: nothing to say.
    let text = hover_text(&mut c, "fs/read_write.c", 19, 10);
    assert!(text.starts_with("`vfs_read`"), "{text}");
    // Opened with other text in the editor: unsaved changes.
    let edited = std::fs::read_to_string(src.join("fs/read_write.c")).expect("source") + "\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": file("fs/read_write.c"), "languageId": "c",
               "version": 1, "text": edited}}),
    );
    let text = hover_text(&mut c, "fs/read_write.c", 19, 10);
    assert!(text.contains("unsaved changes"), "{text}");
    // Touched since the build, the same content: nothing to say.
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    let touch = |rel: &str| {
        std::fs::File::options()
            .append(true)
            .open(src.join(rel))
            .and_then(|f| f.set_modified(later))
            .expect("set the modification time");
    };
    touch("kernel/fork.c");
    let text = hover_text(&mut c, "kernel/fork.c", 20, 3);
    assert!(text.starts_with("`spin_lock`"), "{text}");
    // Edited since the build.
    let dcache = src.join("fs/dcache.c");
    let edited = std::fs::read_to_string(&dcache).expect("source") + "/* edited */\n";
    std::fs::write(&dcache, edited).expect("edit");
    touch("fs/dcache.c");
    let text = hover_text(&mut c, "fs/dcache.c", 26, 3);
    assert!(text.contains("modified after the build"), "{text}");
    assert!(text.contains("`init"), "{text}");
    c.stop();
}

#[test]
fn a_database_not_there_yet_fails_each_request_until_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("vmlinux.db");
    let mut c = Client::start(&db);
    let def = c.request("textDocument/definition", at("fs/read_write.c", 19, 10));
    assert_eq!(def["error"]["code"], -32803, "{def}");
    let why = def["error"]["message"].as_str().unwrap_or("");
    assert!(why.starts_with("no database to answer from"), "{why}");
    // The build writes it: the next request is answered.
    let conn = rusqlite::Connection::open(&built().db).expect("open");
    conn.execute("VACUUM INTO ?1", [db.to_str().expect("path")])
        .expect("copy the database");
    let def = c.request("textDocument/definition", at("fs/read_write.c", 19, 10));
    assert_eq!(places(&def["result"]), ["fs/read_write.c:7"], "{def}");
    c.stop();
}

#[test]
fn a_message_that_is_not_json_gets_a_parse_error_and_the_server_goes_on() {
    let mut c = Client::start(&built().db);
    c.send_raw("this is not JSON");
    let error = c
        .replies
        .recv_timeout(Duration::from_secs(30))
        .expect("an answer");
    assert_eq!(error["error"]["code"], -32700, "{error}");
    assert_eq!(error["id"], Value::Null, "{error}");
    let def = c.request("textDocument/definition", at("fs/read_write.c", 19, 10));
    assert_eq!(places(&def["result"]), ["fs/read_write.c:7"]);
    c.stop();
}

/// Neovim (Debian 12's 0.7) as the client: `tests/nvim/lsp.lua` asks at `line`,
/// `col` (from 0) of `src` for the definition, the references, and the incoming and
/// outgoing calls; its four answers.
fn neovim(db: &std::path::Path, src: &std::path::Path, line: usize, col: usize) -> Vec<Value> {
    let nvim = Command::new("nvim").arg("--version").output();
    assert!(
        nvim.is_ok_and(|o| o.status.success()),
        "Neovim is needed for this test: apt-get install neovim (.ci/install-deps does)"
    );
    let script = nccrs_e2e::root().join("tests/nvim/lsp.lua");
    let out = Command::new("timeout")
        .args([
            "120",
            "nvim",
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
        ])
        .arg(format!("luafile {}", script.display()))
        .env("NCCNAV", bin("nccnav"))
        .env("DB", db)
        .env("SRC", src)
        .env("LINE", line.to_string())
        .env("COL", col.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("nvim runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nvim: {:?}: {stderr}", out.status);
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(answers.len(), 4, "{answers:?}");
    answers
}

/// The names of the functions of call hierarchy answers (`side`: `from` or `to`).
fn names_of(calls: &Value, side: &str) -> Vec<String> {
    calls
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|c| c[side]["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn neovim_finds_definition_references_and_calls() {
    let src = fixture("minikernel").join("fs/read_write.c");
    let answers = neovim(&built().db, &src, 19, 10);
    assert_eq!(places(&answers[0]["definition"]), ["fs/read_write.c:7"]);
    let refs = places(&answers[1]["references"]);
    assert!(refs.contains(&"fs/read_write.c:20".to_owned()), "{refs:?}");
    let callers = names_of(&answers[2]["incoming"], "from");
    assert!(callers.iter().any(|n| n == "ksys_read"), "{callers:?}");
    let callees = names_of(&answers[3]["outgoing"], "to");
    assert!(
        callees.iter().any(|n| n == "file_operations::read"),
        "{callees:?}"
    );
}

/// `nccnav lsp` on a kernel's database (`src` its source tree), as a protocol client
/// and through Neovim: `vfs_read` at its call in `ksys_read`, its definition, its
/// caller, and its call through `file_operations::read`. What did not hold, one line
/// each.
pub(crate) fn check_kernel(db: &std::path::Path, src: &std::path::Path) -> Vec<String> {
    let file = src.join("fs/read_write.c");
    let text = std::fs::read_to_string(&file).expect("fs/read_write.c");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle));
    let (Some(call), Some(def)) = (
        line_of("ret = vfs_read(fd_file(f), buf, count, ppos);"),
        line_of("ssize_t vfs_read(struct file *file"),
    ) else {
        return vec!["fs/read_write.c: ksys_read's call of vfs_read not found".to_owned()];
    };
    let column = text
        .lines()
        .nth(call)
        .and_then(|l| l.find("vfs_read"))
        .unwrap_or(0);
    let uri = format!(
        "file://{}",
        std::fs::canonicalize(&file).expect("path").display()
    );
    let here = at_uri(&uri, call as u32, column as u32);
    let mut failures = Vec::new();
    let mut c = Client::start(db);
    let found = places_below(
        &c.request("textDocument/definition", here.clone())["result"],
        "/",
    );
    let wanted = format!("read_write.c:{}", def + 1);
    if !found.iter().any(|p| p.ends_with(&wanted)) {
        failures.push(format!(
            "lsp definition of vfs_read: {found:?}, not {wanted}"
        ));
    }
    let items = c.request("textDocument/prepareCallHierarchy", here);
    let item = items["result"][0].clone();
    let incoming = c.request("callHierarchy/incomingCalls", json!({"item": item}));
    let outgoing = c.request("callHierarchy/outgoingCalls", json!({"item": item}));
    c.stop();
    // And through Neovim.
    let answers = neovim(db, &file, call, column);
    let found = places_below(&answers[0]["definition"], "/");
    if !found.iter().any(|p| p.ends_with(&wanted)) {
        failures.push(format!(
            "nvim: definition of vfs_read: {found:?}, not {wanted}"
        ));
    }
    for (who, into, out) in [
        ("lsp", &incoming["result"], &outgoing["result"]),
        ("nvim", &answers[2]["incoming"], &answers[3]["outgoing"]),
    ] {
        let into = names_of(into, "from");
        if !into.iter().any(|n| n == "ksys_read") {
            failures.push(format!("{who}: incoming calls of vfs_read: {into:?}"));
        }
        let out = names_of(out, "to");
        if !out.iter().any(|n| n == "file_operations::read") {
            failures.push(format!("{who}: outgoing calls of vfs_read: {out:?}"));
        }
    }
    failures
}
