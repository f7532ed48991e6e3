//! Reading facts out of a parsed translation unit.

use std::collections::{HashMap, HashSet};

use schema::{
    Access, Kind, Linkage, NewCall, NewDefinition, NewFile, NewStore, NewSymbol, NewUse, TuFacts,
    TuStatus,
};

use crate::clang::{
    kind, Cursor, File, Operator, Severity, SourceLocation, TranslationUnit, Visit,
};
use crate::paths::PathMapper;

/// The facts of one translation unit and how well it parsed.
pub struct Extraction {
    pub facts: TuFacts,
    pub status: TuStatus,
    pub reason: Option<String>,
}

struct Ctx<'tu, 'p> {
    paths: &'p mut PathMapper,
    main_path: NewFile,
    facts: TuFacts,
    files: HashMap<File<'tu>, usize>,
    symbols: HashMap<String, usize>,
    /// Start of each macro expansion written in a file -> index into `macro_names`.
    expansions: HashMap<(File<'tu>, u32), u32>,
    macro_names: Vec<String>,
    macro_ids: HashMap<String, u32>,
    seen_defs: HashSet<(usize, usize, u32, u32)>,
    seen_calls: HashSet<(usize, usize, usize, u32, u32)>,
    seen_stores: HashSet<(usize, usize, usize, u32, u32)>,
    seen_uses: HashSet<(usize, usize, Access, usize, u32, u32)>,
    declared: HashSet<usize>,
    tentative: HashSet<usize>,
}

/// Extracts every fact of `tu`. `main` is the path of its source file as given to the
/// compiler.
pub fn extract(
    tu: &TranslationUnit<'_>,
    main: &std::ffi::OsStr,
    paths: &mut PathMapper,
) -> Extraction {
    let main_path = paths.file(main);
    // The main file comes first: facts that belong to the unit rather than to the
    // header they mention (declarations of what it calls) need it from the start.
    let facts = TuFacts {
        main_file: Some(0),
        files: vec![main_path.clone()],
        ..TuFacts::default()
    };
    let mut ctx = Ctx {
        paths,
        main_path,
        facts,
        files: HashMap::new(),
        symbols: HashMap::new(),
        expansions: HashMap::new(),
        macro_names: Vec::new(),
        macro_ids: HashMap::new(),
        seen_defs: HashSet::new(),
        seen_calls: HashSet::new(),
        seen_stores: HashSet::new(),
        seen_uses: HashSet::new(),
        declared: HashSet::new(),
        tentative: HashSet::new(),
    };
    let root = tu.cursor();

    // Preprocessing entities first, so that every declaration and call can be told
    // which macro expansion it came out of.
    root.visit_children(|c| {
        match c.kind() {
            kind::MACRO_EXPANSION => ctx.macro_expansion(c),
            kind::MACRO_DEFINITION => ctx.macro_definition(c),
            _ => {}
        }
        Visit::Continue
    });
    root.visit_children(|c| {
        ctx.top_level(c);
        Visit::Continue
    });

    // A variable used before its tentative definition (`int x;` further down) looked
    // undefined when it was met: it is not.
    let defined: HashSet<usize> = ctx
        .facts
        .definitions
        .iter()
        .filter(|d| d.definition)
        .map(|d| d.symbol)
        .collect();
    ctx.facts
        .definitions
        .retain(|d| d.definition || !defined.contains(&d.symbol));

    let errors: Vec<_> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= Severity::Error)
        .collect();
    let (status, reason) = match errors.first() {
        None => (TuStatus::Ok, None),
        Some(first) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(" (and {} more errors)", n - 1),
            };
            (TuStatus::Partial, Some(format!("{}{more}", first.text)))
        }
    };
    Extraction {
        facts: ctx.facts,
        status,
        reason,
    }
}

/// Resolved position of a name or call site.
struct Place {
    file: usize,
    line: u32,
    col: u32,
    macro_name: Option<String>,
}

