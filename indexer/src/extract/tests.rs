//! The extractor, construct by construct: each test parses a few lines of C from
//! memory (libclang's unsaved files) and compares the facts, in the `expected.facts`
//! line format, with what is written inline. `UPDATE_EXPECT=1 cargo test` rewrites
//! the expectations; review the diff.
//!
//! Files are named `/t/NAME`; paths are shown relative to `/t`, taken as the source
//! tree.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;

use expect_test::{expect, Expect};
use schema::{SymbolIx, TuFacts, TuStatus};

use crate::clang::Index;
use crate::paths::PathMapper;

/// Parses `files` ((name, text); the first is the unit) and extracts its facts.
fn extract_files(files: &[(&str, &str)]) -> TuFacts {
    extract_unit(files, &[], None, &HashMap::new()).facts
}

/// Parses `files` ((name, text); the first is the unit) with `extra` arguments
/// (`NAME=VALUE`: a `-D`; anything starting with `-`: arguments as they are) and
/// extracts its facts, taking header facts from `recorded` when given; the files
/// named in `blank` are given to libclang with those bodies blanked.
fn extract_unit(
    files: &[(&str, &str)],
    extra: &[&str],
    recorded: Option<&mut Recorded>,
    blank: &HashMap<&str, Vec<(u32, u32)>>,
) -> super::Extraction {
    // clang-sys loads libclang for each thread.
    if let Err(e) = crate::clang::load() {
        panic!("libclang is needed for the extractor's tests: {e}");
    }
    let named: Vec<(String, &str)> = files
        .iter()
        .map(|(n, text)| (format!("/t/{n}"), *text))
        .collect();
    let blanks: Vec<super::blank::Blank> = files
        .iter()
        .filter_map(|(n, text)| {
            let ranges = blank.get(n)?.clone();
            Some(super::blank::Blank {
                path: format!("/t/{n}").into(),
                key: [0; 32],
                text: text.as_bytes().to_vec(),
                blanked: super::blank::blank(text.as_bytes(), &ranges)?,
                ranges,
            })
        })
        .collect();
    let unsaved: Vec<(&OsStr, &[u8])> = named
        .iter()
        .map(|(n, t)| {
            let text = blanks
                .iter()
                .find(|b| b.path == OsStr::new(n.as_str()))
                .map_or(t.as_bytes(), |b| b.blanked.as_slice());
            (OsStr::new(n.as_str()), text)
        })
        .collect();
    let args = test_args(extra);
    let index = Index::new();
    let tu = index
        .parse_with_files(OsStr::new(&named[0].0), &args, &unsaved)
        .expect("libclang parses");
    let mut paths = PathMapper::new(Path::new("/t"), Some(Path::new("/t")), None, None);
    let config = super::headers::Config::new(&args, b"test").blanking();
    // The texts as the indexer knows them: those it handed to libclang.
    let mut sources = tu.sources_with(&unsaved);
    let blanks: Vec<&super::blank::Blank> = blanks.iter().collect();
    let blanked = super::blank::restore(&mut sources, &blanks);
    let read = blanks
        .iter()
        .filter(|b| sources.files.iter().any(|f| f.name() == b.path))
        .count();
    assert_eq!(
        blanked.len(),
        read,
        "each blanked file the parse read is told"
    );
    let reuse = recorded.map(|recorded| super::Reuse {
        sources: &sources,
        config: &config,
        recorded,
        blanked: &blanked,
    });
    let x = super::extract(&tu, OsStr::new(&named[0].0), &mut paths, reuse);
    if x.unblank.is_some() {
        return x;
    }
    assert_eq!(
        x.status,
        TuStatus::Ok,
        "the test's C does not compile: {:?}",
        x.reason
    );
    x
}

/// libclang's arguments for a test unit, with `extra` ones (see [`extract_unit`]).
fn test_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-x", "c", "-std=gnu11", "-nostdinc", "-I/t", "-w"]
        .into_iter()
        .chain(super::blank::ARGS)
        .map(str::to_owned)
        .collect();
    for d in extra {
        match d.strip_prefix('-') {
            Some(_) => args.extend(d.split(' ').map(str::to_owned)),
            None => args.push(format!("-D{d}")),
        }
    }
    args
}

