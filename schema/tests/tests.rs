#![allow(clippy::unwrap_used)]
//! The database on its own: migrations, refusal of foreign files, the ownership rules
//! of `write_tu`, and the query plans of the hot queries.

use schema::*;

fn file(path: &str) -> NewFile {
    NewFile::new(Root::Src, path)
}

fn sym(usr: &str, name: &str, kind: Kind) -> NewSymbol {
    NewSymbol {
        usr: usr.into(),
        name: name.into(),
        scope: None,
        kind,
        linkage: Linkage::External,
    }
}

fn tu(object: &str) -> TuRecord {
    TuRecord {
        object: object.into(),
        source: None,
        directory: "/b".into(),
        command: vec!["gcc".into(), "-c".into()],
        module: false,
        modname: None,
        status: TuStatus::Ok,
        reason: None,
        facts: None,
    }
}

/// A unit `main` that defines `f` calling the header inline `h`; in `inc.h`, `h`
/// calls `g` at line `g_line` (what the header reads like in this unit).
fn unit(main: &str, f: &str, g_line: u32) -> TuFacts {
    TuFacts {
        main_file: Some(FileIx(0)),
        files: vec![file(main), file("inc.h")],
        symbols: vec![
            sym(&format!("c:@F@{f}"), f, Kind::Function),
            sym("c:inc.h@F@h", "h", Kind::Function),
            sym("c:@F@g", "g", Kind::Function),
        ],
        definitions: vec![
            NewDefinition {
                symbol: SymbolIx(0),
                file: FileIx(0),
                line: 1,
                col: 6,
                macro_name: None,
                definition: true,
                owner: FileIx(0),
            },
            NewDefinition {
                symbol: SymbolIx(1),
                file: FileIx(1),
                line: 2,
                col: 20,
                macro_name: None,
                definition: true,
                owner: FileIx(1),
            },
        ],
        calls: vec![
            NewCall {
                caller: SymbolIx(0),
                callee: SymbolIx(1),
                file: FileIx(0),
                line: 2,
                col: 2,
                indirect: false,
                macro_name: None,
                owner: FileIx(0),
                dead: false,
                alias: false,
                weak: false,
            },
            NewCall {
                caller: SymbolIx(1),
                callee: SymbolIx(2),
                file: FileIx(1),
                line: g_line,
                col: 2,
                indirect: false,
                macro_name: None,
                owner: FileIx(1),
                dead: false,
                alias: false,
                weak: false,
            },
        ],
        ..TuFacts::default()
    }
}

fn calls_to(db: &Db, name: &str) -> usize {
    db.symbols_named(name)
        .unwrap()
        .iter()
        .map(|s| db.callers(s.id).unwrap().len())
        .sum()
}

fn g_sites(db: &Db) -> Vec<u32> {
    let g = &db.symbols_named("g").unwrap()[0];
    db.callers(g.id)
        .unwrap()
        .iter()
        .map(|c| c.site.line)
        .collect()
}

#[test]
fn the_database_holds_exactly_what_its_units_saw() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open_writer(&dir.path().join("t.db")).unwrap();
    let s1 = db.write_tu(&tu("/b/a.o"), &unit("a.c", "fa", 3)).unwrap();
    let s2 = db.write_tu(&tu("/b/b.o"), &unit("b.c", "fb", 3)).unwrap();
    assert_eq!((s1.files_recorded, s1.files_skipped), (2, 0));
    assert_eq!(
        (s2.files_recorded, s2.files_skipped),
        (1, 1),
        "the header's facts are shared"
    );
    assert_eq!(g_sites(&db), vec![3], "the inline's call is recorded once");
    assert_eq!(calls_to(&db, "h"), 2, "called from both units");

    // A unit where the header reads differently (another configuration, a #define
    // before the #include) adds its own version of the header's facts.
    db.write_tu(&tu("/b/m.o"), &unit("m.c", "fm", 4)).unwrap();
    assert_eq!(g_sites(&db), vec![3, 4]);
    // Rebuilt the same way as the others, its version goes away.
    let s = db.write_tu(&tu("/b/m.o"), &unit("m.c", "fm", 3)).unwrap();
    assert_eq!(
        s.chunks_dropped, 1,
        "m.c's own version of inc.h (m.c itself reads the same)"
    );
    assert_eq!(g_sites(&db), vec![3]);

    // The header changes: until every unit is rebuilt, both versions are there.
    db.write_tu(&tu("/b/a.o"), &unit("a.c", "fa", 5)).unwrap();
    assert_eq!(g_sites(&db), vec![3, 5]);
    db.write_tu(&tu("/b/b.o"), &unit("b.c", "fb", 5)).unwrap();
    db.write_tu(&tu("/b/m.o"), &unit("m.c", "fm", 5)).unwrap();
    assert_eq!(g_sites(&db), vec![5]);

    // Rewriting a unit replaces its main file's facts.
    let mut fewer = unit("a.c", "fa", 5);
    fewer.calls.remove(0);
    db.write_tu(&tu("/b/a.o"), &fewer).unwrap();
    assert_eq!(
        calls_to(&db, "h"),
        2,
        "b.c and m.c call h, a.c no longer does"
    );
    assert_eq!(db.tus().unwrap().len(), 3);
}