impl<'tu> Ctx<'tu, '_> {
    fn file_index(&mut self, f: File<'tu>) -> usize {
        if let Some(&i) = self.files.get(&f) {
            return i;
        }
        let nf = self.paths.file(&f.name());
        let i = if nf == self.main_path {
            0
        } else {
            self.facts.files.push(nf);
            self.facts.files.len() - 1
        };
        self.files.insert(f, i);
        i
    }

    fn macro_expansion(&mut self, c: Cursor<'tu>) {
        let Some(pos) = c.location().file_location() else {
            return;
        };
        let name = c.spelling();
        let next = self.macro_names.len() as u32;
        let id = *self.macro_ids.entry(name.clone()).or_insert(next);
        if id == next {
            self.macro_names.push(name);
        }
        self.expansions.insert((pos.file, pos.offset), id);
    }

    /// The macro whose expansion produced `loc`, if any.
    /// The macro that produced `loc`: the innermost one whose name is written in the
    /// file (`access_ok` rather than the `unlikely` around it), else the outermost
    /// invocation (for a name passed as a macro argument). A macro named like the
    /// thing itself (`#define x x`) tells nothing and is passed over.
    fn macro_at(&self, loc: SourceLocation<'tu>, own_name: &str) -> Option<String> {
        let written = loc.file_location().map(|p| (p.file, p.offset));
        let outermost = loc.expansion_location().map(|p| (p.file, p.offset));
        [written, outermost]
            .into_iter()
            .flatten()
            .filter_map(|k| self.expansions.get(&k))
            .map(|&i| &self.macro_names[i as usize])
            .find(|m| *m != own_name)
            .cloned()
    }

    fn place(&mut self, loc: SourceLocation<'tu>, own_name: &str) -> Option<Place> {
        let pos = loc.file_location()?;
        let file = self.file_index(pos.file);
        Some(Place {
            file,
            line: pos.line,
            col: pos.col,
            macro_name: self.macro_at(loc, own_name),
        })
    }

    /// The symbol of declaration `c`, created on first sight.
    fn symbol(&mut self, c: Cursor<'tu>, kind: Kind, scope: Option<String>) -> Option<usize> {
        let mut usr = c.usr();
        if usr.is_empty() {
            return None;
        }
        // clang names file-local entities (statics, macros, anonymous types) after the
        // *base name* of their file: `fs/x/core.c` and `drivers/y/core.c` would collide.
        // C types have no linkage: `struct stat` of the kernel and of the C library,
        // or one `struct getdents_callback` in each of two files, are different types.
        // Both get the path of the file that defines them.
        let typeish = matches!(
            kind,
            Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Typedef
                | Kind::Field
                | Kind::Enumerator
        );
        if typeish || (usr.starts_with("c:") && !usr.starts_with("c:@")) {
            let first = c.definition().unwrap_or_else(|| c.canonical());
            if let Some(pos) = first.location().expansion_location() {
                let f = self.file_index(pos.file);
                usr = format!("{usr}@{}", self.facts.files[f].key());
            }
        }
        if let Some(&i) = self.symbols.get(&usr) {
            return Some(i);
        }
        let linkage = match kind {
            Kind::Function | Kind::Variable => match c.linkage() {
                crate::clang::Linkage::Internal => Linkage::Internal,
                // A function's own variable (a local pointer, a static local).
                crate::clang::Linkage::None if kind == Kind::Variable => Linkage::None,
                _ => Linkage::External,
            },
            _ => Linkage::None,
        };
        let i = self.facts.symbols.len();
        self.facts.symbols.push(NewSymbol {
            usr: usr.clone(),
            name: c.spelling(),
            scope,
            kind,
            linkage,
        });
        self.symbols.insert(usr, i);
        Some(i)
    }

    /// Records that `symbol` is defined (or declared) where `c` names it.
    fn define(&mut self, c: Cursor<'tu>, symbol: usize, definition: bool, owner_main: bool) {
        let name = self.facts.symbols[symbol].name.clone();
        let Some(p) = self.place(c.location(), &name) else {
            return;
        };
        if !self.seen_defs.insert((symbol, p.file, p.line, p.col)) {
            return;
        }
        let owner = if owner_main { 0 } else { p.file };
        self.facts.definitions.push(NewDefinition {
            symbol,
            file: p.file,
            line: p.line,
            col: p.col,
            macro_name: p.macro_name,
            definition,
            owner,
        });
    }

    fn define_new(&mut self, c: Cursor<'tu>, kind: Kind, scope: Option<String>) -> Option<usize> {
        let s = self.symbol(c, kind, scope)?;
        self.define(c, s, true, false);
        Some(s)
    }

    fn macro_definition(&mut self, c: Cursor<'tu>) {
        // Built-in and command-line macros have no file.
        if c.location().file_location().is_none() {
            return;
        }
        self.define_new(c, Kind::Macro, None);
    }

    fn top_level(&mut self, c: Cursor<'tu>) {
        match c.kind() {
            kind::FUNCTION_DECL => self.function(c),
            kind::VAR_DECL => self.variable(c),
            kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL => self.record(c),
            kind::TYPEDEF_DECL => {
                self.define_new(c, Kind::Typedef, None);
                // `typedef struct { ... } foo_t;` holds the struct itself.
                c.visit_children(|k| {
                    if matches!(
                        k.kind(),
                        kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL
                    ) {
                        self.record(k);
                    }
                    Visit::Continue
                });
            }
            _ => {}
        }
    }

    fn function(&mut self, c: Cursor<'tu>) {
        if !c.is_definition() {
            return;
        }
        let Some(sym) = self.define_new(c, Kind::Function, None) else {
            return;
        };
        let Some(owner) = c
            .location()
            .file_location()
            .map(|p| self.file_index(p.file))
        else {
            return;
        };
        let params = c
            .arguments()
            .iter()
            .enumerate()
            .map(|(i, p)| (p.usr(), i))
            .filter(|(usr, _)| !usr.is_empty())
            .collect();
        let f = Func {
            sym,
            owner,
            usr: self.facts.symbols[sym].usr.clone(),
            name: self.facts.symbols[sym].name.clone(),
            params,
        };
        // Parameters that hold functions are pointers like any other: name them where
        // the definition does.
        for (i, p) in c.arguments().into_iter().enumerate() {
            if p.ty().holds_function_pointer() {
                let s = self.parameter(&f.usr, &f.name, i, p.spelling());
                self.define(p, s, true, false);
            }
        }
        self.walk_children(c, &f, Access::Read);
    }

    fn walk_children(&mut self, c: Cursor<'tu>, f: &Func, access: Access) {
        for n in c.children() {
            self.walk(n, f, access);
        }
    }

    /// Walks an expression or statement of `f`'s body; `access` is how the value of
    /// `n` is used (written when it is the left side of an assignment, ...).
    fn walk(&mut self, n: Cursor<'tu>, f: &Func, access: Access) {
        match n.kind() {
            kind::CALL_EXPR => {
                self.call(n, f);
                // `__builtin_constant_p(f())` never runs its argument.
                let unevaluated = n
                    .referenced()
                    .is_some_and(|t| UNEVALUATED_BUILTINS.contains(&t.spelling().as_str()));
                if !unevaluated {
                    self.walk_children(n, f, Access::Read);
                }
            }
            kind::DECL_REF_EXPR => {
                self.variable_reference(n);
                let lives_on = n.referenced().filter(|v| {
                    is_global_variable(*v) || (v.kind() == kind::VAR_DECL && v.is_static())
                });
                if let Some(v) = lives_on {
                    if let Some(s) = self.variable_target(v, Some(f)) {
                        self.use_of(s, n, f, access);
                    }
                }
            }
            kind::MEMBER_REF_EXPR => {
                if let Some(field) = n.referenced().filter(|t| t.kind() == kind::FIELD_DECL) {
                    if let Some(s) = self.field_symbol(field) {
                        self.use_of(s, n, f, access);
                    }
                }
                // `s.x = 1` writes `s` too; `p->x = 1` only reads `p`.
                for base in n.children() {
                    let through_pointer = base.ty().is_pointer();
                    let a = if through_pointer {
                        Access::Read
                    } else {
                        access
                    };
                    self.walk(base, f, a);
                }
            }
            kind::BINARY_OPERATOR if n.operator() == Operator::Assign => {
                let kids = n.children();
                if let [lhs, rhs] = kids.as_slice() {
                    self.walk(*lhs, f, Access::Write);
                    self.walk(*rhs, f, Access::Read);
                    // Only an assignment of functions or of a braced list stores.
                    let mut values = Vec::new();
                    self.function_values(*rhs, Some(f), &mut values);
                    if !values.is_empty() || unwrap_expr(*rhs).kind() == kind::INIT_LIST_EXPR {
                        if let Some(target) = self.pointer_target(*lhs, Some(f)) {
                            self.initializer(Some(target), *rhs, Some(f), f.owner);
                        }
                    }
                } else {
                    self.walk_children(n, f, Access::Read);
                }
            }
            kind::COMPOUND_ASSIGN_OPERATOR => {
                let kids = n.children();
                for (i, k) in kids.into_iter().enumerate() {
                    self.walk(k, f, if i == 0 { Access::Write } else { Access::Read });
                }
            }
            kind::UNARY_OPERATOR => {
                let a = match n.operator() {
                    Operator::AddrOf => Access::Addr,
                    Operator::IncDec => Access::Write,
                    Operator::Deref => {
                        // `*&x` is `x` (READ_ONCE, WRITE_ONCE); `*p` reads `p`.
                        let inner = n.children().first().map(|k| strip_casts(*k));
                        if let Some(addr) = inner.filter(|i| {
                            i.kind() == kind::UNARY_OPERATOR && i.operator() == Operator::AddrOf
                        }) {
                            self.walk_children(addr, f, access);
                            return;
                        }
                        Access::Read
                    }
                    _ => Access::Read,
                };
                self.walk_children(n, f, a);
            }
            // Parentheses and implicit conversions pass the use through.
            kind::PAREN_EXPR | kind::UNEXPOSED_EXPR => self.walk_children(n, f, access),
            // A cast runs its operand, not the `typeof(...)` in its type.
            kind::CSTYLE_CAST_EXPR => {
                if let Some(operand) = n.children().last() {
                    self.walk(*operand, f, access);
                }
            }
            kind::ARRAY_SUBSCRIPT_EXPR => {
                // `a[i] = x` writes the array `a`, but not a pointer `p` in `p[i] = x`.
                for (i, k) in n.children().into_iter().enumerate() {
                    let a = if i == 0 && unwrap_expr(k).ty().is_array() {
                        access
                    } else {
                        Access::Read
                    };
                    self.walk(k, f, a);
                }
            }
            // A braced list in an expression (a compound literal): what it stores
            // into the members it names.
            kind::INIT_LIST_EXPR => {
                self.initializer(None, n, Some(f), f.owner);
                self.walk_children(n, f, Access::Read);
            }
            kind::VAR_DECL => {
                self.local_variable(n, f);
            }
            // `sizeof(f())` and `_Alignof` never run their operand (the kernel's
            // BUILD_BUG_ON_INVALID and VM_BUG_ON under !CONFIG_DEBUG_VM rely on it).
            kind::UNARY_EXPR => {}
            _ => self.walk_children(n, f, Access::Read),
        }
    }

    /// A variable declared in a function body: its initializer is read, and what it
    /// stores into the variable (a function pointer, a struct of them) is recorded.
    fn local_variable(&mut self, v: Cursor<'tu>, f: &Func) {
        if v.ty().holds_function_pointer() {
            // Name the local pointer where it is declared.
            self.variable_target(v, Some(f));
        }
        if let Some(init) = v.initializer() {
            // Only a pointer to functions, or an aggregate that may hold some, can
            // receive a function (`int i = 0` needs no symbol).
            let may_store =
                v.ty().holds_function_pointer() || unwrap_expr(init).kind() == kind::INIT_LIST_EXPR;
            if may_store {
                if let Some(target) = self.variable_target(v, Some(f)) {
                    self.initializer(Some(target), init, Some(f), f.owner);
                }
            }
            self.walk(init, f, Access::Read);
        }
    }

    /// Records that `f` uses `symbol` at `at`.
    fn use_of(&mut self, symbol: usize, at: Cursor<'tu>, f: &Func, access: Access) {
        let name = self.facts.symbols[symbol].name.clone();
        let Some(p) = self.place(at.location(), &name) else {
            return;
        };
        if !self
            .seen_uses
            .insert((symbol, f.sym, access, p.file, p.line, p.col))
        {
            return;
        }
        self.facts.uses.push(NewUse {
            symbol,
            function: f.sym,
            access,
            file: p.file,
            line: p.line,
            col: p.col,
            macro_name: p.macro_name,
            owner: f.owner,
        });
    }

    fn field_symbol(&mut self, field: Cursor<'tu>) -> Option<usize> {
        let scope = field.semantic_parent().map(Self::scope_name);
        self.symbol(field, Kind::Field, scope)
    }

    /// The symbol of parameter `index` of the function with USR `function_usr`: one
    /// symbol whichever declaration of the function names it.
    fn parameter(
        &mut self,
        function_usr: &str,
        function: &str,
        index: usize,
        name: String,
    ) -> usize {
        let usr = format!("{function_usr}#{index}");
        if let Some(&i) = self.symbols.get(&usr) {
            if self.facts.symbols[i].name.starts_with('#') && !name.is_empty() {
                self.facts.symbols[i].name = name;
            }
            return i;
        }
        let name = if name.is_empty() {
            format!("#{index}")
        } else {
            name
        };
        let i = self.facts.symbols.len();
        self.facts.symbols.push(NewSymbol {
            usr: usr.clone(),
            name,
            scope: Some(function.to_owned()),
            kind: Kind::Parameter,
            linkage: Linkage::None,
        });
        self.symbols.insert(usr, i);
        i
    }

    /// The pointer symbol a declaration stands for: a global or local variable, or a
    /// parameter of `f`.
    fn variable_target(&mut self, v: Cursor<'tu>, f: Option<&Func>) -> Option<usize> {
        match v.kind() {
            kind::VAR_DECL if is_global_variable(v) => self.symbol(v, Kind::Variable, None),
            kind::VAR_DECL => {
                // A function's own variable: named after the function, defined where it
                // is declared.
                let s = self.symbol(v, Kind::Variable, f.map(|f| f.name.clone()))?;
                self.define(v, s, true, false);
                Some(s)
            }
            kind::PARM_DECL => {
                let f = f?;
                let &i = f.params.get(&v.usr())?;
                Some(self.parameter(&f.usr, &f.name, i, v.spelling()))
            }
            kind::FIELD_DECL => self.field_symbol(v),
            _ => None,
        }
    }

    /// What the left side of an assignment names as a place to store a pointer: a
    /// member, a variable or a parameter (an element of an array stands for the array).
    fn pointer_target(&mut self, lhs: Cursor<'tu>, f: Option<&Func>) -> Option<usize> {
        let e = unwrap_expr(lhs);
        match e.kind() {
            kind::MEMBER_REF_EXPR | kind::DECL_REF_EXPR => {
                let d = e.referenced()?;
                self.variable_target(d, f)
            }
            kind::ARRAY_SUBSCRIPT_EXPR => {
                let base = e.children().into_iter().next()?;
                self.pointer_target(base, f)
            }
            // `*&x` (WRITE_ONCE(x, v) writes through a cast of `&x`).
            kind::UNARY_OPERATOR if e.operator() == Operator::Deref => {
                let inner = unwrap_expr(e.children().into_iter().next()?);
                if inner.kind() == kind::UNARY_OPERATOR && inner.operator() == Operator::AddrOf {
                    self.pointer_target(inner.children().into_iter().next()?, f)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The functions and function pointers an expression can evaluate to: a function
    /// (`f`, `&f`, `(cast)f`), a pointer that holds functions (a member, variable or
    /// parameter), and both arms of `c ? a : b`.
    fn function_values(
        &mut self,
        e: Cursor<'tu>,
        f: Option<&Func>,
        out: &mut Vec<(usize, Cursor<'tu>)>,
    ) {
        let e = unwrap_expr(e);
        match e.kind() {
            kind::CONDITIONAL_OPERATOR => {
                let kids = e.children();
                for k in kids.iter().skip(1) {
                    self.function_values(*k, f, out);
                }
            }
            kind::UNARY_OPERATOR if e.operator() == Operator::AddrOf => {
                if let Some(k) = e.children().into_iter().next() {
                    self.function_values(k, f, out);
                }
            }
            // `*&p` (READ_ONCE(p)), and an element of an array of pointers: the
            // pointer or array it reads is copied.
            kind::UNARY_OPERATOR | kind::ARRAY_SUBSCRIPT_EXPR
                if e.ty().holds_function_pointer() =>
            {
                if let Some(p) = self.pointer_target(e, f) {
                    out.push((p, e));
                }
            }
            // `a ?: b` and other forms libclang does not expose: every operand.
            kind::UNEXPOSED_EXPR => {
                for k in e.children() {
                    if kind::is_expression(k.kind()) {
                        self.function_values(k, f, out);
                    }
                }
            }
            kind::DECL_REF_EXPR | kind::MEMBER_REF_EXPR => {
                let Some(d) = e.referenced() else { return };
                if d.kind() == kind::FUNCTION_DECL {
                    if d.location().file_location().is_none() || not_a_call(&d.spelling()) {
                        return;
                    }
                    if let Some(s) = self.symbol(d, Kind::Function, None) {
                        if d.definition().is_none() && self.declared.insert(s) {
                            self.define(d.canonical(), s, false, true);
                        }
                        out.push((s, e));
                    }
                } else if d.ty().holds_function_pointer() {
                    if let Some(s) = self.variable_target(d, f) {
                        out.push((s, e));
                    }
                }
            }
            _ => {}
        }
    }

    /// Records what `value` stores into `target`.
    fn store_values(&mut self, target: usize, value: Cursor<'tu>, f: Option<&Func>, owner: usize) {
        let mut values = Vec::new();
        self.function_values(value, f, &mut values);
        for (v, at) in values {
            if v == target {
                continue;
            }
            let name = self.facts.symbols[v].name.clone();
            let Some(p) = self.place(at.location(), &name) else {
                continue;
            };
            if !self.seen_stores.insert((target, v, p.file, p.line, p.col)) {
                continue;
            }
            self.facts.stores.push(NewStore {
                target,
                value: v,
                file: p.file,
                line: p.line,
                col: p.col,
                macro_name: p.macro_name,
                owner,
            });
        }
    }

    /// The initializer `init` of a variable or member `target` (none for a compound
    /// literal in an expression): a scalar stores into the target itself; a braced
    /// list stores into the members it names (designated, positional, nested, arrays
    /// of structs, compound literals).
    fn initializer(
        &mut self,
        target: Option<usize>,
        init: Cursor<'tu>,
        f: Option<&Func>,
        owner: usize,
    ) {
        let mut e = unwrap_expr(init);
        // `&(struct ops){ .fn = f }`
        if e.kind() == kind::UNARY_OPERATOR && e.operator() == Operator::AddrOf {
            if let Some(inner) = e.children().first().map(|k| unwrap_expr(*k)) {
                if inner.kind() == kind::INIT_LIST_EXPR {
                    e = inner;
                }
            }
        }
        if e.kind() != kind::INIT_LIST_EXPR {
            if let Some(t) = target {
                self.store_values(t, e, f, owner);
            }
            return;
        }
        let ty = e.ty();
        let fields: Vec<Cursor<'tu>> = if ty.is_record() {
            // Unnamed bit-fields take no initializer.
            ty.fields()
                .into_iter()
                .filter(|x| !(x.is_bit_field() && x.spelling().is_empty()))
                .collect()
        } else {
            Vec::new()
        };
        let mut next = 0;
        for item in e.children() {
            let parts = item.children();
            let designated = item.kind() == kind::UNEXPOSED_EXPR && parts.len() > 1;
            let (slot, value) = if designated {
                // `.a = v`, `.a.b = v`, `[i] = v`, `[i].a = v`, `.a[i].b = v`: the
                // last member named is where the value goes.
                let members: Vec<Cursor<'tu>> = parts
                    .iter()
                    .copied()
                    .filter(|p| p.kind() == kind::MEMBER_REF)
                    .collect();
                if let Some(first) = members.first().and_then(|m| m.referenced()) {
                    if let Some(pos) = fields.iter().position(|x| same(x, &first)) {
                        next = pos + 1;
                    }
                }
                let Some(value) = parts.last().copied() else {
                    continue;
                };
                let slot = match members.last().and_then(|m| m.referenced()) {
                    Some(field) => self.field_symbol(field),
                    None => target,
                };
                (slot, value)
            } else if ty.is_record() {
                let field = fields.get(next).copied();
                next += 1;
                (field.and_then(|x| self.field_symbol(x)), item)
            } else {
                // An element of an array: stored into the array itself.
                (target, item)
            };
            self.initializer(slot, value, f, owner);
        }
    }

    /// A global variable that is used but not defined here (`jiffies`, defined by the
    /// linker script): remember where it is declared.
    fn variable_reference(&mut self, r: Cursor<'tu>) {
        let Some(target) = r.referenced() else { return };
        if target.kind() != kind::VAR_DECL
            || target.definition().is_some()
            || target
                .semantic_parent()
                .is_none_or(|p| p.kind() != kind::TRANSLATION_UNIT)
        {
            return;
        }
        let Some(s) = self.symbol(target, Kind::Variable, None) else {
            return;
        };
        if self.declared.insert(s) {
            self.define(target.canonical(), s, false, true);
        }
    }

    fn variable(&mut self, c: Cursor<'tu>) {
        // `int x = 1;` defines; `extern int x;` only declares; `int x;` is a tentative
        // definition: it defines `x` unless the file defines it for real elsewhere,
        // and counts once however often it is repeated.
        if !c.is_definition() {
            if c.is_extern() || c.definition().is_some() {
                return;
            }
            let Some(s) = self.symbol(c, Kind::Variable, None) else {
                return;
            };
            if self.tentative.insert(s) {
                self.define(c, s, true, false);
            }
            return;
        }
        let Some(s) = self.define_new(c, Kind::Variable, None) else {
            return;
        };
        if let (Some(init), Some(pos)) = (c.initializer(), c.location().file_location()) {
            let owner = self.file_index(pos.file);
            self.initializer(Some(s), init, None, owner);
        }
    }

    /// The name a field's container goes by: the nearest named struct or union, or the
    /// typedef of an anonymous one.
    fn scope_name(record: Cursor<'tu>) -> String {
        let mut cur = Some(record);
        while let Some(r) = cur {
            if !matches!(r.kind(), kind::STRUCT_DECL | kind::UNION_DECL) {
                break;
            }
            if is_named_record(r) {
                return r.spelling();
            }
            cur = r.semantic_parent();
        }
        let t = record.type_spelling();
        if t.contains("(unnamed") || t.contains("(anonymous") {
            "(anonymous)".to_owned()
        } else {
            t.trim_start_matches("struct ")
                .trim_start_matches("union ")
                .to_owned()
        }
    }

    fn record(&mut self, c: Cursor<'tu>) {
        if !c.is_definition() {
            return;
        }
        let kind = match c.kind() {
            kind::STRUCT_DECL => Kind::Struct,
            kind::UNION_DECL => Kind::Union,
            _ => Kind::Enum,
        };
        if is_named_record(c) {
            self.define_new(c, kind, None);
        }
        let scope = if kind == Kind::Enum {
            None
        } else {
            Some(Self::scope_name(c))
        };
        c.visit_children(|k| {
            match k.kind() {
                kind::FIELD_DECL => {
                    self.define_new(k, Kind::Field, scope.clone());
                }
                kind::ENUM_CONSTANT_DECL => {
                    self.define_new(k, Kind::Enumerator, None);
                }
                kind::STRUCT_DECL | kind::UNION_DECL | kind::ENUM_DECL => self.record(k),
                _ => {}
            }
            Visit::Continue
        });
    }

    fn call(&mut self, call: Cursor<'tu>, f: &Func) {
        let Some(target) = call.referenced() else {
            // `table[i](x)`, `(*ops->fn)(x)`: a call through the pointer the callee
            // expression reads.
            let Some(callee) = call.children().into_iter().next() else {
                return;
            };
            // `((btf_fn)____fn)(args)` (BPF_CALL_x), `_Generic(x, ...: f)(args)`: a
            // function after all.
            let e = unwrap_expr(callee);
            if e.kind() == kind::DECL_REF_EXPR {
                if let Some(fun) = e.referenced().filter(|d| d.kind() == kind::FUNCTION_DECL) {
                    if fun.location().file_location().is_some() && !not_a_call(&fun.spelling()) {
                        if let Some(s) = self.symbol(fun, Kind::Function, None) {
                            if fun.definition().is_none() && self.declared.insert(s) {
                                self.define(fun.canonical(), s, false, true);
                            }
                            self.record_call(call, f, s, false);
                        }
                    }
                    return;
                }
            }
            if let Some(s) = self.callee_pointer(callee, f) {
                self.record_call(call, f, s, true);
            }
            return;
        };
        let (callee, indirect) = match target.kind() {
            kind::FUNCTION_DECL => {
                if target.location().file_location().is_none() || not_a_call(&target.spelling()) {
                    return;
                }
                let Some(s) = self.symbol(target, Kind::Function, None) else {
                    return;
                };
                if target.definition().is_none() && self.declared.insert(s) {
                    // Called but not defined here: remember where it is declared.
                    self.define(target.canonical(), s, false, true);
                }
                // A function passed as an argument is stored into the parameter.
                let usr = self.facts.symbols[s].usr.clone();
                let name = self.facts.symbols[s].name.clone();
                let params = target.arguments();
                // Arguments past the declared parameters (`printk("%ps", f)`) are not
                // stored anywhere a call can go through.
                for (i, arg) in call.arguments().into_iter().enumerate().take(params.len()) {
                    let mut values = Vec::new();
                    self.function_values(arg, Some(f), &mut values);
                    if values.is_empty() {
                        continue;
                    }
                    let pname = params[i].spelling();
                    let param = self.parameter(&usr, &name, i, pname);
                    self.store_values(param, arg, Some(f), f.owner);
                }
                (s, false)
            }
            kind::FIELD_DECL => {
                let Some(s) = self.field_symbol(target) else {
                    return;
                };
                (s, true)
            }
            kind::VAR_DECL | kind::PARM_DECL => {
                let Some(s) = self.variable_target(target, Some(f)) else {
                    return;
                };
                (s, true)
            }
            _ => return,
        };
        self.record_call(call, f, callee, indirect);
    }

    /// The pointer a call goes through when its callee is an expression.
    fn callee_pointer(&mut self, e: Cursor<'tu>, f: &Func) -> Option<usize> {
        let e = unwrap_expr(e);
        match e.kind() {
            kind::UNARY_OPERATOR if e.operator() == Operator::Other => {
                let inner = e.children().into_iter().next()?;
                self.callee_pointer(inner, f)
            }
            _ => self.pointer_target(e, Some(f)),
        }
    }

    fn record_call(&mut self, call: Cursor<'tu>, f: &Func, callee: usize, indirect: bool) {
        let name = self.facts.symbols[callee].name.clone();
        let Some(p) = self.place(call.location(), &name) else {
            return;
        };
        if !self
            .seen_calls
            .insert((f.sym, callee, p.file, p.line, p.col))
        {
            return;
        }
        self.facts.calls.push(NewCall {
            caller: f.sym,
            callee,
            file: p.file,
            line: p.line,
            col: p.col,
            indirect,
            macro_name: p.macro_name,
            owner: f.owner,
        });
    }
}

/// The function whose body is being walked.
struct Func {
    sym: usize,
    owner: usize,
    usr: String,
    name: String,
    /// USR of each parameter -> its position.
    params: HashMap<String, usize>,
}

/// A variable that lives for the whole program and is named at file scope.
fn is_global_variable(v: Cursor<'_>) -> bool {
    v.kind() == kind::VAR_DECL
        && v.semantic_parent()
            .is_some_and(|p| p.kind() == kind::TRANSLATION_UNIT)
}

/// An expression without the parentheses, casts, implicit conversions and statement
/// expressions around it (`({ ...; v; })` is `v`; a compound literal is its list).
fn unwrap_expr(mut e: Cursor<'_>) -> Cursor<'_> {
    loop {
        let kids: Vec<_> = e
            .children()
            .into_iter()
            .filter(|k| kind::is_expression(k.kind()))
            .collect();
        e = match (e.kind(), kids.as_slice()) {
            (kind::PAREN_EXPR | kind::UNEXPOSED_EXPR | kind::COMPOUND_LITERAL_EXPR, [one]) => *one,
            // The operand comes last, after any `typeof(...)` in the type.
            (kind::CSTYLE_CAST_EXPR, [.., operand]) => *operand,
            // `_Generic(x, T1: a, T2: b)`: the association of the selection's own type.
            (kind::GENERIC_SELECTION_EXPR, [_controlling, associations @ ..]) => {
                let want = e.ty().canonical_spelling();
                let mut same = associations
                    .iter()
                    .filter(|a| a.ty().canonical_spelling() == want);
                match (same.next(), same.next()) {
                    (Some(one), None) => *one,
                    _ => return e,
                }
            }
            (kind::STMT_EXPR, _) => {
                let body = e
                    .children()
                    .into_iter()
                    .find(|k| k.kind() == kind::COMPOUND_STMT);
                match body.and_then(|b| b.children().last().copied()) {
                    Some(last) if kind::is_expression(last.kind()) => last,
                    _ => return e,
                }
            }
            _ => return e,
        };
    }
}

/// An expression without the parentheses and casts around it (and nothing more: what
/// a statement expression runs before its value matters to a walk).
fn strip_casts(mut e: Cursor<'_>) -> Cursor<'_> {
    while matches!(
        e.kind(),
        kind::PAREN_EXPR | kind::UNEXPOSED_EXPR | kind::CSTYLE_CAST_EXPR
    ) {
        match e.children().last() {
            Some(k) if kind::is_expression(k.kind()) => e = *k,
            _ => break,
        }
    }
    e
}

/// Builtins whose arguments are never evaluated.
const UNEVALUATED_BUILTINS: &[&str] = &[
    "__builtin_constant_p",
    "__builtin_object_size",
    "__builtin_dynamic_object_size",
];

fn same(a: &Cursor<'_>, b: &Cursor<'_>) -> bool {
    a.usr() == b.usr() && a.spelling() == b.spelling()
}

/// Whether a struct, union or enum has a tag of its own. clang spells an anonymous
/// one after its typedef (`typedef struct { ... } atomic_t;`), but its USR tells
/// (`c:@SA@atomic_t`, `c:@S@page@Ua`, `c:file.h@123@S@...`).
fn is_named_record(c: Cursor<'_>) -> bool {
    let name = c.spelling();
    if name.is_empty()
        || c.is_anonymous()
        || name.contains("(unnamed")
        || name.contains("(anonymous")
    {
        return false;
    }
    let usr = c.usr();
    ["@S@", "@U@", "@E@"]
        .iter()
        .any(|tag| usr.ends_with(&format!("{tag}{name}")))
}

/// Functions that are called in the source but are not calls of compiled code:
/// compiler builtins (their declaration sits where clang first met them) and the
/// kernel's `__compiletime_assert_N`, declared and "called" by every
/// `BUILD_BUG_ON` and never emitted.
fn not_a_call(name: &str) -> bool {
    let sync_builtin = name.starts_with("__sync_")
        && (name.contains("fetch")
            || name.contains("compare_and_swap")
            || name.starts_with("__sync_lock_")
            || name == "__sync_synchronize");
    sync_builtin
        || [
            "__builtin_",
            "__atomic_",
            "__c11_atomic_",
            "__compiletime_assert_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}