/// The facts as sorted lines of the `expected.facts` format (a name that several
/// symbols share is written `NAME@FILE`).
fn render(facts: &TuFacts) -> String {
    let full = |s: SymbolIx| {
        let sym = &facts[s];
        match &sym.scope {
            Some(scope) => format!("{scope}::{}", sym.name),
            None => sym.name.clone(),
        }
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    for i in 0..facts.symbols.len() {
        *count.entry(full(SymbolIx(i as u32))).or_default() += 1;
    }
    let defined_in = |s: SymbolIx| {
        facts
            .definitions
            .iter()
            .find(|d| d.symbol == s)
            .map(|d| facts[d.file].path.clone())
            .unwrap_or_default()
    };
    let name = |s: SymbolIx| {
        let n = full(s);
        if count[&n] > 1 {
            format!("{n}@{}", defined_in(s))
        } else {
            n
        }
    };
    let via = |m: &Option<String>| m.as_ref().map(|m| format!(" via {m}")).unwrap_or_default();
    let mut lines = Vec::new();
    for d in &facts.definitions {
        let s = &facts[d.symbol];
        lines.push(format!(
            "def {} {} {} at {}:{}:{}{}{}",
            s.kind,
            s.linkage,
            name(d.symbol),
            facts[d.file].path,
            d.line,
            d.col,
            via(&d.macro_name),
            if d.definition { "" } else { " declaration" }
        ));
    }
    for c in &facts.calls {
        lines.push(
            format!(
                "call {} -> {} at {}:{}:{}{}{}",
                name(c.caller),
                name(c.callee),
                facts[c.file].path,
                c.line,
                c.col,
                if c.indirect { " indirect" } else { "" },
                via(&c.macro_name)
            ) + if c.dead { " dead" } else { "" }
                + if c.alias { " alias" } else { "" }
                + if c.weak { " weak" } else { "" },
        );
    }
    for st in &facts.stores {
        let value = match facts[st.value].kind {
            schema::Kind::Function => name(st.value),
            _ => format!("copy of {}", name(st.value)),
        };
        lines.push(format!(
            "store {} <- {value} at {}:{}:{}{}",
            name(st.target),
            facts[st.file].path,
            st.line,
            st.col,
            via(&st.macro_name)
        ));
    }
    for u in &facts.uses {
        lines.push(format!(
            "use {} {} {} at {}:{}:{}{}",
            name(u.function),
            u.access,
            name(u.symbol),
            facts[u.file].path,
            u.line,
            u.col,
            via(&u.macro_name)
        ));
    }
    lines.sort();
    lines.dedup();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Checks the facts of one file of C.
fn check(c: &str, want: Expect) {
    want.assert_eq(&render(&extract_files(&[("t.c", c)])));
}

/// Checks the facts of a unit `t.c` that includes headers of its own.
fn check_files(files: &[(&str, &str)], want: Expect) {
    want.assert_eq(&render(&extract_files(files)));
}

/// Only the lines that start with `kind` (`def`, `call`, `store`, `use`).
fn check_only(kind: &str, c: &str, want: Expect) {
    let all = render(&extract_files(&[("t.c", c)]));
    let some: String = all
        .lines()
        .filter(|l| l.starts_with(kind))
        .map(|l| format!("{l}\n"))
        .collect();
    want.assert_eq(&some);
}

// ---- Definitions ----

#[test]
fn functions_and_their_linkage() {
    check(
        "static int helper(void) { return 1; }\nint api(void) { return 2; }\n",
        expect![[r#"
            def function external api at t.c:2:5
            def function internal helper at t.c:1:12
        "#]],
    );
}

#[test]
fn a_prototype_alone_defines_nothing() {
    check("int later(void);\nextern int count;\n", expect![[""]]);
}

#[test]
fn variables_defined_tentatively_and_with_initializers() {
    check(
        "int a;\nint a;\nint b = 2;\nstatic long c;\nextern int d;\n",
        expect![[r#"
            def variable external a at t.c:1:5
            def variable external b at t.c:3:5
            def variable internal c at t.c:4:13
        "#]],
    );
}

#[test]
fn types_fields_and_enumerators() {
    check_only(
        "def",
        "struct file { int flags; struct { int x; } pos; };\nunion u { int i; };\nenum e { ONE, TWO };\ntypedef struct { int v; } atomic_t;\n",
        expect![[r#"
            def enum none e at t.c:3:6
            def enumerator none ONE at t.c:3:10
            def enumerator none TWO at t.c:3:15
            def field none atomic_t::v at t.c:4:22
            def field none file::flags at t.c:1:19
            def field none file::pos at t.c:1:44
            def field none file::x at t.c:1:39
            def field none u::i at t.c:2:15
            def struct none file at t.c:1:8
            def typedef none atomic_t at t.c:4:27
            def union none u at t.c:2:7
        "#]],
    );
}

#[test]
fn macros_are_defined_where_written() {
    check_only(
        "def",
        "#define MAX 10\n#define twice(x) ((x) * 2)\n",
        expect![[r#"
            def macro none MAX at t.c:1:9
            def macro none twice at t.c:2:9
        "#]],
    );
}

#[test]
fn a_name_given_to_a_macro_is_defined_at_the_argument() {
    check_only(
        "def",
        "typedef struct { int l; } spinlock_t;\n#define DEFINE_SPINLOCK(x) spinlock_t x = { 0 }\nDEFINE_SPINLOCK(mmlist_lock);\n",
        expect![[r#"
            def field none spinlock_t::l at t.c:1:22
            def macro none DEFINE_SPINLOCK at t.c:2:9
            def typedef none spinlock_t at t.c:1:27
            def variable external mmlist_lock at t.c:3:17 via DEFINE_SPINLOCK
        "#]],
    );
}

#[test]
fn a_name_pasted_by_a_macro_is_defined_at_the_invocation() {
    check_only(
        "def",
        "#define SYSCALL_DEFINE1(name, t, a) long __do_sys_##name(t a); long __se_sys_##name(t a) { return __do_sys_##name(a); } long __do_sys_##name(t a)\nSYSCALL_DEFINE1(close, int, fd) { return fd; }\n",
        expect![[r#"
            def function external __do_sys_close at t.c:2:1 via SYSCALL_DEFINE1
            def function external __se_sys_close at t.c:2:1 via SYSCALL_DEFINE1
            def macro none SYSCALL_DEFINE1 at t.c:1:9
        "#]],
    );
}

#[test]
fn the_macro_named_is_the_innermost_written_one() {
    check_only(
        "call",
        "int check(int);\n#define unlikely(x) (x)\n#define access_ok(p) unlikely(check(p))\nint f(int p) { return access_ok(p); }\n",
        expect![[r#"
            call f -> check at t.c:4:23 via access_ok
        "#]],
    );
}

#[test]
fn a_macro_named_like_its_function_tells_nothing() {
    check_only(
        "call",
        "int pr(int);\n#define pr pr\nint f(void) { return pr(1); }\n",
        expect![[r#"
            call f -> pr@t.c at t.c:3:22
        "#]],
    );
}

#[test]
fn what_is_called_but_not_defined_is_declared() {
    check(
        "int vfs_read(int fd);\nint ksys_read(int fd) { return vfs_read(fd); }\n",
        expect![[r#"
            call ksys_read -> vfs_read at t.c:2:32
            def function external ksys_read at t.c:2:5
            def function external vfs_read at t.c:1:5 declaration
        "#]],
    );
}

#[test]
fn a_global_used_but_not_defined_is_declared() {
    check_only(
        "def",
        "extern unsigned long jiffies;\nunsigned long now(void) { return jiffies; }\n",
        expect![[r#"
            def function external now at t.c:2:15
            def variable external jiffies at t.c:1:22 declaration
        "#]],
    );
}

#[test]
fn a_variable_used_before_its_tentative_definition_is_defined() {
    check_only(
        "def",
        "extern int x;\nint get(void) { return x; }\nint x;\n",
        expect![[r#"
            def function external get at t.c:2:5
            def variable external x at t.c:3:5
        "#]],
    );
}

// ---- Identity ----

/// The USR of the symbol called `name` in the unit made of `files`.
fn usr_of(files: &[(&str, &str)], name: &str) -> String {
    let facts = extract_files(files);
    let found: Vec<&schema::NewSymbol> = facts.symbols.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0].usr.clone()
}

#[test]
fn statics_of_two_files_are_two_symbols() {
    let a = usr_of(
        &[("fs/core.c", "static int init(void) { return 0; }\n")],
        "init",
    );
    let b = usr_of(
        &[("drivers/core.c", "static int init(void) { return 0; }\n")],
        "init",
    );
    assert_ne!(a, b, "same base name, different files");
}

#[test]
fn a_header_inline_is_one_symbol_in_every_unit() {
    let header = ("inc.h", "static inline int h(void) { return 1; }\n");
    let a = usr_of(
        &[
            ("a.c", "#include \"inc.h\"\nint a(void) { return h(); }\n"),
            header,
        ],
        "h",
    );
    let b = usr_of(
        &[
            ("b.c", "#include \"inc.h\"\nint b(void) { return h(); }\n"),
            header,
        ],
        "h",
    );
    assert_eq!(a, b);
}

#[test]
fn same_named_types_of_two_files_are_two_symbols() {
    let a = usr_of(&[("a.c", "struct cb { int x; };\n")], "cb");
    let b = usr_of(&[("b.c", "struct cb { int x; };\n")], "cb");
    assert_ne!(a, b);
}

#[test]
fn a_header_inline_belongs_to_its_header() {
    check_files(
        &[
            ("a.c", "#include \"inc.h\"\nint a(void) { return h(); }\n"),
            (
                "inc.h",
                "int g(void);\nstatic inline int h(void) { return g(); }\n",
            ),
        ],
        expect![[r#"
            call a -> h at a.c:2:22
            call h -> g at inc.h:2:36
            def function external a at a.c:2:5
            def function external g at inc.h:1:5 declaration
            def function internal h at inc.h:2:19
        "#]],
    );
}

// ---- Calls ----

#[test]
fn a_call_written_inside_a_macro() {
    check_only(
        "call",
        "void lock(int *l);\n#define LOCKED(l, body) do { lock(l); body; } while (0)\nint n;\nvoid f(int *l) { LOCKED(l, n++); }\n",
        expect![[r#"
            call f -> lock at t.c:4:18 via LOCKED
        "#]],
    );
}

#[test]
fn recursion_is_a_call() {
    check_only(
        "call",
        "int fact(int n) { return n ? n * fact(n - 1) : 1; }\n",
        expect![[r#"
            call fact -> fact at t.c:1:34
        "#]],
    );
}

#[test]
fn calls_in_an_initializer_of_a_local() {
    check_only(
        "call",
        "int get(void);\nint f(void) { int x = get(); return x; }\n",
        expect![[r#"
            call f -> get at t.c:2:23
        "#]],
    );
}

#[test]
fn a_cast_function_is_still_a_direct_call() {
    check_only(
        "call",
        "long fn(long);\ntypedef long (*btf_fn)(long);\nlong f(long x) { return ((btf_fn)fn)(x); }\n",
        expect![[r#"
            call f -> fn at t.c:3:25
        "#]],
    );
}

#[test]
fn arms_a_constant_condition_never_takes_are_dead() {
    check_only(
        "call",
        "int a(void);\nint b(void);\nint c(int);\nint d(void);\nint e(void);\n\
         #define IS_ENABLED(x) 0\n\
         #define ilog2(n) (sizeof(n) <= 4 ? c(1) : c(2))\n\
         #define no_printk(x) ({ if (0) c(x); 0; })\n\
         int f(int n, long m) {\n\
         \tif (IS_ENABLED(CONFIG_X)) a(); else b();\n\
         \tif (n) d();\n\
         \tif (__builtin_constant_p(n) && n == 3) e();\n\
         \tif (sizeof(m) == 8 || e()) d();\n\
         \treturn ilog2(n) + no_printk(n) + (0 && c(3)) + (n ? c(4) : c(5));\n}\n",
        expect![[r#"
            call f -> a at t.c:10:28 dead
            call f -> b at t.c:10:38
            call f -> c at t.c:14:20 via no_printk dead
            call f -> c at t.c:14:41 dead
            call f -> c at t.c:14:54
            call f -> c at t.c:14:61
            call f -> c at t.c:14:9 via ilog2
            call f -> d at t.c:11:9
            call f -> d at t.c:13:29
            call f -> e at t.c:12:41
            call f -> e at t.c:13:24 dead
        "#]],
    );
}

#[test]
fn dead_code_uses_and_stores_nothing_and_a_label_keeps_an_arm_alive() {
    check(
        "int x;\nvoid k(void);\nvoid (*hook)(void);\n\
         void f(int n) {\n\
         \tif (0) { x = n; hook = k; k(); }\n\
         \tif (0) { err: k(); }\n\
         \tif (n) goto err;\n}\n",
        expect![[r#"
            call f -> k at t.c:5:28 dead
            call f -> k at t.c:6:16
            def function external f at t.c:4:6
            def function external k at t.c:2:6 declaration
            def variable external hook at t.c:3:8
            def variable external x at t.c:1:5
        "#]],
    );
}

#[test]
fn a_switch_on_a_constant_runs_only_the_arms_its_value_reaches() {
    check_only(
        "call",
        "void a(void); void b(void); void c(void); void d(void); void w(void);\n\
         void f(long *p, int n) {\n\
         \tswitch (sizeof(*p)) {\n\
         \tcase 1: a(); break;\n\
         \tcase 4: case 8: b();\n\
         \tcase 16: c(); return;\n\
         \tdefault: w();\n\
         \t}\n\
         \tswitch (sizeof(*p)) { case 2 ... 4: a(); break; default: d(); }\n\
         \tswitch (n) { case 1: a(); break; default: w(); }\n\
         \tswitch (sizeof(*p)) { case 1: { lab: a(); } break; default: w(); goto lab; }\n\
         }\n",
        expect![[r#"
            call f -> a at t.c:10:23
            call f -> a at t.c:11:39
            call f -> a at t.c:4:10 dead
            call f -> a at t.c:9:38 dead
            call f -> b at t.c:5:18
            call f -> c at t.c:6:11
            call f -> d at t.c:9:59
            call f -> w at t.c:10:44
            call f -> w at t.c:11:62
            call f -> w at t.c:7:11 dead
        "#]],
    );
}

#[test]
fn a_generic_selections_other_associations_are_dead() {
    check_only(
        "call",
        "int fi(int);\nlong fl(long);\nint g(void);\n\
         #define pick(x) _Generic((x), int: fi(x), long: fl(x))\n\
         int f(int v) { return pick(v) + _Generic(g(), int: 1); }\n",
        expect![[r#"
            call f -> fi at t.c:5:23 via pick
            call f -> fl at t.c:5:23 via pick dead
            call f -> g at t.c:5:42 dead
        "#]],
    );
}

#[test]
fn a_generic_selection_calls_the_chosen_function() {
    check_only(
        "call",
        "int fi(int);\nlong fl(long);\n#define pick(x) _Generic((x), int: fi, long: fl)(x)\nint f(int v) { return pick(v); }\n",
        expect![[r#"
            call f -> fi at t.c:4:23 via pick
        "#]],
    );
}

#[test]
fn a_function_passed_to_a_generic_selection_is_stored_into_the_chosen_ones_parameter() {
    check(
        "void ctor(void *p);\nint create(const char *n, void (*c)(void *));\n#define make(n, c) _Generic((n), default: create)(n, c)\nint init(void) { return make(\"x\", ctor); }\n",
        expect![[r#"
            call init -> create at t.c:4:25 via make
            def function external create at t.c:2:5 declaration
            def function external ctor at t.c:1:6 declaration
            def function external init at t.c:4:5
            def macro none make at t.c:3:9
            store create::c <- ctor at t.c:4:35 via make
            use init addr ctor at t.c:4:35 via make
            use init expand make at t.c:4:25
        "#]],
    );
}

#[test]
fn a_call_through_a_member() {
    check_only(
        "call",
        "struct file_operations { int (*read)(int); };\nint vfs_read(const struct file_operations *f, int n) { return f->read(n); }\n",
        expect![[r#"
            call vfs_read -> file_operations::read at t.c:2:63 indirect
        "#]],
    );
}

#[test]
fn a_call_through_a_dereferenced_member() {
    check_only(
        "call",
        "struct ops { void (*fn)(void); };\nvoid run(struct ops *o) { (*o->fn)(); }\n",
        expect![[r#"
            call run -> ops::fn at t.c:2:27 indirect
        "#]],
    );
}

#[test]
fn a_call_through_a_global_pointer() {
    check_only(
        "call",
        "void (*idle_hook)(void);\nvoid idle(void) { if (idle_hook) idle_hook(); }\n",
        expect![[r#"
            call idle -> idle_hook at t.c:2:34 indirect
        "#]],
    );
}

#[test]
fn a_call_through_an_array_of_pointers() {
    check_only(
        "call",
        "typedef long (*sys_fn)(long);\nextern const sys_fn table[];\nlong call(int nr, long a) { return table[nr](a); }\n",
        expect![[r#"
            call call -> table at t.c:3:36 indirect
        "#]],
    );
}

/// UML's `EXECUTE_SYSCALL`: `(*sys_call_table[nr])(...)`.
#[test]
fn a_call_through_a_dereferenced_array_element() {
    check_only(
        "call",
        "typedef long (*sys_fn)(long);\nextern const sys_fn table[];\nlong call(int nr, long a) { return (*table[nr])(a); }\n",
        expect![[r#"
            call call -> table at t.c:3:36 indirect
        "#]],
    );
}

#[test]
fn builtins_and_compile_time_asserts_are_not_calls() {
    check_only(
        "call",
        "void __compiletime_assert_1(void);\nint f(int *p, int n) { __compiletime_assert_1(); __builtin_memset(p, 0, n); return __builtin_expect(n, 0) + __sync_fetch_and_add(p, 1); }\n",
        expect![[""]],
    );
}

#[test]
fn sizeof_typeof_and_builtin_constant_p_run_nothing() {
    check_only(
        "call",
        "int g(void);\nint h(void);\nint f(void) { __typeof__(g()) x = 0; return sizeof(h()) + __builtin_constant_p(g()) + x + _Alignof(__typeof__(h())); }\n",
        expect![[""]],
    );
}

// ---- Stores ----

#[test]
fn a_designated_initializer_stores_into_the_member() {
    check_only(
        "store",
        "struct ops { int (*read)(int); int (*write)(int); };\nint my_read(int);\nint my_write(int);\nconst struct ops my_ops = { .read = my_read, .write = my_write };\n",
        expect![[r#"
            store ops::read <- my_read at t.c:4:37
            store ops::write <- my_write at t.c:4:55
        "#]],
    );
}

#[test]
fn a_positional_initializer_stores_in_field_order() {
    check_only(
        "store",
        "struct ops { int (*a)(void); int n; int (*b)(void); };\nint fa(void);\nint fb(void);\nstruct ops o = { fa, 3, fb };\n",
        expect![[r#"
            store ops::a <- fa at t.c:4:18
            store ops::b <- fb at t.c:4:25
        "#]],
    );
}

#[test]
fn a_nested_initializer_stores_into_the_inner_member() {
    check_only(
        "store",
        "struct inner { void (*cb)(void); };\nstruct outer { int n; struct inner in; };\nvoid f(void);\nstruct outer o = { .in = { .cb = f } };\nstruct outer p = { .in.cb = f };\n",
        expect![[r#"
            store inner::cb <- f at t.c:4:34
            store inner::cb <- f at t.c:5:29
        "#]],
    );
}

#[test]
fn an_array_of_structs_stores_into_each_member() {
    check_only(
        "store",
        "struct cmd { const char *name; int (*run)(void); };\nint ls(void);\nint cd(void);\nstruct cmd cmds[] = { { \"ls\", ls }, [1] = { .run = cd } };\n",
        expect![[r#"
            store cmd::run <- cd at t.c:4:52
            store cmd::run <- ls at t.c:4:31
        "#]],
    );
}

#[test]
fn an_array_of_functions_stores_into_the_array() {
    check_only(
        "store",
        "typedef long (*sys_fn)(long);\nlong sys_read(long);\nlong sys_write(long);\nconst sys_fn table[] = { [0] = sys_read, [1] = sys_write };\n",
        expect![[r#"
            store table <- sys_read at t.c:4:32
            store table <- sys_write at t.c:4:48
        "#]],
    );
}

#[test]
fn a_compound_literal_stores_into_its_members() {
    check_only(
        "store",
        "struct ops { void (*fn)(void); };\nvoid f(void);\nvoid reg(const struct ops *);\nvoid init(void) { reg(&(struct ops){ .fn = f }); }\n",
        expect![[r#"
            store ops::fn <- f at t.c:4:44
        "#]],
    );
}

#[test]
fn an_assignment_stores_into_a_member() {
    check_only(
        "store",
        "struct work { void (*func)(struct work *); };\nvoid barrier_func(struct work *w);\nvoid init(struct work *w) { w->func = barrier_func; }\n",
        expect![[r#"
            store work::func <- barrier_func at t.c:3:39
        "#]],
    );
}

#[test]
fn an_assignment_inside_a_macro_is_told() {
    check_only(
        "store",
        "struct work { void (*func)(struct work *); };\n#define INIT_WORK(w, f) ((w)->func = (f))\nvoid fn(struct work *w);\nvoid init(struct work *w) { INIT_WORK(w, fn); }\n",
        expect![[r#"
            store work::func <- fn at t.c:4:42 via INIT_WORK
        "#]],
    );
}

#[test]
fn casts_and_address_of_are_looked_through() {
    check_only(
        "store",
        "typedef void (*cb_t)(void);\nvoid f(void);\ncb_t a = (cb_t)&f;\ncb_t b = &f;\n",
        expect![[r#"
            store a <- f at t.c:3:17
            store b <- f at t.c:4:11
        "#]],
    );
}

#[test]
fn both_arms_of_a_conditional_are_stored() {
    check_only(
        "store",
        "void fa(void);\nvoid fb(void);\nvoid (*hook)(void);\nvoid set(int on) { hook = on ? fa : fb; }\n",
        expect![[r#"
            store hook <- fa at t.c:4:32
            store hook <- fb at t.c:4:37
        "#]],
    );
}

#[test]
fn a_local_pointer_is_named_after_its_function() {
    check(
        "void f(void);\nvoid run(void) { void (*p)(void) = f; p(); }\n",
        expect![[r#"
            call run -> run::p at t.c:2:39 indirect
            def function external f at t.c:1:6 declaration
            def function external run at t.c:2:6
            def variable none run::p at t.c:2:25
            store run::p <- f at t.c:2:36
            use run addr f at t.c:2:36
        "#]],
    );
}

#[test]
fn a_write_through_a_cast_address_stores() {
    check_only(
        "store",
        "void f(void);\nvoid (*hook)(void);\n#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))\nvoid set(void) { WRITE_ONCE(hook, f); }\n",
        expect![[r#"
            store hook <- f at t.c:4:35 via WRITE_ONCE
        "#]],
    );
}

#[test]
fn an_element_of_an_array_of_pointers_stores_into_the_array() {
    check_only(
        "store",
        "void f(void);\nvoid (*hooks[4])(void);\nvoid set(int i) { hooks[i] = f; }\n",
        expect![[r#"
            store hooks <- f at t.c:3:30
        "#]],
    );
}

// ---- Copies and callbacks ----

#[test]
fn a_pointer_copied_into_another_is_a_copy() {
    check_only(
        "store",
        "struct work { void (*func)(void); };\nstruct worker { void (*current_func)(void); };\nvoid process(struct worker *w, struct work *k) { w->current_func = k->func; }\n",
        expect![[r#"
            store worker::current_func <- copy of work::func at t.c:3:71
        "#]],
    );
}

#[test]
fn a_pointer_read_once_is_copied() {
    check_only(
        "store",
        "void (*hook)(void);\n#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))\nvoid run(void) { void (*h)(void) = READ_ONCE(hook); h(); }\n",
        expect![[r#"
            store run::h <- copy of hook at t.c:3:36 via READ_ONCE
        "#]],
    );
}

#[test]
fn a_function_passed_as_an_argument_is_stored_into_the_parameter() {
    check(
        "void apply(void (*fn)(int), int v) { fn(v); }\nvoid log_it(int v);\nvoid all(void) { apply(log_it, 1); }\n",
        expect![[r#"
            call all -> apply at t.c:3:18
            call apply -> apply::fn at t.c:1:38 indirect
            def function external all at t.c:3:6
            def function external apply at t.c:1:6
            def function external log_it at t.c:2:6 declaration
            def parameter none apply::fn at t.c:1:19
            store apply::fn <- log_it at t.c:3:24
            use all addr log_it at t.c:3:24
        "#]],
    );
}

#[test]
fn an_argument_past_the_parameters_is_not_stored() {
    check_only(
        "store",
        "int printk(const char *fmt, ...);\nvoid f(void);\nvoid g(void) { printk(\"%ps\", f); }\n",
        expect![[""]],
    );
}

#[test]
fn a_parameter_passed_on_is_a_copy() {
    check_only(
        "store",
        "void call_it(void (*cb)(void)) { cb(); }\nvoid relay(void (*fn)(void)) { call_it(fn); }\n",
        expect![[r#"
            store call_it::cb <- copy of relay::fn at t.c:2:40
        "#]],
    );
}

// ---- Results, out-parameters, arrays and unions ----

#[test]
fn a_function_returned_is_stored_into_the_result() {
    check(
        "typedef void (*fn_t)(void);\nvoid a(void);\nvoid b(void);\nstatic fn_t pick(int x) { if (x) return a; return x > 1 ? b : 0; }\nvoid run(int x) { fn_t p = pick(x); p(); pick(x)(); }\n",
        expect![[r#"
            call run -> pick at t.c:5:28
            call run -> pick at t.c:5:42
            call run -> pick::return at t.c:5:42 indirect
            call run -> run::p at t.c:5:37 indirect
            def function external a at t.c:2:6 declaration
            def function external b at t.c:3:6 declaration
            def function external run at t.c:5:6
            def function internal pick at t.c:4:13
            def result none pick::return at t.c:4:13
            def typedef none fn_t at t.c:1:16
            def variable none run::p at t.c:5:24
            store pick::return <- a at t.c:4:41
            store pick::return <- b at t.c:4:59
            store run::p <- copy of pick::return at t.c:5:28
            use pick addr a at t.c:4:41
            use pick addr b at t.c:4:59
        "#]],
    );
}

/// `module_init(f)`'s `__inittest`, a type check: a static function whose result
/// nothing in its unit reads has none; a static function called before it is defined
/// has one.
#[test]
fn a_static_result_nothing_reads_is_not_recorded() {
    check_only(
        "store",
        "typedef void (*fn_t)(void);\nvoid a(void);\nvoid b(void);\nstatic fn_t __inittest(void) { return a; }\nstatic fn_t later(void);\nvoid run(void) { later()(); }\nstatic fn_t later(void) { return b; }\n",
        expect![[r#"
            store later::return <- b at t.c:7:34
        "#]],
    );
}

#[test]
fn a_null_returned_makes_no_result() {
    check_only(
        "def",
        "typedef void (*fn_t)(void);\nfn_t none(void) { return 0; }\n",
        expect![[r#"
            def function external none at t.c:2:6
            def typedef none fn_t at t.c:1:16
        "#]],
    );
}

#[test]
fn a_function_written_through_an_out_parameter_reaches_the_callers_pointer() {
    check_only(
        "store",
        "typedef void (*fn_t)(void);\nvoid a(void);\nstatic void get(fn_t *out) { *out = a; }\nvoid run(void) { fn_t p; get(&p); p(); }\n",
        expect![[r#"
            store get::out <- a at t.c:3:37
            store get::out <- copy of run::p at t.c:4:31
            store run::p <- copy of get::out at t.c:4:31
        "#]],
    );
}

/// `EXPORT_SYMBOL`'s `.value = (unsigned long)&sym`, `memcpy(&fn, src, n)`: the
/// target is not a place that holds functions; nothing comes back through it.
#[test]
fn an_address_stored_as_an_integer_or_a_void_pointer_goes_one_way() {
    check_only(
        "store",
        "void (*hook)(void);\nstruct ksym { unsigned long value; };\nstruct ksym k = { .value = (unsigned long)&hook };\nvoid copy(void *dst, const void *src, unsigned long n);\nvoid get(void (*from)(void)) { void (*fn)(void); copy(&fn, &from, sizeof(fn)); }\n",
        expect![[r#"
            store copy::dst <- copy of get::fn at t.c:5:56
            store copy::src <- copy of get::from at t.c:5:61
            store ksym::value <- copy of hook at t.c:3:44
        "#]],
    );
}

/// net/smc's `smc_clcsock_replace_cb(&sk->sk_data_ready, ...)`: one helper writes
/// through the addresses of several members; joining each member with the parameter
/// would join them all.
#[test]
fn a_members_address_passed_on_does_not_join_the_members() {
    check_only(
        "store",
        "typedef void (*fn_t)(void);\nstruct sock { fn_t ready; fn_t change; };\nvoid a(void);\nvoid b(void);\nstatic void replace(fn_t *target, fn_t f) { *target = f; }\nvoid init(struct sock *sk) { replace(&sk->ready, a); replace(&sk->change, b); }\n",
        expect![[r#"
            store replace::f <- a at t.c:6:50
            store replace::f <- b at t.c:6:75
            store replace::target <- copy of replace::f at t.c:5:55
            store replace::target <- copy of sock::change at t.c:6:67
            store replace::target <- copy of sock::ready at t.c:6:43
        "#]],
    );
}

#[test]
fn an_array_passed_on_is_read_through_pointer_arithmetic() {
    check_only(
        "",
        "typedef void (*fn_t)(void);\nvoid a(void);\nstatic fn_t table[] = { a };\nstatic void all(const fn_t *t, int n) { for (int i = 0; i < n; i++) (*(t + i))(); }\nvoid go(void) { all(table, 1); }\n",
        expect![[r#"
            call all -> all::t at t.c:4:69 indirect
            call go -> all at t.c:5:17
            def function external a at t.c:2:6 declaration
            def function external go at t.c:5:6
            def function internal all at t.c:4:13
            def parameter none all::t at t.c:4:29
            def typedef none fn_t at t.c:1:16
            def variable internal table at t.c:3:13
            store all::t <- copy of table at t.c:5:21
            store table <- a at t.c:3:25
            use go read table at t.c:5:21
            use table addr a at t.c:3:25
        "#]],
    );
}

#[test]
fn a_function_stored_through_one_member_of_a_union_is_read_through_the_others() {
    check_only(
        "store",
        "typedef void (*fn_t)(void);\nvoid a(void);\nunion cb { void *data; fn_t fn; unsigned long word; };\nvoid set(union cb *c) { c->data = (void *)a; }\nvoid run(union cb *c) { c->fn(); }\n",
        expect![[r#"
            store cb::data <- a at t.c:4:43
            store cb::fn <- a at t.c:4:43
        "#]],
    );
}

/// A table of `union proc_op`: each entry is written and read through one member.
#[test]
fn a_function_stored_as_its_own_type_stays_in_the_member_of_a_union() {
    check_only(
        "store",
        "typedef int (*show_t)(int);\ntypedef int (*link_t)(void *);\nint show(int);\nunion op { show_t show; link_t link; };\nstruct entry { union op op; };\nstruct entry e = { .op = { .show = show } };\n",
        expect![[r#"
            store op::show <- show at t.c:6:36
        "#]],
    );
}

// ---- Uses ----

#[test]
fn reads_writes_and_addresses_of_a_global() {
    check_only(
        "use",
        "int count;\nvoid lock(int *);\nint f(void) { count = 1; count += 2; count++; lock(&count); return count; }\n",
        expect![[r#"
            use f addr count at t.c:3:53
            use f read count at t.c:3:68
            use f write count at t.c:3:15
            use f write count at t.c:3:26
            use f write count at t.c:3:38
        "#]],
    );
}

#[test]
fn a_member_of_a_struct_written_writes_the_struct() {
    check_only(
        "use",
        "struct s { int x; } g;\nvoid f(void) { g.x = 1; }\n",
        expect![[r#"
            use f write g at t.c:2:16
            use f write s::x at t.c:2:18
        "#]],
    );
}

#[test]
fn a_member_written_through_a_pointer_reads_the_pointer() {
    check_only(
        "use",
        "struct s { int x; };\nstruct s *gp;\nvoid f(void) { gp->x = 1; }\n",
        expect![[r#"
            use f read gp at t.c:3:16
            use f write s::x at t.c:3:20
        "#]],
    );
}

#[test]
fn an_element_written_writes_an_array_but_not_a_pointer() {
    check_only(
        "use",
        "int arr[4];\nint *ptr;\nvoid f(int i) { arr[i] = 1; ptr[i] = 2; }\n",
        expect![[r#"
            use f read ptr at t.c:3:29
            use f write arr at t.c:3:17
        "#]],
    );
}

#[test]
fn read_once_and_write_once_reach_the_variable() {
    check_only(
        "use",
        "int flag;\n#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))\n#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))\nint f(void) { WRITE_ONCE(flag, 1); return READ_ONCE(flag); }\n",
        expect![[r#"
            use f expand READ_ONCE at t.c:4:43
            use f expand WRITE_ONCE at t.c:4:15
            use f read flag at t.c:4:53 via READ_ONCE
            use f write flag at t.c:4:26 via WRITE_ONCE
        "#]],
    );
}

#[test]
fn a_static_local_is_used_like_a_global() {
    check_only(
        "use",
        "int f(void) { static int calls; return ++calls; }\n",
        expect![[r#"
            use f write f::calls at t.c:1:42
        "#]],
    );
}

#[test]
fn locals_and_sizeof_operands_are_not_uses() {
    check_only(
        "use",
        "int g;\nint f(int a) { int b = a; return b + sizeof(g); }\n",
        expect![[""]],
    );
}

/// Header facts recorded in memory, as the facts cache records them: each header's
/// part of a unit's facts under its key.
#[derive(Default, Clone)]
struct Recorded(
    HashMap<super::headers::HeaderKey, super::headers::HeaderFacts>,
    /// The bodies a unit may blank, by [`super::headers::Config::bodies_key`].
    HashMap<[u8; 32], Vec<(u32, u32)>>,
);

impl super::Recorded for Recorded {
    fn header(&mut self, key: &super::headers::HeaderKey) -> Option<super::headers::HeaderFacts> {
        self.0.get(key).cloned()
    }
}

thread_local! {
    /// How many units [`extract_reusing`] parsed with headers blanked on this thread.
    static BLANKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// [`extract_unit`] taking header facts from `recorded` and recording there those it
/// extracted; the facts and how many headers were taken as recorded.
fn extract_reusing(
    files: &[(&str, &str)],
    extra: &[&str],
    recorded: &mut Recorded,
) -> (TuFacts, usize) {
    // The headers whose bodies are recorded are blanked, as the indexer does: when
    // they are all taken, the facts must be those of the unit parsed whole.
    let config = super::headers::Config::new(&test_args(extra), b"test").blanking();
    let blank: HashMap<&str, Vec<(u32, u32)>> = files[1..]
        .iter()
        .filter_map(|(n, t)| {
            Some((
                *n,
                recorded.1.get(&config.bodies_key(t.as_bytes()))?.clone(),
            ))
        })
        .collect();
    let mut blank = blank;
    let mut x = extract_unit(files, extra, Some(recorded), &blank);
    if let Some(missed) = &x.unblank {
        // As the indexer does: again with the headers missed whole, then with none
        // blanked.
        blank.retain(|n, _| !missed.iter().any(|m| *m == *format!("/t/{n}")));
        x = extract_unit(files, extra, Some(recorded), &blank);
        if x.unblank.is_some() {
            blank.clear();
            x = extract_unit(files, extra, Some(recorded), &blank);
        }
    }
    if !blank.is_empty() {
        BLANKED.with(|b| b.set(b.get() + 1));
        let whole = extract_unit(files, extra, Some(&mut recorded.clone()), &HashMap::new());
        assert_eq!(
            render(&x.facts),
            render(&whole.facts),
            "a unit whose blanked headers are taken has the facts of the whole parse"
        );
        assert_eq!(x.reused, whole.reused);
    }
    assert!(x.unblank.is_none());
    let parts = crate::cache::split(&x.facts);
    // The chunk hashes as the database writes them: those of the headers taken are
    // the ones recorded.
    let hashes = schema::chunk_hashes(&x.facts, &x.known);
    assert_eq!(
        hashes,
        schema::chunk_hashes(&x.facts, &Default::default()),
        "a header taken as recorded has the chunk hash it was recorded with"
    );
    for super::RecordedHeader {
        file,
        key,
        refers,
        bodies,
    } in &x.headers
    {
        if !bodies.ranges.is_empty() {
            recorded
                .1
                .entry(bodies.key)
                .or_insert(bodies.ranges.clone());
        }
        let part = parts
            .iter()
            .find(|p| p.files[0] == *file)
            .cloned()
            .unwrap_or_default();
        let at = x
            .facts
            .files
            .iter()
            .position(|f| f == file)
            .expect("a recorded header is among the unit's files");
        let header = super::headers::HeaderFacts {
            facts: part,
            refers: refers.clone(),
            hash: hashes[&schema::FileIx(at as u32)].clone(),
            chunk: [0; 32],
        };
        recorded.0.insert(*key, header);
    }
    (x.facts, x.reused)
}

const SHARED_H: &str = "#define TWICE(x) ((x) * 2)\n\
    int helper(int);\n\
    extern unsigned long zero_pfn;\n\
    static inline int is_zero(unsigned long p) { return p == zero_pfn; }\n\
    extern int only_in_dead_code;\n\
    int never_run(void);\n\
    static inline int *dead(void) { if (0) { never_run(); return &only_in_dead_code; } return 0; }\n\
    static inline int shared(int v) { return helper(TWICE(v)) + LEVEL; }\n\
    struct ops { int (*run)(int); };\n";

#[test]
fn a_header_read_the_same_way_is_taken_as_recorded_with_the_same_facts() {
    let mut recorded = Recorded::default();
    let a = [
        (
            "a.c",
            "#define LEVEL 1\n#include \"shared.h\"\nint a(void) { return shared(1); }\n",
        ),
        ("shared.h", SHARED_H),
    ];
    let b = [
        (
            "b.c",
            "#define LEVEL 1\n#include \"shared.h\"\nint b(void) { return shared(2); }\n",
        ),
        ("shared.h", SHARED_H),
    ];
    let (_, reused) = extract_reusing(&a, &["KBUILD_MODNAME=\"a\""], &mut recorded);
    assert_eq!(reused, 0);
    let (with, reused) = extract_reusing(&b, &["KBUILD_MODNAME=\"b\""], &mut recorded);
    assert_eq!(
        reused, 1,
        "the second unit takes shared.h as the first recorded it"
    );
    assert_eq!(render(&with), render(&extract_files(&b)));
}

#[test]
fn a_header_read_differently_is_extracted_again() {
    let unit = |main: &str| [("u.c", main.to_owned()), ("shared.h", SHARED_H.to_owned())];
    let main = "#define LEVEL 1\n#include \"shared.h\"\nint u(void) { return shared(1); }\n";
    let reused_after = |first: &str, first_d: &[&str], second: &str, second_d: &[&str]| {
        let mut recorded = Recorded::default();
        let f = unit(first);
        let f: Vec<(&str, &str)> = f.iter().map(|(n, t)| (*n, t.as_str())).collect();
        extract_reusing(&f, first_d, &mut recorded);
        let s = unit(second);
        let s: Vec<(&str, &str)> = s.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let (facts, reused) = extract_reusing(&s, second_d, &mut recorded);
        // Whatever the route, the facts are those of a plain extraction.
        let plain = extract_reusing(&s, second_d, &mut Recorded::default()).0;
        assert_eq!(render(&facts), render(&plain));
        reused
    };
    assert_eq!(reused_after(main, &[], main, &[]), 1);
    // A `#define` before the `#include` of a macro the header names.
    let other = main.replace("LEVEL 1", "LEVEL 2");
    assert_eq!(reused_after(main, &[], &other, &[]), 0);
    // A macro a definition names (`helper` made a macro) changes the header too.
    let helper = format!("#define helper(x) other(x)\nint other(int);\n{main}");
    assert_eq!(reused_after(main, &[], &helper, &[]), 0);
    // The same macro from the command line, with two values.
    let bare = "#include \"shared.h\"\nint u(void) { return shared(1); }\n";
    assert_eq!(reused_after(bare, &["LEVEL=1"], bare, &["LEVEL=1"]), 1);
    assert_eq!(reused_after(bare, &["LEVEL=1"], bare, &["LEVEL=2"]), 0);
    // Kbuild's per-file names count where the header names them.
    let named = "#define LEVEL sizeof(KBUILD_MODNAME)\n#include \"shared.h\"\n";
    assert_eq!(
        reused_after(
            named,
            &["KBUILD_MODNAME=\"a\""],
            named,
            &["KBUILD_MODNAME=\"bb\""]
        ),
        0
    );
    assert_eq!(
        reused_after(
            named,
            &["KBUILD_MODNAME=\"a\""],
            named,
            &["KBUILD_MODNAME=\"a\""]
        ),
        1
    );
    assert_eq!(
        reused_after(
            main,
            &["KBUILD_MODNAME=\"a\""],
            main,
            &["KBUILD_MODNAME=\"bb\""]
        ),
        1
    );
    // Any other `-D` (`-DMODULE`) is the configuration: nothing is shared across it.
    assert_eq!(
        reused_after(bare, &["LEVEL=1"], bare, &["LEVEL=1", "MODULE"]),
        0
    );
    // A macro defined only after the `#include` is not seen by the header.
    let macro_helper = "#define helper(x) other(x)\nint other(int);\n";
    let after = format!("{main}{macro_helper}");
    assert_eq!(reused_after(&helper, &[], &after, &[]), 0);
    assert_eq!(reused_after(&after, &[], &after, &[]), 1);
    // A header whose macros a file `#undef`s is extracted, unless the `#undef` comes
    // after the `#include` that read the header, in a file read once.
    let undef = format!("#define LEVEL 1\n#undef LEVEL\nint q;\n{main}");
    assert_eq!(reused_after(&undef, &[], &undef, &[]), 0);
    let undef_after = format!("{main}#undef LEVEL\n");
    assert_eq!(reused_after(&undef_after, &[], &undef_after, &[]), 1);
}

#[test]
fn a_header_that_undoes_a_macro_before_it_includes_another_file_is_extracted() {
    // After `h.h`'s own `#undef M`, `g.h` may define `M` again or not: the key cannot
    // tell that definition from one after `h.h`.
    let h = "static inline void M(void) {}\n#undef M\n#include \"g.h\"\nstatic inline void M(void) {}\n";
    let g = "#ifdef WANT\n#define M b\n#endif\n";
    let want = [
        ("a.c", "#define M a\n#define WANT\n#include \"h.h\"\n"),
        ("h.h", h),
        ("g.h", g),
    ];
    let after = [
        ("b.c", "#define M a\n#include \"h.h\"\n#define M b\n"),
        ("h.h", h),
        ("g.h", g),
    ];
    let mut recorded = Recorded::default();
    extract_reusing(&after, &[], &mut recorded);
    let (facts, _) = extract_reusing(&want, &[], &mut recorded);
    assert_eq!(render(&facts), render(&extract_files(&want)));
}

#[test]
fn a_header_that_undoes_its_own_macros_or_includes_itself_is_taken_as_recorded() {
    let unit = |main: &'static str| {
        [
            (main, "#include \"flags.h\"\nint u(void) { return f(); }\n"),
            // `page-flags.h`: a macro `#undef`ed once the header has used it.
            (
                "flags.h",
                "#ifndef FLAGS_H\n#define FLAGS_H\n#include \"types.h\"\n#define ANY(x) (x)\n\
                 int g(int);\nstatic inline int f(void) { return g(ANY(1)); }\n#undef ANY\n#endif\n",
            ),
            // `device.h`: a header included again, through another, while it is read.
            (
                "types.h",
                "#ifndef TYPES_H\n#define TYPES_H\n#include \"flags.h\"\ntypedef int t;\n\
                 static inline t h(void) { return 0; }\n#endif\n",
            ),
        ]
    };
    let mut recorded = Recorded::default();
    extract_reusing(&unit("a.c"), &[], &mut recorded);
    assert_eq!(recorded.0.len(), 2, "flags.h and types.h have keys");
    let (facts, reused) = extract_reusing(&unit("b.c"), &[], &mut recorded);
    assert_eq!(reused, 2);
    let r = render(&facts);
    assert!(r.contains("f -> g"), "{r}");
    assert_eq!(r, render(&extract_files(&unit("b.c"))));
}

#[test]
fn a_header_whose_declarations_hold_another_file_is_not_recorded() {
    // `topology.h`: `enum { #include <linux/sched/sd_flags.h> __SD_FLAG_CNT };`, with
    // `sd_flags.h` entered twice (so without a key) and its enumerators its own facts.
    let unit = |main: &'static str| {
        [
            (main, "#include \"topology.h\"\nint u(void) { return F_CNT; }\n"),
            (
                "topology.h",
                "#define FLAG(n) F_##n,\nenum {\n#include \"flags.h\"\nF_CNT };\n\
                 #undef FLAG\n#define FLAG(n) 1 +\nstatic const int nflags = \n#include \"flags.h\"\n0;\n",
            ),
            ("flags.h", "FLAG(A)\nFLAG(B)\n"),
        ]
    };
    let mut recorded = Recorded::default();
    extract_reusing(&unit("a.c"), &[], &mut recorded);
    let (facts, _) = extract_reusing(&unit("b.c"), &[], &mut recorded);
    let r = render(&facts);
    assert!(r.contains("F_A") && r.contains("F_B"), "{r}");
    assert_eq!(r, render(&extract_files(&unit("b.c"))));

    // Whether the included file's facts come from the cache or from the walk, the
    // header is not recorded: a later unit that reads the included file otherwise
    // still gets the header's members.
    let header = [
        ("a.h", "struct ops {\n#include \"fields.h\"\n};\n"),
        ("fields.h", "int f1;\nint f2;\n"),
    ];
    let with = |main: (&'static str, &'static str)| [main, header[0], header[1]];
    let mut recorded = Recorded::default();
    extract_reusing(&with(("x.c", "#include \"a.h\"\n")), &[], &mut recorded);
    extract_reusing(&with(("y.c", "#include \"a.h\"\n")), &[], &mut recorded);
    let w = with((
        "w.c",
        "#include \"a.h\"\nstruct other {\n#include \"fields.h\"\n};\n",
    ));
    let (facts, _) = extract_reusing(&w, &[], &mut recorded);
    let r = render(&facts);
    assert!(r.contains("ops::f1"), "{r}");
    assert_eq!(r, render(&extract_files(&w)));
}

#[test]
fn a_header_entered_twice_has_no_key() {
    let mut recorded = Recorded::default();
    let twice = [
        (
            "t.c",
            "#define X 1\n#include \"t.h\"\n#undef X\n#define Y 2\n#include \"t.h\"\n",
        ),
        ("t.h", "int f(void);\n"),
    ];
    extract_reusing(&twice, &[], &mut recorded);
    assert!(recorded.0.is_empty(), "no header of the unit has a key");
}

#[test]
fn a_taken_header_whose_symbols_read_otherwise_is_hashed_again() {
    // `extract_reusing` checks that every chunk hash taken as recorded is the one the
    // facts give. The unit names a parameter the recorded chunk left unnamed ...
    let h = "int reg(int (*)(void));\nint g(void);\nstatic inline int k(void) { return reg(g); }\n";
    let mut recorded = Recorded::default();
    extract_reusing(
        &[("u1.c", "#include \"h.h\"\n"), ("h.h", h)],
        &[],
        &mut recorded,
    );
    let u2 = [
        (
            "u2.c",
            "#include \"h.h\"\nint reg(int (*cb)(void)) { return cb(); }\n",
        ),
        ("h.h", h),
    ];
    assert_eq!(extract_reusing(&u2, &[], &mut recorded).1, 1);
    // ... or another header taken before named it otherwise.
    let h1 =
        "int reg(int (*fn)(void));\nint g(void);\nstatic inline int k1(void) { return reg(g); }\n";
    let h2 =
        "int reg(int (*cb)(void));\nint g(void);\nstatic inline int k2(void) { return reg(g); }\n";
    let unit = |main: &'static str, text: &'static str| [(main, text), ("h1.h", h1), ("h2.h", h2)];
    let mut recorded = Recorded::default();
    extract_reusing(&unit("u0.c", "#include \"h1.h\"\n"), &[], &mut recorded);
    extract_reusing(&unit("u1.c", "#include \"h2.h\"\n"), &[], &mut recorded);
    let both = unit("u2.c", "#include \"h1.h\"\n#include \"h2.h\"\n");
    assert_eq!(extract_reusing(&both, &[], &mut recorded).1, 2);
}

/// The kernel's way to a name of its own for each use: `__UNIQUE_ID`, and
/// `compiletime_assert`'s `__compiletime_assert_N`.
const COUNTER_H: &str = "#ifndef COUNTER_H\n#define COUNTER_H\n#define PASTE_(a, b) a##b\n\
    #define PASTE(a, b) PASTE_(a, b)\n\
    #define UNIQUE_ID(p) PASTE(PASTE(__UNIQUE_ID_, p), __COUNTER__)\n\
    #define ASSERT__(c, p, n) do { extern void p ## n(void); \\\n\
        if (!(c)) p ## n(); } while (0)\n\
    #define ASSERT_(c, p, n) ASSERT__(c, p, n)\n\
    #define ASSERT(c) ASSERT_(c, __compiletime_assert_, __COUNTER__)\n\
    #define KEEP(sym) static void *UNIQUE_ID(keep) __attribute__((used)) = (void *)&sym;\n#endif\n";

/// The bodies recorded for a header with text `h`, read with the tests' arguments.
fn recorded_bodies<'r>(recorded: &'r Recorded, h: &str) -> &'r Vec<(u32, u32)> {
    let config = super::headers::Config::new(&test_args(&[]), b"test").blanking();
    &recorded.1[&config.bodies_key(h.as_bytes())]
}

/// How many units [`extract_reusing`] has parsed with headers blanked on this thread.
fn blanked_units() -> usize {
    BLANKED.with(std::cell::Cell::get)
}

#[test]
fn a_unit_blanks_the_bodies_of_recorded_headers_and_keeps_the_facts_of_the_whole_parse() {
    let h = "#define TWICE(x) ((x) * 2)\nint helper(int);\nextern int level;\n\
        static inline int shared(int v) { return helper(TWICE(v)) + level; }\n\
        struct ops { int (*run)(int); };\n\
        static inline void set(struct ops *o) { o->run = helper; }\n";
    let mut recorded = Recorded::default();
    extract_reusing(
        &[
            (
                "a.c",
                "#include \"h.h\"\nint a(void) { return shared(1); }\n",
            ),
            ("h.h", h),
        ],
        &[],
        &mut recorded,
    );
    assert_eq!(
        recorded_bodies(&recorded, h).len(),
        2,
        "both bodies may be blanked"
    );
    let before = blanked_units();
    // `extract_reusing` checks that the facts are those of the whole parse.
    let (facts, taken) = extract_reusing(
        &[
            (
                "b.c",
                "#include \"h.h\"\nint b(struct ops *o) { set(o); return o->run(2); }\n",
            ),
            ("h.h", h),
        ],
        &[],
        &mut recorded,
    );
    assert_eq!((blanked_units() - before, taken), (1, 1));
    let r = render(&facts);
    assert!(r.contains("call shared -> helper"), "{r}");
    assert!(r.contains("call b -> set"), "{r}");
}

#[test]
fn a_blanked_header_that_reads_otherwise_is_parsed_again_whole() {
    // The bodies name `helper` and `MODE`: a unit that defines either as a macro
    // before the header reads the bodies otherwise, which its key tells although
    // they were blanked.
    let h = "int helper(int);\nint other(int);\n\
        static inline int shared(int v) { return helper(v + MODE); }\n";
    let mut recorded = Recorded::default();
    extract_reusing(
        &[("a.c", "#define MODE 1\n#include \"h.h\"\n"), ("h.h", h)],
        &[],
        &mut recorded,
    );
    for main in [
        "#define MODE 2\n#include \"h.h\"\n",
        "#define MODE 1\n#define helper other\n#include \"h.h\"\n",
    ] {
        let before = blanked_units();
        let files = [("b.c", main), ("h.h", h)];
        let (facts, taken) = extract_reusing(&files, &[], &mut recorded.clone());
        assert_eq!((blanked_units() - before, taken), (0, 0), "{main}");
        assert_eq!(render(&facts), render(&extract_files(&files)), "{main}");
    }
    // Read the same way, the header is blanked and taken.
    let before = blanked_units();
    let files = [("c.c", "#define MODE 1\n#include \"h.h\"\n"), ("h.h", h)];
    assert_eq!(extract_reusing(&files, &[], &mut recorded).1, 1);
    assert_eq!(blanked_units() - before, 1);
}

#[test]
fn a_body_that_reaches_the_counter_is_blanked_and_the_count_kept() {
    // `a`'s and `p`'s bodies reach the counter (`p` through a name a paste makes):
    // blanked, their expansions still count, so the unit's own pasted names keep
    // their numbers. `e`'s declares `later` for the rest of the unit (which `m.h`
    // uses): not blanked.
    let h = "#include \"counter.h\"\nint g(void);\n\
        #define VIA_1() ASSERT(1)\n#define VIA(n) VIA_##n()\n\
        static inline int a(void) { ASSERT(sizeof(int) == 4); return g(); }\n\
        static inline int p(void) { VIA(1); return g(); }\n\
        static inline int e(void) { extern int later; return 0; }\n\
        static inline int b(void) { return g(); }\n";
    let m = "extern int later;\nstatic inline void set_later(int v) { later = v; }\n";
    let unit = |main: &'static str, text: &'static str| {
        [
            (main, text),
            ("counter.h", COUNTER_H),
            ("h.h", h),
            ("m.h", m),
        ]
    };
    let mut recorded = Recorded::default();
    extract_reusing(&unit("x.c", "#include \"h.h\"\n"), &[], &mut recorded);
    let ranges = recorded_bodies(&recorded, h);
    let bodies: Vec<&str> = ranges
        .iter()
        .map(|&(s, e)| &h[s as usize..e as usize])
        .collect();
    assert_eq!(
        bodies,
        [
            " ASSERT(sizeof(int) == 4); return g(); ",
            " VIA(1); return g(); ",
            " return g(); "
        ]
    );
    let blanked = super::blank::blank(h.as_bytes(), ranges).expect("bodies blanked");
    assert_eq!(
        String::from_utf8(blanked)
            .expect("ASCII")
            .lines()
            .collect::<Vec<_>>()[4..8],
        [
            "static inline int a(void) {$(ASSERT(sizeof(int)==4)return g())    }",
            "static inline int p(void) {$(VIA(1)return g())  }",
            "static inline int e(void) { extern int later; return 0; }",
            "static inline int b(void) {$(return g())}",
        ]
    );
    let before = blanked_units();
    // `extract_reusing` checks that the facts are those of the whole parse.
    let (facts, taken) = extract_reusing(
        &unit(
            "y.c",
            "#include \"h.h\"\n#include \"m.h\"\nint f(void);\nKEEP(f)\n",
        ),
        &[],
        &mut recorded,
    );
    assert_eq!((blanked_units() - before, taken), (1, 2));
    let r = render(&facts);
    assert!(r.contains("__UNIQUE_ID_keep2"), "{r}");
}

#[test]
fn a_macro_a_file_entered_again_defines_within_the_header_is_in_its_key() {
    // `m.h`, first read by the unit itself, defines `helper` only when entered again
    // from `h.h`: `f`'s body then reads `other`.
    let m = "#ifdef WANT_HELPER\n#define helper(x) other(x)\n#endif\n";
    let h = "#include \"m.h\"\nstatic inline int f(int v) { return helper(v); }\n";
    let decls = "int helper(int);\nint other(int);\n";
    let mut recorded = Recorded::default();
    let a = format!("{decls}#include \"h.h\"\n");
    extract_reusing(&[("a.c", &a), ("h.h", h), ("m.h", m)], &[], &mut recorded);
    let b = format!("{decls}#include \"m.h\"\n#define WANT_HELPER\n#include \"h.h\"\n");
    let files = [("b.c", b.as_str()), ("h.h", h), ("m.h", m)];
    let (facts, _) = extract_reusing(&files, &[], &mut recorded);
    assert_eq!(render(&facts), render(&extract_files(&files)));
    assert!(render(&facts).contains("f -> other"), "{}", render(&facts));
}

#[test]
fn a_body_read_otherwise_than_the_key_sees_it_is_not_blanked() {
    // A directive after a comment, a line splice inside a name, `$` in a name,
    // `_Pragma` (directly or through a macro): each would read differently whole
    // than its key says.
    let h = "int helper(int);\nint get$val(int);\n#define PUSH _Pragma(\"pack(1)\")\n\
        static inline int d(void) {\n  /* done */ #undef PICK\n  return 0;\n}\n\
        static inline int s(int v) { return hel\\\nper(v); }\n\
        static inline int g(int v) { return get$val(v); }\n\
        static inline void p(void) { _Pragma(\"pack(1)\") }\n\
        static inline void q(void) { PUSH }\n\
        static inline int b(int v) { return helper(v); }\n";
    let mut recorded = Recorded::default();
    extract_reusing(
        &[("x.c", "#define PICK 1\n#include \"h.h\"\n"), ("h.h", h)],
        &[],
        &mut recorded,
    );
    let ranges = recorded_bodies(&recorded, h);
    assert_eq!(ranges.len(), 1, "b's body alone: {ranges:?}");
    assert_eq!(
        &h[ranges[0].0 as usize..ranges[0].1 as usize],
        " return helper(v); "
    );
}

#[test]
fn a_header_that_names_what_the_counter_made_is_not_recorded() {
    let mut recorded = Recorded::default();
    let unit = [
        ("c.c", "#include \"c.h\"\n"),
        ("counter.h", COUNTER_H),
        ("c.h", "#include \"counter.h\"\nint f(void);\nKEEP(f)\n"),
    ];
    let (facts, _) = extract_reusing(&unit, &[], &mut recorded);
    assert!(
        render(&facts).contains("__UNIQUE_ID_keep0"),
        "{}",
        render(&facts)
    );
    // `counter.h` is recorded (its macros make nothing), `c.h` is not.
    assert_eq!(recorded.0.len(), 1);
    // Nor when what it names is a member of a struct the counter named.
    let mut recorded = Recorded::default();
    let unit = [
        ("d.c", "#include \"d.h\"\n"),
        ("counter.h", COUNTER_H),
        (
            "s.h",
            "#include \"counter.h\"\nstruct UNIQUE_ID(s) { int (*fn)(void); };\n",
        ),
        (
            "d.h",
            "#include \"s.h\"\nstatic inline void d(struct __UNIQUE_ID_s0 *p, int (*g)(void))\n\
             { ASSERT(1); p->fn = g; }\n",
        ),
    ];
    extract_reusing(&unit, &[], &mut recorded);
    assert_eq!(recorded.0.len(), 1, "counter.h alone is recorded");
    // Nor when it is a parameter's name.
    let mut recorded = Recorded::default();
    let h = "#include \"counter.h\"\nint g(void);\n\
        static inline int call(int (*UNIQUE_ID(cb))(void)) { return 0; }\n\
        static inline int k(void) { return call(g); }\n";
    let unit = [
        ("p.c", "#include \"counter.h\"\n#include \"h.h\"\n"),
        ("counter.h", COUNTER_H),
        ("h.h", h),
    ];
    extract_reusing(&unit, &[], &mut recorded);
    assert_eq!(recorded.0.len(), 1, "counter.h alone is recorded");
}

#[test]
fn a_header_whose_counter_makes_no_fact_is_taken_wherever_the_count_stands() {
    // `ASSERT` names a function after the counter, but nothing records it (a
    // `__compiletime_assert_N` is never called): `a.h`'s facts are the same in a unit
    // that counted before including it.
    let a_h = "#include \"counter.h\"\nint g(void);\n\
        static inline int a(void) { ASSERT(sizeof(int) == 4); return g(); }\n";
    let unit = |main: &'static str, text: &'static str| {
        [(main, text), ("counter.h", COUNTER_H), ("a.h", a_h)]
    };
    let mut recorded = Recorded::default();
    let (_, taken) = extract_reusing(
        &unit("x.c", "#include \"counter.h\"\n#include \"a.h\"\n"),
        &[],
        &mut recorded,
    );
    assert_eq!(taken, 0);
    assert_eq!(recorded.0.len(), 2, "a.h and counter.h are recorded");
    let later = unit(
        "y.c",
        "#include \"counter.h\"\nint n = __COUNTER__ + __COUNTER__;\n#include \"a.h\"\n\
         int y(void) { return a(); }\n",
    );
    let (facts, taken) = extract_reusing(&later, &[], &mut recorded);
    assert_eq!(taken, 2);
    let r = render(&facts);
    assert!(r.contains("a -> g"), "{r}");
    assert_eq!(r, render(&extract_files(&later)));
}

#[test]
fn the_configuration_a_command_line_include_reads_is_in_every_key() {
    let unit = |config: &str| {
        [
            ("u.c".to_owned(), "#include \"shared.h\"\n".to_owned()),
            ("shared.h".to_owned(), SHARED_H.to_owned()),
            ("config.h".to_owned(), config.to_owned()),
        ]
    };
    let run = |config: &str, recorded: &mut Recorded| {
        let files = unit(config);
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        extract_reusing(&files, &["LEVEL=1", "-include /t/config.h"], recorded).1
    };
    let mut recorded = Recorded::default();
    run("#define CONFIG_A 1\n", &mut recorded);
    // shared.h and config.h itself.
    assert_eq!(run("#define CONFIG_A 1\n", &mut recorded), 2);
    assert_eq!(run("#define CONFIG_A_MODULE 1\n", &mut recorded), 0);
}

#[test]
fn a_generic_selection_among_functions_of_one_type_calls_the_one_its_type_names() {
    // The kernel's kmem_cache_create(): two associations are functions of one type.
    check_only(
        "call",
        "struct args { int a; };\n\
         int with_args(const char *n, struct args *a);\n\
         int default_args(const char *n, struct args *a);\n\
         int legacy(const char *n, long a);\n\
         #define create(n, a) _Generic((a), \\\n\
         \tstruct args *: with_args, \\\n\
         \tvoid *: default_args, \\\n\
         \tdefault: legacy)(n, a)\n\
         int f(void) { struct args x = { 1 }; return create(\"x\", &x); }\n\
         int g(void) { return create(\"y\", (void *)0); }\n\
         int h(void) { return create(\"z\", 0L); }\n",
        expect![[r#"
            call f -> with_args at t.c:9:45 via create
            call g -> default_args at t.c:10:22 via create
            call h -> legacy at t.c:11:22 via create
        "#]],
    );
}

#[test]
fn builtin_choose_expr_runs_only_the_arm_its_constant_picks() {
    check_only(
        "call",
        "int fa(void);\nint fb(void);\nint g(void);\n\
         #define pick(c) __builtin_choose_expr(c, fa(), fb())\n\
         int f(void) { return pick(sizeof(int) == 4) + __builtin_choose_expr(0, fa(), fb()); }\n\
         int h(int x) { return __builtin_choose_expr(__builtin_constant_p(x), fa(), fb()) + __builtin_choose_expr(1, g(), 0); }\n",
        expect![[r#"
            call f -> fa at t.c:5:22 via pick
            call f -> fa at t.c:5:72 dead
            call f -> fb at t.c:5:22 via pick dead
            call f -> fb at t.c:5:78
            call h -> fa at t.c:6:70
            call h -> fb at t.c:6:76
            call h -> g at t.c:6:109
        "#]],
    );
}

// ---- Aliases ----

/// `SYSCALL_DEFINEx` where the architecture has no syscall wrappers (UML): `sys_read`
/// is declared an alias of `__se_sys_read`, defined after it.
const SYSCALL_H: &str = "#define __stringify_1(x...) #x\n\
    #define __stringify(x...) __stringify_1(x)\n\
    #define __alias(symbol) __attribute__((__alias__(#symbol)))\n\
    #define SYSCALL_DEFINE1(name, t, a) \\\n\
    \tlong sys_##name(t a) __attribute__((alias(__stringify(__se_sys_##name)))); \\\n\
    \tstatic inline long __do_sys_##name(t a); \\\n\
    \tlong __se_sys_##name(long a); \\\n\
    \tlong __se_sys_##name(long a) { return __do_sys_##name((t)a); } \\\n\
    \tstatic inline long __do_sys_##name(t a)\n\
    int ksys_close(int fd);\n\
    void __attribute__((unused)) unused_proto(void);\n";

#[test]
fn an_alias_is_a_definition_joined_to_its_target() {
    check_only(
        "",
        &format!(
            "{SYSCALL_H}SYSCALL_DEFINE1(close, int, fd)\n{{\n\treturn ksys_close(fd);\n}}\n\
             static long do_it(long x) {{ return x; }}\nlong it(long x) __alias(do_it);\n"
        ),
        expect![[r#"
            call __do_sys_close -> ksys_close at t.c:14:9
            call __se_sys_close -> __do_sys_close at t.c:12:1 via SYSCALL_DEFINE1
            call it -> do_it at t.c:17:6 alias
            call sys_close -> __se_sys_close at t.c:12:1 via SYSCALL_DEFINE1 alias
            def function external __se_sys_close at t.c:12:1 via SYSCALL_DEFINE1
            def function external it at t.c:17:6
            def function external ksys_close at t.c:10:5 declaration
            def function external sys_close at t.c:12:1 via SYSCALL_DEFINE1
            def function internal __do_sys_close at t.c:12:1 via SYSCALL_DEFINE1
            def function internal do_it at t.c:16:13
            def macro none SYSCALL_DEFINE1 at t.c:4:9
            def macro none __alias at t.c:3:9
            def macro none __stringify at t.c:2:9
            def macro none __stringify_1 at t.c:1:9
        "#]],
    );
}

/// With the unit's texts at hand (as when the facts cache is on), an attribute is
/// looked at only where it is spelled `alias`; the answer is the same.
#[test]
fn an_alias_spelled_in_a_header_macro() {
    let main =
        "#include \"sys.h\"\nSYSCALL_DEFINE1(close, int, fd)\n{\n\treturn ksys_close(fd);\n}\n";
    let (facts, _) = extract_reusing(
        &[("t.c", main), ("sys.h", SYSCALL_H)],
        &[],
        &mut Recorded::default(),
    );
    let all = render(&facts);
    let some: String = all
        .lines()
        .filter(|l| l.contains("sys_close") || l.contains("unused_proto"))
        .map(|l| format!("{l}\n"))
        .collect();
    expect![[r#"
        call __do_sys_close -> ksys_close at t.c:4:9
        call __se_sys_close -> __do_sys_close at t.c:2:1 via SYSCALL_DEFINE1
        call sys_close -> __se_sys_close at t.c:2:1 via SYSCALL_DEFINE1 alias
        def function external __se_sys_close at t.c:2:1 via SYSCALL_DEFINE1
        def function external ksys_close at sys.h:10:5 declaration
        def function external sys_close at t.c:2:1 via SYSCALL_DEFINE1
        def function internal __do_sys_close at t.c:2:1 via SYSCALL_DEFINE1
    "#]]
    .assert_eq(&some);
}

// ---- Macro expansions ----

/// A function-like macro expanded in a body is a use of it by that function, at the
/// place it is written; one expanded inside another macro's definition, an
/// object-like macro, and an expansion outside any body are not.
#[test]
fn function_like_macros_expanded_in_bodies() {
    check_only(
        "use",
        "#define ONE 1\n#define likely(x) __builtin_expect(!!(x), 1)\n\
         #define WARN_ON(c) ({ int __ret = !!(c); if (likely(__ret)) report(); __ret; })\n\
         void report(void);\nint table[2] = { ONE, likely(1) };\n\
         int check(int v)\n{\n\tif (WARN_ON(v > ONE))\n\t\treturn likely(v);\n\treturn 0;\n}\n",
        expect![[r#"
            use check expand WARN_ON at t.c:8:6
            use check expand likely at t.c:9:10
        "#]],
    );
}

/// The kernel's `cond_syscall`: a system call this configuration leaves out is a weak
/// alias of `sys_ni_syscall`, made by a file-scope `asm` (kernel/sys_ni.c).
#[test]
fn a_file_scope_asm_set_is_an_alias() {
    check_only(
        "",
        "#define cond_syscall(x) asm(\".weak\\t\" #x \"\\n\\t.set\\t\" #x \",sys_ni_syscall\")\n\
         #define COND_SYSCALL(name) cond_syscall(sys_##name)\n\
         long sys_ni_syscall(void) { return -38; }\nCOND_SYSCALL(kexec_load);\n\
         asm(\".globl other\\n.settings x,y\\n.equ  two , sys_ni_syscall\");\n",
        expect![[r#"
            call sys_kexec_load -> sys_ni_syscall at t.c:4:1 via COND_SYSCALL alias weak
            call two -> sys_ni_syscall at t.c:5:1 alias
            def function external sys_kexec_load at t.c:4:1 via COND_SYSCALL
            def function external sys_ni_syscall at t.c:3:6
            def function external two at t.c:5:1
            def macro none COND_SYSCALL at t.c:2:9
            def macro none cond_syscall at t.c:1:9
        "#]],
    );
}

/// The lines each file's preprocessor skipped, as `FILE: FIRST-LAST ...`.
fn skipped_of(facts: &TuFacts) -> Vec<String> {
    let mut v: Vec<String> = facts
        .skipped
        .iter()
        .map(|k| {
            let lines: Vec<String> = k.lines.iter().map(|(a, b)| format!("{a}-{b}")).collect();
            format!("{}: {}", facts[k.file].path, lines.join(" "))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_lines_a_configuration_compiled_out_are_skipped() {
    let facts = extract_files(&[
        (
            "a.c",
            "#include \"h.h\"\n\
             #ifdef CONFIG_FOO\n\
             int foo(void) { return 1; }\n\
             #else\n\
             int bar(void) { return 0; }\n\
             #endif\n\
             #if 0\n\
             one\n\
             #elif 0\n\
             two\n\
             #endif\n",
        ),
        (
            "h.h",
            "#ifndef H_H\n#define H_H\n#ifdef MODULE\nint in_module;\n#endif\n#endif\n",
        ),
    ]);
    // An `#elif` not taken after an `#if` not taken: libclang's one range, without
    // the `#elif` line.
    assert_eq!(skipped_of(&facts), ["a.c: 3-3 8-8 10-10", "h.h: 4-4"]);
}

#[test]
fn a_file_entered_twice_is_skipped_where_both_entries_skipped() {
    let facts = extract_files(&[
        (
            "a.c",
            "#include \"t.h\"\n#define SECOND\n#include \"t.h\"\n",
        ),
        (
            "t.h",
            "#ifdef SECOND\nint second;\n#else\nint first;\n#endif\n#if 0\nnever\n#endif\n",
        ),
    ]);
    assert_eq!(skipped_of(&facts), ["a.c: ", "t.h: 7-7"]);
}

/// A macro expanded in a header is a symbol of the file and place that define it:
/// another unit that defines it alike elsewhere (in its own file, or further down a
/// header) reads the header under another key, so that the header's uses name its
/// own macro.
#[test]
fn a_macro_defined_alike_elsewhere_keys_the_header_apart() {
    let h = "static inline int twice_of(int v) { return TWICE(v); }\n";
    let unit = "#include \"t.h\"\nint u(void) { return twice_of(1); }\n";
    // (The name split by a line splice, too.)
    for twice in [
        "#define TWICE(x) ((x) * 2)\n",
        "#define TWI\\\nCE(x) ((x) * 2)\n",
    ] {
        let (a, b) = (format!("{twice}{unit}"), format!("int b0;\n{twice}{unit}"));
        let taken = extract_in_turn(&[
            vec![("a.c", a.as_str()), ("t.h", h)],
            vec![("b.c", b.as_str()), ("t.h", h)],
        ]);
        assert_eq!(taken, [0, 0], "{twice}");
    }
    // Defined in a header whose text moves the definition down.
    let unit = "#include \"m.h\"\n#include \"t.h\"\nint u(void) { return twice_of(1); }\n";
    let taken = extract_in_turn(&[
        vec![
            ("u.c", unit),
            ("m.h", "#define TWICE(x) ((x) * 2)\n"),
            ("t.h", h),
        ],
        vec![
            ("u.c", unit),
            ("m.h", "int m0;\n#define TWICE(x) ((x) * 2)\n"),
            ("t.h", h),
        ],
    ]);
    assert_eq!(taken, [0, 0]);
}

/// Units taking from one another what they record, each in turn: each one's facts
/// are those of a plain extraction. How many headers each took.
fn extract_in_turn(units: &[Vec<(&str, &str)>]) -> Vec<usize> {
    let mut recorded = Recorded::default();
    let mut taken = Vec::new();
    for files in units {
        let (facts, reused) = extract_reusing(files, &[], &mut recorded);
        assert_eq!(
            render(&facts),
            render(&extract_files(files)),
            "{}",
            files[0].0
        );
        taken.push(reused);
    }
    taken
}

/// A function or variable a header's code names through a declaration inside its
/// function body is declared there in every unit that does not define it, the header
/// taken as recorded or not: such a header is not recorded, whatever the recording
/// unit declared first or defined itself.
#[test]
fn a_declaration_inside_a_header_body_is_kept_when_the_header_is_taken() {
    let h = "static inline int f(void) { int g(int); extern int level; return g(level); }\n";
    let unit = "#include \"h.h\"\nint u(void) { return f(); }\n";
    for first in [
        unit.to_owned(),
        format!("extern int level;\nint g(int);\n{unit}"),
        format!("int m(void) {{ extern int level; return level; }}\n{unit}"),
        format!("{unit}int level = 1;\nint g(int v) {{ return v; }}\n"),
    ] {
        let taken = extract_in_turn(&[
            vec![("a.c", first.as_str()), ("h.h", h)],
            vec![("b.c", unit), ("h.h", h)],
        ]);
        assert_eq!(taken, [0, 0], "{first}");
    }
}

/// An `#undef` however it is spelled keeps the header that reads the macro undone
/// from being taken by a unit that reads it defined (`t.h`'s `N` names `M`; both
/// units define `M` before the `#include` and after it, the first undoes it between).
#[test]
fn an_undef_spelled_with_comments_or_splices_is_seen() {
    let t = "int (M)(int);\n#define N(x) M(x)\nstatic inline int f(void) { return N(1); }\n";
    for (undef, include) in [
        ("#undef M", "#include \"t.h\""),
        ("#undef /* again below */ M", "#include \"t.h\""),
        ("#undef M", "/* t */ #include \"t.h\""),
        ("%:undef M", "#include \"t.h\""),
        ("#\\\nundef M", "#include \"t.h\""),
    ] {
        let unit = |undef: &str| {
            format!(
                "int g(int);\n#define M(x) g(x)\n{undef}\n{include}\n#define M(x) g(x)\n\
                 int u(void) {{ return f(); }}\n"
            )
        };
        let (a, b) = (unit(undef), unit(""));
        let taken = extract_in_turn(&[
            vec![("a.c", a.as_str()), ("t.h", t)],
            vec![("b.c", b.as_str()), ("t.h", t)],
        ]);
        assert_eq!(taken, [0, 0], "{undef} {include}");
    }
}

/// A macro named without arguments in another macro's arguments is expanded only
/// once that macro's text puts it in place (`bitfield.h`'s `____MAKE_OP(le, 16,
/// cpu_to_le16, le16_to_cpu)`): units defining it otherwise read the header otherwise.
/// (The `#` keeps `k`'s body from being one a unit may blank, whose names are all in
/// the key.)
#[test]
fn a_macro_passed_by_name_to_another_is_in_the_key() {
    let t = "#define CALL(m, v) m(v)\n\
        static inline int k(int v) { const char *s = \"#\"; return CALL(PICK, v); }\n\
        #define MAKE(name, op) static inline int name(int v) { return op(v); }\n\
        MAKE(made, /* the op */ PICK)\n";
    let unit = |pick: &str| {
        format!(
            "int g(int);\nint h(int);\n#define PICK(x) {pick}(x)\n#include \"t.h\"\n\
             int u(void) {{ return k(1) + made(2); }}\n"
        )
    };
    let (a, b, c) = (unit("g"), unit("h"), unit("g"));
    let taken = extract_in_turn(&[
        vec![("a.c", a.as_str()), ("t.h", t)],
        vec![("b.c", b.as_str()), ("t.h", t)],
        vec![("c.c", c.as_str()), ("t.h", t)],
    ]);
    assert_eq!(taken, [0, 0, 1], "read alike, the header is taken");
}

#[test]
fn a_header_reads_alike_whether_its_own_include_or_an_earlier_file_defines_a_macro() {
    // `h.h` includes `m.h`, which defines `HELP`, before its text names it: a unit
    // that read `m.h` first and one that reads it through `h.h` key `h.h` alike.
    let m = "#ifndef M_H\n#define M_H\n#define HELP(x) ((x) + 1)\n#define SLOT other\n#endif\n";
    let h = "#ifndef H_H\n#define H_H\n#include \"m.h\"\n\
        int other(int);\nstatic inline int f(int v) { return SLOT(HELP(v)); }\n#endif\n";
    let files = [
        ("b.c", "#include \"h.h\"\nint g(void) { return f(1); }\n"),
        ("h.h", h),
        ("m.h", m),
    ];
    let (facts, taken) = recorded_then_taken(
        &[
            ("a.c", "#include \"m.h\"\n#include \"h.h\"\n"),
            ("h.h", h),
            ("m.h", m),
        ],
        &files,
    );
    assert_eq!(taken, 2, "h.h and m.h taken as recorded");
    assert_eq!(render(&facts), render(&extract_files(&files)));
    assert!(render(&facts).contains("f -> other"), "{}", render(&facts));
}

#[test]
fn a_header_that_names_a_macro_before_its_include_defines_it_reads_otherwise() {
    // `early` is initialized before `m.h` defines `helper`: `helper` itself in a unit
    // that reads `m.h` through `h.h`, `other` in one that read `m.h` first.
    let m = "#ifndef M_H\n#define M_H\n#define helper other\n#endif\n";
    let h = "#ifndef H_H\n#define H_H\nint helper(int);\nint other(int);\n\
        int (*early)(int) = helper;\n#include \"m.h\"\n\
        static inline int f(int v) { return helper(v); }\n#endif\n";
    // Through a macro written before the `#include` that reaches it, too.
    let via = "#ifndef H_H\n#define H_H\nint helper(int);\nint other(int);\n\
        #define EARLY helper\nint (*early)(int) = EARLY;\n#include \"m.h\"\n#endif\n";
    for h in [h, via] {
        let files = [("b.c", "#include \"h.h\"\n"), ("h.h", h), ("m.h", m)];
        let (facts, _) = recorded_then_taken(
            &[
                ("a.c", "#include \"m.h\"\n#include \"h.h\"\n"),
                ("h.h", h),
                ("m.h", m),
            ],
            &files,
        );
        assert_eq!(render(&facts), render(&extract_files(&files)), "{h}");
        assert!(render(&facts).contains("early"), "{}", render(&facts));
    }
}

#[test]
fn a_macro_defined_through_a_file_entered_more_than_once_counts_as_defined_before() {
    // `w.h` has no guard (as kbuild's generated `asm/` wrappers): every unit enters it
    // again; `m.h` is read through its first entry, within `h.h` in `b.c`.
    let m = "#ifndef M_H\n#define M_H\n#define HELP(x) ((x) + 1)\n#endif\n";
    let w = "#include \"m.h\"\n";
    let h = "#ifndef H_H\n#define H_H\n#include \"w.h\"\n#include \"n.h\"\n\
        static inline int f(int v) { return HELP(v) + N; }\n#endif\n";
    let n = "#ifndef N_H\n#define N_H\n#define N 2\n#endif\n";
    let unit = |main: &'static str, text: &'static str| {
        [(main, text), ("h.h", h), ("w.h", w), ("m.h", m), ("n.h", n)]
    };
    let files = unit(
        "b.c",
        "#include \"h.h\"\n#include \"w.h\"\nint g(void) { return f(1); }\n",
    );
    let (facts, taken) =
        recorded_then_taken(&unit("a.c", "#include \"w.h\"\n#include \"h.h\"\n"), &files);
    assert_eq!(render(&facts), render(&extract_files(&files)));
    assert_eq!(taken, 3, "h.h, m.h and n.h taken as recorded");
}

/// Records the headers of the unit `first`, then extracts `then` taking what it may:
/// its facts and how many headers it took.
fn recorded_then_taken(first: &[(&str, &str)], then: &[(&str, &str)]) -> (TuFacts, usize) {
    let mut recorded = Recorded::default();
    extract_reusing(first, &[], &mut recorded);
    extract_reusing(then, &[], &mut recorded)
}

/// `h.h` read in a unit that read `m.h` first, then in one that reads `m.h` through
/// `h.h`: the second takes what it may of the first's and has the whole parse's facts.
fn same_facts_in_both_orders(h: &str, m: &str, more: &[(&str, &str)]) {
    let unit = |main: &'static str, text: &'static str| {
        let mut files = vec![(main, text), ("h.h", h), ("m.h", m)];
        files.extend_from_slice(more);
        files
    };
    let files = unit("b.c", "#include \"h.h\"\n");
    let (facts, taken) =
        recorded_then_taken(&unit("a.c", "#include \"m.h\"\n#include \"h.h\"\n"), &files);
    assert_eq!(
        render(&facts),
        render(&extract_files(&files)),
        "taken {taken}\n{h}"
    );
}

#[test]
fn a_name_pasted_before_the_include_that_defines_it_reads_otherwise() {
    // `CAT(HE, LP)` makes `HELP` before `m.h` defines it: `other` in one order, the
    // name `HELP` itself in the other.
    let m = "#ifndef M_H\n#define M_H\n#define HELP other\n#endif\n";
    let h = "#ifndef H_H\n#define H_H\n#define CAT(a, b) a##b\nint other(int);\n\
        int CAT(HE, LP)(int);\nint (*early)(int) = CAT(HE, LP);\n#include \"m.h\"\n\
        static inline int f(int v) { return HELP(v); }\n#endif\n";
    same_facts_in_both_orders(h, m, &[]);
}

#[test]
fn a_macro_pushed_and_popped_reads_otherwise_from_unit_to_unit() {
    // `pop_macro` gives back what the unit had when it pushed: nothing in one order,
    // `other` in the other; in the header's own text or in files it includes.
    let m = "#ifndef M_H\n#define M_H\n#define HELP other\n#endif\n";
    let code = "int ID(HELP)(int);\nstatic inline int f(int v) { return ID(HELP)(v); }\n#endif\n";
    let own = format!(
        "#ifndef H_H\n#define H_H\n#define ID(x) x\nint other(int);\n\
         #pragma push_macro(\"HELP\")\n#include \"m.h\"\n#pragma pop_macro(\"HELP\")\n{code}"
    );
    same_facts_in_both_orders(&own, m, &[]);
    let p = "#ifndef P_H\n#define P_H\n#pragma push_macro(\"HELP\")\n#endif\n";
    let q = "#ifndef Q_H\n#define Q_H\n_Pragma(\"pop_macro(\\\"HELP\\\")\")\n#endif\n";
    let through = format!(
        "#ifndef H_H\n#define H_H\n#define ID(x) x\nint other(int);\n\
         #include \"p.h\"\n#include \"m.h\"\n#include \"q.h\"\n{code}"
    );
    same_facts_in_both_orders(&through, m, &[("p.h", p), ("q.h", q)]);
}

#[test]
fn a_blanked_body_whose_comment_a_splice_continues_is_left_whole() {
    // `\` and a blank before the line end splice the comment with the next line (for
    // clang): the `__COUNTER__` there is in no code.
    let t = "#ifndef T_H\n#define T_H\nstatic inline int f(void) { int x = 1; // note \\ \n\
        x = __COUNTER__;\n  return x;\n}\n#endif\n";
    let main = |name: &'static str| -> String {
        format!(
            "#include \"t.h\"\n#define CAT2(a, b) a##b\n#define CAT(a, b) CAT2(a, b)\n\
             int CAT({name}, __COUNTER__);\n"
        )
    };
    let (a, b) = (main("a"), main("b"));
    let files = [("b.c", b.as_str()), ("t.h", t)];
    let (facts, taken) = recorded_then_taken(&[("a.c", a.as_str()), ("t.h", t)], &files);
    assert_eq!(
        render(&facts),
        render(&extract_files(&files)),
        "taken {taken}"
    );
    assert!(render(&facts).contains("b0"), "{}", render(&facts));
}
