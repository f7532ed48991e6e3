//! nccnav's command line on its own (queries on real builds are in tests/).

use std::process::Command;

fn nccnav(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nccnav"))
        .args(args)
        .output()
        .expect("nccnav runs")
}

#[test]
fn help_lists_the_commands() {
    let out = nccnav(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "def SYMBOL",
        "callers SYMBOL",
        "callees SYMBOL",
        "dump",
        "FILE:NAME",
        "Exit status",
    ] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("none.db");
    let db = db.to_str().expect("utf-8 path");
    for args in [vec![], vec![db, "def"], vec![db, "frobnicate", "x"]] {
        let out = nccnav(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says nothing");
    }
}

#[test]
fn an_empty_file_is_not_a_database_and_stays_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").expect("write");
    let out = nccnav(&[db.to_str().expect("utf-8"), "def", "x"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an nccrs database"),
        "{out:?}"
    );
    assert_eq!(std::fs::metadata(&db).expect("stat").len(), 0);
}