/// `unit` that also declares `g` (a unit's declarations of what it calls belong to its
/// main file).
fn declaring(main: &str, f: &str) -> TuFacts {
    let mut u = unit(main, f, 3);
    u.definitions.push(NewDefinition {
        symbol: SymbolIx(2),
        file: FileIx(1),
        line: 1,
        col: 5,
        macro_name: None,
        definition: false,
        owner: FileIx(0),
    });
    u
}

#[test]
fn a_declaration_several_units_hold_is_one_row_until_no_unit_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open_writer(&dir.path().join("t.db")).unwrap();
    let a = db.write_tu(&tu("/b/a.o"), &declaring("a.c", "fa")).unwrap();
    assert_eq!(a.definitions, 3, "fa, h and g's declaration");
    let b = db.write_tu(&tu("/b/b.o"), &declaring("b.c", "fb")).unwrap();
    assert_eq!(b.definitions, 1, "fb: g's declaration is recorded already");
    let g = db.symbols_named("g").unwrap()[0].id;
    let decls = db.definitions(g).unwrap();
    assert!(decls.len() == 1 && !decls[0].definition, "{decls:?}");

    // a.c no longer declares g; b.c still does.
    db.write_tu(&tu("/b/a.o"), &unit("a.c", "fa", 3)).unwrap();
    assert_eq!(db.definitions(g).unwrap(), decls);
    db.write_tu(&tu("/b/b.o"), &unit("b.c", "fb", 3)).unwrap();
    assert_eq!(
        db.definitions(g).unwrap(),
        vec![],
        "no unit declares g any more"
    );

    // Each unit's own definition is still found, and in the unit compiled from it.
    for f in ["fa", "fb"] {
        let s = db.symbols_named(f).unwrap()[0].id;
        let defs = db.definitions(s).unwrap();
        assert_eq!(defs.len(), 1, "{f}");
        assert!(db.defined_in(&defs[0]).unwrap().modules.is_empty());
    }
}

/// `unit` whose header inline `h` reads the global `v` (in `inc.h`, line 2), which
/// `inc.h` declares.
fn using(main: &str, f: &str, g_line: u32) -> TuFacts {
    let mut u = unit(main, f, g_line);
    u.symbols.push(sym("c:@v", "v", Kind::Variable));
    u.definitions.push(NewDefinition {
        symbol: SymbolIx(3),
        file: FileIx(1),
        line: 1,
        col: 12,
        macro_name: None,
        definition: false,
        owner: FileIx(0),
    });
    u.uses.push(NewUse {
        symbol: SymbolIx(3),
        function: SymbolIx(1),
        access: Access::Read,
        file: FileIx(1),
        line: 2,
        col: 30,
        macro_name: None,
        owner: FileIx(1),
    });
    u
}

#[test]
fn a_use_several_versions_of_a_header_hold_is_one_answer_until_none_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open_writer(&dir.path().join("t.db")).unwrap();
    let a = db.write_tu(&tu("/b/a.o"), &using("a.c", "fa", 3)).unwrap();
    assert_eq!(a.uses, 1);
    // m.c reads inc.h differently (h calls g at line 4): a second chunk of inc.h, which
    // holds the same use.
    let m = db.write_tu(&tu("/b/m.o"), &using("m.c", "fm", 4)).unwrap();
    assert_eq!(
        (m.files_recorded, m.uses),
        (2, 1),
        "a row for m.c's version of inc.h"
    );
    let v = db.symbols_named("v").unwrap()[0].id;
    let v_uses = |db: &Db| db.uses_of(v).unwrap().len();
    assert_eq!(v_uses(&db), 1, "one answer");
    let inc = db
        .files()
        .unwrap()
        .into_iter()
        .find(|f| f.path == "inc.h")
        .unwrap()
        .id;
    assert!(db.named_in_file(inc).unwrap().contains(&(2, 30, v)));

    // Either chunk going leaves the use to the other.
    db.write_tu(&tu("/b/a.o"), &unit("a.c", "fa", 3)).unwrap();
    assert_eq!(v_uses(&db), 1, "m.c's version of inc.h still holds it");
    db.write_tu(&tu("/b/m.o"), &unit("m.c", "fm", 3)).unwrap();
    assert_eq!(v_uses(&db), 0, "no version of inc.h holds it any more");
    assert!(!db.named_in_file(inc).unwrap().contains(&(2, 30, v)));
}

#[test]
fn a_failure_record_keeps_earlier_facts() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open_writer(&dir.path().join("t.db")).unwrap();
    db.write_tu(&tu("/b/a.o"), &unit("a.c", "fa", 3)).unwrap();
    let mut failed = tu("/b/a.o");
    failed.status = TuStatus::Failed;
    failed.reason = Some("indexer timed out".into());
    db.write_tu_record(&failed).unwrap();
    let tus = db.tus().unwrap();
    assert_eq!(tus.len(), 1);
    assert_eq!(tus[0].status, TuStatus::Failed);
    assert_eq!(tus[0].reason.as_deref(), Some("indexer timed out"));
    assert_eq!(calls_to(&db, "h"), 1);
}

#[test]
fn foreign_and_newer_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    assert!(matches!(
        Db::open_readonly(&text),
        Err(Error::NotADatabase(_))
    ));
    assert!(matches!(
        Db::open_writer(&text),
        Err(Error::NotADatabase(_))
    ));
    assert_eq!(std::fs::read(&text).unwrap(), b"hello\n");

    // Some other application's SQLite database.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    assert!(matches!(
        Db::open_readonly(&other),
        Err(Error::NotADatabase(_))
    ));
    assert!(matches!(
        Db::open_writer(&other),
        Err(Error::NotADatabase(_))
    ));

    // One written by a newer nccrs.
    let newer = dir.path().join("newer.db");
    drop(Db::open_writer(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    match Db::open_readonly(&newer) {
        Err(e @ Error::TooNew { .. }) => assert!(e.to_string().contains("newer nccrs"), "{e}"),
        other => panic!("opened a newer database: {:?}", other.err()),
    }
    assert!(matches!(Db::open_writer(&newer), Err(Error::TooNew { .. })));
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    assert!(matches!(
        Db::open_readonly(&dir.path().join("none.db")),
        Err(Error::Missing(_))
    ));
}

#[test]
fn hot_queries_use_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_writer(&dir.path().join("t.db")).unwrap();
    let mut bad = Vec::new();
    for (q, plan) in db.hot_query_plans().unwrap() {
        if plan.contains("SCAN") || !plan.contains("USING") {
            bad.push(format!("{q}\n    {plan}"));
        }
    }
    assert!(
        bad.is_empty(),
        "queries without an index:\n{}",
        bad.join("\n")
    );
}

#[test]
fn a_unit_recorded_with_the_same_facts_is_not_written_again_and_compacting_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut db = Db::open_writer(&path).unwrap();
    let named = |facts: &str| TuRecord {
        source: Some(file("a.c")),
        facts: Some(facts.into()),
        ..tu("/b/a.o")
    };
    assert!(!db.is_recorded(&named("k1")).unwrap());
    let first = db.write_tu(&named("k1"), &unit("a.c", "fa", 3)).unwrap();
    assert!(!first.unchanged);
    assert!(db.is_recorded(&named("k1")).unwrap());
    // The same record under the same name: nothing written, whatever facts are given.
    let again = db.write_tu(&named("k1"), &TuFacts::default()).unwrap();
    assert!(again.unchanged);
    assert_eq!(g_sites(&db), vec![3]);
    // Another name, or another record (a changed command), is written.
    assert!(!db.is_recorded(&named("k2")).unwrap());
    let other = TuRecord {
        command: vec!["gcc".into(), "-O2".into()],
        ..named("k1")
    };
    assert!(!db.is_recorded(&other).unwrap());
    assert!(
        !db.is_recorded(&tu("/b/a.o")).unwrap(),
        "no name, no promise"
    );
    db.write_tu(&named("k2"), &unit("a.c", "fa", 4)).unwrap();
    assert_eq!(g_sites(&db), vec![4]);

    for i in 0..200 {
        db.write_tu(
            &tu(&format!("/b/x{i}.o")),
            &unit(&format!("x{i}.c"), &format!("f{i}"), 4),
        )
        .unwrap();
    }
    let before = db.unit_count().unwrap();
    db.compact().unwrap();
    assert_eq!(db.unit_count().unwrap(), before);
    assert_eq!(calls_to(&db, "h"), 201);
    assert_eq!(g_sites(&db), vec![4]);
}
