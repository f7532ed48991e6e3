//! Safe wrappers around the parts of libclang that nccrs uses.
//!
//! This is the only module with `unsafe` code or `clang_sys`. Every handle has one
//! owning type with `Drop`; cursors, locations and files borrow their translation unit,
//! so nothing outlives it.

#![allow(non_upper_case_globals)] // libclang's constant names, matched as patterns

use std::any::Any;
use std::ffi::{c_void, CStr, CString, OsStr, OsString};
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_uint};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr;

use clang_sys::*;

/// Converts a `CXString` to its bytes and disposes of it at once.
fn take_bytes(s: CXString) -> Vec<u8> {
    // SAFETY: `s` is a live CXString returned by libclang; the pointer it yields is
    // valid until `clang_disposeString`, which is called right after the copy.
    unsafe {
        let p = clang_getCString(s);
        let out = if p.is_null() {
            Vec::new()
        } else {
            CStr::from_ptr(p).to_bytes().to_vec()
        };
        clang_disposeString(s);
        out
    }
}

/// Converts a `CXString` to a `String` and disposes of it at once.
fn take_string(s: CXString) -> String {
    String::from_utf8_lossy(&take_bytes(s)).into_owned()
}

/// Loads libclang for the calling thread (clang-sys keeps the library per thread).
/// Only the indexing child loads it: the wrapper that stands in for the compiler
/// starts as fast as the compiler does.
pub fn load() -> Result<(), LoadError> {
    if clang_sys::is_loaded() {
        return Ok(());
    }
    // Without LIBCLANG_PATH, use the libclang this build was made against.
    if std::env::var_os("LIBCLANG_PATH").is_none() {
        if let Some(dir) = library_dir() {
            std::env::set_var("LIBCLANG_PATH", dir);
        }
    }
    clang_sys::load().map_err(LoadError)
}

/// The directory [`load`] takes libclang from.
fn library_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("LIBCLANG_PATH")
        .or_else(|| option_env!("LIBCLANG_PATH").map(OsString::from))
        .map(std::path::PathBuf::from)
}

/// The libclang libraries [`load`] may take (their real files), without loading one:
/// what identifies the parser for the facts cache.
pub fn candidates() -> Vec<std::path::PathBuf> {
    let Some(dir) = library_dir() else {
        return Vec::new();
    };
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.as_bytes();
            name.starts_with(b"libclang") && name.windows(3).any(|w| w == b".so")
        })
        .filter_map(|e| std::fs::canonicalize(e.path()).ok())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Set once a parse of this process crashed and libclang recovered.
static CRASHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether libclang recovered from a crash in a parse of this process: what it left
/// behind (a lock held, memory half written) is not to be trusted with another parse.
pub fn crashed() -> bool {
    CRASHED.load(std::sync::atomic::Ordering::Relaxed)
}

/// libclang could not be loaded (clang-sys says why).
#[derive(Debug, thiserror::Error)]
#[error("cannot load libclang: {0}")]
pub struct LoadError(String);

/// libclang's own version string, e.g. "Debian clang version 19.1.7".
pub fn version() -> String {
    // SAFETY: no preconditions.
    take_string(unsafe { clang_getClangVersion() })
}

/// A libclang index: owns every translation unit parsed through it.
pub struct Index {
    raw: CXIndex,
}

impl Index {
    pub fn new() -> Index {
        // SAFETY: no preconditions; the result is disposed of in Drop.
        let raw = unsafe { clang_createIndex(0, 0) };
        Index { raw }
    }

    /// Parses `source` with compiler arguments `args` (without the source itself).
    /// Keeps going after errors so that a broken file still yields what can be read.
    pub fn parse(
        &self,
        source: &OsStr,
        args: &[String],
    ) -> Result<TranslationUnit<'_>, ParseError> {
        self.parse_with_files(source, args, &[])
    }

    /// Like [`Index::parse`], with the contents of some files (the source, headers it
    /// includes) given as (path, text) instead of read from disk.
    pub fn parse_with_files(
        &self,
        source: &OsStr,
        args: &[String],
        files: &[(&OsStr, &[u8])],
    ) -> Result<TranslationUnit<'_>, ParseError> {
        let source = CString::new(source.as_bytes()).map_err(|_| ParseError::Nul)?;
        let args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|_| ParseError::Nul)?;
        let argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
        let names: Vec<CString> = files
            .iter()
            .map(|(name, _)| CString::new(name.as_bytes()))
            .collect::<Result<_, _>>()
            .map_err(|_| ParseError::Nul)?;
        let mut unsaved: Vec<CXUnsavedFile> = names
            .iter()
            .zip(files)
            .map(|(name, (_, text))| CXUnsavedFile {
                Filename: name.as_ptr(),
                Contents: text.as_ptr().cast(),
                Length: text.len() as _,
            })
            .collect();
        let flags = CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_KeepGoing;
        let mut tu: CXTranslationUnit = ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call (`source`, `args`,
        // `argv`, `names` and the texts of `files` outlive it, and libclang copies
        // unsaved contents); `tu` is written by libclang on success.
        let code = unsafe {
            clang_parseTranslationUnit2(
                self.raw,
                source.as_ptr(),
                argv.as_ptr(),
                argv.len() as c_int,
                unsaved.as_mut_ptr(),
                unsaved.len() as _,
                flags,
                &mut tu,
            )
        };
        if code == CXError_Crashed {
            CRASHED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if code != CXError_Success || tu.is_null() {
            return Err(ParseError::Code(code));
        }
        Ok(TranslationUnit {
            raw: tu,
            _index: PhantomData,
        })
    }
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        // SAFETY: `raw` came from clang_createIndex; translation units borrow the index,
        // so all of them are gone by now.
        unsafe { clang_disposeIndex(self.raw) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("an argument holds a NUL byte")]
    Nul,
    #[error("libclang could not parse the file (error code {0})")]
    Code(CXErrorCode),
}

pub struct TranslationUnit<'i> {
    raw: CXTranslationUnit,
    _index: PhantomData<&'i Index>,
}

impl Drop for TranslationUnit<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from a successful parse and is disposed of once.
        unsafe { clang_disposeTranslationUnit(self.raw) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ignored,
    Note,
    Warning,
    Error,
    Fatal,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// "file:line:col: message", as the compiler would print it.
    pub text: String,
}

impl<'i> TranslationUnit<'i> {
    pub fn cursor(&self) -> Cursor<'_> {
        // SAFETY: `raw` is a live translation unit.
        Cursor {
            raw: unsafe { clang_getTranslationUnitCursor(self.raw) },
            _tu: PhantomData,
        }
    }

    /// Whether the parse met an error (a cheaper question than [`Self::diagnostics`]).
    pub fn has_errors(&self) -> bool {
        // SAFETY: `raw` is live; each diagnostic is disposed of after use.
        unsafe {
            (0..clang_getNumDiagnostics(self.raw)).any(|i| {
                let d = clang_getDiagnostic(self.raw, i);
                let severity = clang_getDiagnosticSeverity(d);
                clang_disposeDiagnostic(d);
                severity >= CXDiagnostic_Error
            })
        }
    }

    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        // SAFETY: `raw` is live; each diagnostic is disposed of after use.
        unsafe {
            let n = clang_getNumDiagnostics(self.raw);
            (0..n)
                .map(|i| {
                    let d = clang_getDiagnostic(self.raw, i);
                    let severity = match clang_getDiagnosticSeverity(d) {
                        CXDiagnostic_Note => Severity::Note,
                        CXDiagnostic_Warning => Severity::Warning,
                        CXDiagnostic_Error => Severity::Error,
                        CXDiagnostic_Fatal => Severity::Fatal,
                        _ => Severity::Ignored,
                    };
                    let opts = CXDiagnostic_DisplaySourceLocation | CXDiagnostic_DisplayColumn;
                    let text = take_string(clang_formatDiagnostic(d, opts));
                    clang_disposeDiagnostic(d);
                    Diagnostic { severity, text }
                })
                .collect()
        }
    }

    /// Every file the parse read, how often it entered each, and their text.
    pub fn sources(&self) -> Sources<'_> {
        self.sources_with(&[])
    }

    /// [`TranslationUnit::sources`], where the text of a file handed to the parse as
    /// an unsaved file (`given`: its name and text, as [`Index::parse_with_files`]
    /// took them) is that text: what the parse read of the file found under that
    /// name, without asking libclang (which looks each file up among all of the
    /// unit's source locations).
    pub fn sources_with<'a>(&'a self, given: &[(&OsStr, &'a [u8])]) -> Sources<'a> {
        let mut known: rustc_hash::FxHashMap<CXFile, &'a [u8]> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(given.len(), Default::default());
        for (name, text) in given {
            let Ok(name) = CString::new(name.as_bytes()) else {
                continue;
            };
            // SAFETY: `raw` is live and `name` a valid C string for the call.
            let file = unsafe { clang_getFile(self.raw, name.as_ptr()) };
            if !file.is_null() {
                known.insert(file, text);
            }
        }
        extern "C" fn visit(
            file: CXFile,
            stack: *mut CXSourceLocation,
            depth: c_uint,
            data: CXClientData,
        ) {
            // SAFETY: `data` is the `Vec` passed below, alive and not otherwise
            // borrowed for the duration of `clang_getInclusions`; `stack` holds
            // `depth` locations, the outermost `#include` last.
            let files = unsafe { &mut *data.cast::<Vec<(CXFile, bool)>>() };
            if file.is_null() {
                return;
            }
            let preincluded = depth > 0 && {
                let mut outer: CXFile = ptr::null_mut();
                // SAFETY: `depth` > 0 locations are on the stack; the out-pointer is
                // valid and the others null, which libclang allows.
                unsafe {
                    clang_getFileLocation(
                        *stack.add(depth as usize - 1),
                        &mut outer,
                        ptr::null_mut(),
                        ptr::null_mut(),
                        ptr::null_mut(),
                    );
                }
                outer.is_null()
            };
            files.push((file, preincluded));
        }
        let mut raw: Vec<(CXFile, bool)> = Vec::new();
        // SAFETY: `raw` is live; the visitor only pushes to the vector it is given.
        unsafe {
            clang_getInclusions(
                self.raw,
                visit,
                (&mut raw as *mut Vec<(CXFile, bool)>).cast(),
            );
        }
        let mut sources = Sources {
            files: Vec::new(),
            entered: Default::default(),
            text: Default::default(),
            preincluded: Vec::new(),
            hashes: Default::default(),
        };
        for (raw, preincluded) in raw {
            let file = File {
                raw,
                _tu: PhantomData,
            };
            let n = sources.entered.entry(file).or_insert(0);
            *n += 1;
            if *n == 1 {
                sources.files.push(file);
                if preincluded {
                    sources.preincluded.push(file);
                }
                if let Some(text) = known
                    .get(&file.raw)
                    .copied()
                    .or_else(|| self.file_contents(file))
                {
                    sources.text.insert(file, text);
                }
            }
        }
        sources
    }

    /// Whether the preprocessor keeps `file` out once read: wrapped whole in an
    /// include guard (`#ifndef X` / `#define X` ... `#endif`), or `#pragma once`.
    pub fn guarded(&self, file: File<'_>) -> bool {
        // SAFETY: `file` is a file of this live translation unit.
        unsafe { clang_isFileMultipleIncludeGuarded(self.raw, file.raw) != 0 }
    }

    /// The byte ranges the preprocessor skipped (`#if 0` ... `#endif`), by file, each
    /// file's in order.
    pub fn skipped_ranges(&self) -> rustc_hash::FxHashMap<File<'_>, Vec<(u32, u32)>> {
        self.skipped(|_, offset| offset)
    }

    /// The lines of the ranges the preprocessor skipped, by file, each file's in
    /// order: the line of the directive that began skipping (`#ifdef CONFIG_FOO`) and
    /// of the one that ended it (`#else`, `#elif`, `#endif`).
    pub fn skipped_lines(&self) -> rustc_hash::FxHashMap<File<'_>, Vec<(u32, u32)>> {
        self.skipped(|line, _| line)
    }

    /// The skipped ranges, each end given by `at(line, offset)`.
    fn skipped(
        &self,
        at: impl Fn(u32, u32) -> u32,
    ) -> rustc_hash::FxHashMap<File<'_>, Vec<(u32, u32)>> {
        let mut out: rustc_hash::FxHashMap<File<'_>, Vec<(u32, u32)>> = Default::default();
        // SAFETY: `raw` is live; the list is read within its length and disposed of
        // once. (One list for the unit: `clang_getSkippedRanges` looks each file up
        // among all of the unit's source locations.)
        unsafe {
            let list = clang_getAllSkippedRanges(self.raw);
            if list.is_null() {
                return out;
            }
            let ranges = std::slice::from_raw_parts((*list).ranges, (*list).count as usize);
            for r in ranges {
                let place = |loc: CXSourceLocation| {
                    let mut file: CXFile = ptr::null_mut();
                    let (mut line, mut off): (c_uint, c_uint) = (0, 0);
                    clang_getFileLocation(loc, &mut file, &mut line, ptr::null_mut(), &mut off);
                    (file, at(line, off))
                };
                let ((file, start), (_, end)) =
                    (place(clang_getRangeStart(*r)), place(clang_getRangeEnd(*r)));
                if !file.is_null() {
                    out.entry(File {
                        raw: file,
                        _tu: PhantomData,
                    })
                    .or_default()
                    .push((start, end));
                }
            }
            clang_disposeSourceRangeList(list);
        }
        out
    }

    /// The bytes of a file as libclang read them.
    fn file_contents(&self, file: File<'_>) -> Option<&[u8]> {
        let mut size: usize = 0;
        // SAFETY: `raw` and `file` are live; the buffer libclang returns lives as long
        // as the translation unit, which the returned slice borrows.
        unsafe {
            let p = clang_getFileContents(self.raw, file.raw, &mut size);
            if p.is_null() {
                None
            } else {
                Some(std::slice::from_raw_parts(p as *const u8, size))
            }
        }
    }
}

/// The files a parse read: each once, in the order they were first included (the
/// main file first); how many times the parse entered each (a header included twice
/// and not kept out by its guard, twice); the text libclang read of each, asked for
/// once (libclang looks a file up among all of the unit's source locations).
pub struct Sources<'tu> {
    pub files: Vec<File<'tu>>,
    pub entered: rustc_hash::FxHashMap<File<'tu>, u32>,
    pub text: rustc_hash::FxHashMap<File<'tu>, &'tu [u8]>,
    /// The files the command line's `-include`s read, and those they include.
    pub preincluded: Vec<File<'tu>>,
    /// The BLAKE3 hash of each text asked for, by where the text is (each text lives
    /// as long as the unit: one place, one content).
    hashes: std::cell::RefCell<rustc_hash::FxHashMap<(usize, usize), [u8; 32]>>,
}

impl<'tu> Sources<'tu> {
    /// The BLAKE3 hash of `text`, one of the texts of this unit (the header keys, the
    /// bodies' keys and the facts cache's manifest all hash the same headers).
    pub fn hash(&self, text: &'tu [u8]) -> [u8; 32] {
        *self
            .hashes
            .borrow_mut()
            .entry((text.as_ptr() as usize, text.len()))
            .or_insert_with(|| *blake3::hash(text).as_bytes())
    }
}

/// A source file of a translation unit. Equal handles mean the same file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct File<'tu> {
    raw: CXFile,
    _tu: PhantomData<&'tu ()>,
}

impl File<'_> {
    /// The file's name exactly as the compiler opened it (not always UTF-8).
    pub fn name(&self) -> OsString {
        // SAFETY: `raw` is a non-null file of a live translation unit.
        OsString::from_vec(take_bytes(unsafe { clang_getFileName(self.raw) }))
    }

    /// The file's identity on its device (device, inode, modification time): the
    /// same for every name of one file.
    pub fn unique_id(&self) -> Option<[u64; 3]> {
        let mut id = CXFileUniqueID { data: [0; 3] };
        // SAFETY: `raw` is a non-null file of a live translation unit; `id` is
        // written by libclang.
        let failed = unsafe { clang_getFileUniqueID(self.raw, &mut id) };
        (failed == 0).then_some(id.data)
    }
}

/// A position resolved to a file: 1-based line and column, 0-based byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FilePos<'tu> {
    pub file: File<'tu>,
    pub line: u32,
    pub col: u32,
    pub offset: u32,
}

#[derive(Clone, Copy)]
pub struct SourceLocation<'tu> {
    raw: CXSourceLocation,
    _tu: PhantomData<&'tu ()>,
}

/// Which of a location's places [`SourceLocation::resolve`] gives.
#[derive(Clone, Copy)]
enum Place {
    File,
    Expansion,
    Spelling,
}

impl<'tu> SourceLocation<'tu> {
    fn resolve(&self, place: Place) -> Option<FilePos<'tu>> {
        let (mut file, mut line, mut col, mut offset): (CXFile, c_uint, c_uint, c_uint) =
            (ptr::null_mut(), 0, 0, 0);
        // SAFETY: `raw` is a location of a live translation unit; the out-pointers are valid.
        unsafe {
            match place {
                Place::Expansion => clang_getExpansionLocation(
                    self.raw,
                    &mut file,
                    &mut line,
                    &mut col,
                    &mut offset,
                ),
                Place::File => {
                    clang_getFileLocation(self.raw, &mut file, &mut line, &mut col, &mut offset)
                }
                Place::Spelling => {
                    clang_getSpellingLocation(self.raw, &mut file, &mut line, &mut col, &mut offset)
                }
            }
        }
        if file.is_null() {
            return None;
        }
        Some(FilePos {
            file: File {
                raw: file,
                _tu: PhantomData,
            },
            line,
            col,
            offset,
        })
    }

    /// Where the text is written: for a macro argument, in the argument; for anything
    /// else a macro produced, at the outermost macro invocation.
    pub fn file_location(&self) -> Option<FilePos<'tu>> {
        self.resolve(Place::File)
    }

    /// Where the characters are written: for text a macro produced, in the macro's
    /// definition.
    pub fn spelling_location(&self) -> Option<FilePos<'tu>> {
        self.resolve(Place::Spelling)
    }

    /// The start of the outermost macro invocation that produced this location, or the
    /// location itself when no macro did.
    pub fn expansion_location(&self) -> Option<FilePos<'tu>> {
        self.resolve(Place::Expansion)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linkage {
    None,
    Internal,
    External,
}

/// What a visitor wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    Break,
    Continue,
    Recurse,
}

/// A cursor, tied to the lifetime of its translation unit.
#[derive(Clone, Copy)]
pub struct Cursor<'tu> {
    raw: CXCursor,
    _tu: PhantomData<&'tu ()>,
}

pub use clang_sys::CXCursorKind as CursorKind;

/// The cursor kinds nccrs looks at.
pub mod kind {
    pub use clang_sys::{
        CXCursor_ArraySubscriptExpr as ARRAY_SUBSCRIPT_EXPR,
        CXCursor_BinaryOperator as BINARY_OPERATOR, CXCursor_BreakStmt as BREAK_STMT,
        CXCursor_CStyleCastExpr as CSTYLE_CAST_EXPR, CXCursor_CallExpr as CALL_EXPR,
        CXCursor_CaseStmt as CASE_STMT,
        CXCursor_CompoundAssignOperator as COMPOUND_ASSIGN_OPERATOR,
        CXCursor_CompoundLiteralExpr as COMPOUND_LITERAL_EXPR,
        CXCursor_CompoundStmt as COMPOUND_STMT,
        CXCursor_ConditionalOperator as CONDITIONAL_OPERATOR,
        CXCursor_ContinueStmt as CONTINUE_STMT, CXCursor_DeclRefExpr as DECL_REF_EXPR,
        CXCursor_DeclStmt as DECL_STMT, CXCursor_DefaultStmt as DEFAULT_STMT,
        CXCursor_EnumConstantDecl as ENUM_CONSTANT_DECL, CXCursor_EnumDecl as ENUM_DECL,
        CXCursor_FieldDecl as FIELD_DECL, CXCursor_FunctionDecl as FUNCTION_DECL,
        CXCursor_GenericSelectionExpr as GENERIC_SELECTION_EXPR, CXCursor_GotoStmt as GOTO_STMT,
        CXCursor_IfStmt as IF_STMT, CXCursor_InclusionDirective as INCLUSION_DIRECTIVE,
        CXCursor_InitListExpr as INIT_LIST_EXPR, CXCursor_LabelStmt as LABEL_STMT,
        CXCursor_MacroDefinition as MACRO_DEFINITION, CXCursor_MacroExpansion as MACRO_EXPANSION,
        CXCursor_MemberRef as MEMBER_REF, CXCursor_MemberRefExpr as MEMBER_REF_EXPR,
        CXCursor_ParenExpr as PAREN_EXPR, CXCursor_ParmDecl as PARM_DECL,
        CXCursor_ReturnStmt as RETURN_STMT, CXCursor_StmtExpr as STMT_EXPR,
        CXCursor_StructDecl as STRUCT_DECL, CXCursor_SwitchStmt as SWITCH_STMT,
        CXCursor_TranslationUnit as TRANSLATION_UNIT, CXCursor_TypedefDecl as TYPEDEF_DECL,
        CXCursor_UnaryExpr as UNARY_EXPR, CXCursor_UnaryOperator as UNARY_OPERATOR,
        CXCursor_UnexposedAttr as UNEXPOSED_ATTR, CXCursor_UnexposedDecl as UNEXPOSED_DECL,
        CXCursor_UnexposedExpr as UNEXPOSED_EXPR, CXCursor_UnionDecl as UNION_DECL,
        CXCursor_VarDecl as VAR_DECL,
    };

    /// Whether a cursor kind is an expression.
    pub fn is_expression(k: super::CursorKind) -> bool {
        (100..200).contains(&k) // CXCursor_FirstExpr ..= CXCursor_LastExpr
    }
}

/// What an operator does, as far as uses and stores care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Assign,
    /// `++` and `--`, before or after.
    IncDec,
    /// `&x`
    AddrOf,
    /// `*p`
    Deref,
    /// `a && b`
    And,
    /// `a || b`
    Or,
    Other,
}

/// A type, tied to the lifetime of its translation unit.
#[derive(Clone, Copy)]
pub struct Type<'tu> {
    raw: CXType,
    _tu: PhantomData<&'tu ()>,
}

impl<'tu> Type<'tu> {
    fn wrap(raw: CXType) -> Type<'tu> {
        Type {
            raw,
            _tu: PhantomData,
        }
    }

    pub fn canonical(&self) -> Type<'tu> {
        // SAFETY: plain accessor on a valid type.
        Type::wrap(unsafe { clang_getCanonicalType(self.raw) })
    }

    fn kind(&self) -> CXTypeKind {
        self.raw.kind
    }

    /// The type as written (a typedef by its name).
    pub fn spelling(&self) -> String {
        // SAFETY: plain accessor on a valid type.
        take_string(unsafe { clang_getTypeSpelling(self.raw) })
    }

    /// The canonical type, spelled (to tell types apart).
    pub fn canonical_spelling(&self) -> String {
        // SAFETY: plain accessor on a valid type.
        take_string(unsafe { clang_getTypeSpelling(self.canonical().raw) })
    }

    pub fn is_array(&self) -> bool {
        matches!(
            self.canonical().kind(),
            CXType_ConstantArray | CXType_IncompleteArray | CXType_VariableArray
        )
    }

    pub fn is_pointer(&self) -> bool {
        self.canonical().kind() == CXType_Pointer
    }

    pub fn is_record(&self) -> bool {
        self.canonical().kind() == CXType_Record
    }

    /// The element type of an array.
    pub fn element(&self) -> Type<'tu> {
        // SAFETY: plain accessor on a valid type.
        Type::wrap(unsafe { clang_getArrayElementType(self.canonical().raw) })
    }

    /// A pointer to a function, or an array of them (of any depth). A parameter
    /// written with a function type (`int getfrag(void *, ...)`) is a pointer too:
    /// libclang gives its type as written.
    pub fn holds_function_pointer(&self) -> bool {
        let mut t = self.canonical();
        while t.is_array() {
            t = t.element().canonical();
        }
        if matches!(t.kind(), CXType_FunctionProto | CXType_FunctionNoProto) {
            return true;
        }
        if t.kind() != CXType_Pointer {
            return false;
        }
        // SAFETY: plain accessor on a valid pointer type.
        let pointee = Type::wrap(unsafe { clang_getPointeeType(t.raw) }).canonical();
        matches!(
            pointee.kind(),
            CXType_FunctionProto | CXType_FunctionNoProto
        )
    }

    /// A pointer to functions, or a pointer to such pointers, or an array of either
    /// (`fn_t`, `fn_t *out`, `fn_t table[]`): what holds functions or points to where
    /// they are held.
    pub fn reaches_function(&self) -> bool {
        let mut t = self.canonical();
        loop {
            t = match t.kind() {
                CXType_FunctionProto | CXType_FunctionNoProto => return true,
                // SAFETY: plain accessor on a valid pointer type.
                CXType_Pointer => Type::wrap(unsafe { clang_getPointeeType(t.raw) }).canonical(),
                _ if t.is_array() => t.element().canonical(),
                _ => return false,
            };
        }
    }

    /// The fields of a struct or union type, in declaration order (anonymous struct
    /// and union members included, as unnamed fields).
    pub fn fields(&self) -> Vec<Cursor<'tu>> {
        extern "C" fn push(c: CXCursor, data: CXClientData) -> CXVisitorResult {
            // SAFETY: `data` is the Vec that `fields` passed in, alive for the call.
            let v = unsafe { &mut *(data as *mut Vec<CXCursor>) };
            v.push(c);
            CXVisit_Continue
        }
        let mut raw: Vec<CXCursor> = Vec::new();
        // SAFETY: `raw` outlives the call; `push` only appends cursors to it.
        unsafe {
            clang_Type_visitFields(
                self.canonical().raw,
                push,
                &mut raw as *mut Vec<CXCursor> as *mut c_void,
            );
        }
        raw.into_iter()
            .map(|raw| Cursor {
                raw,
                _tu: PhantomData,
            })
            .collect()
    }
}

struct VisitState<'a, 'tu> {
    callback: &'a mut dyn FnMut(Cursor<'tu>) -> Visit,
    panic: Option<Box<dyn Any + Send>>,
}

extern "C" fn trampoline(
    cursor: CXCursor,
    _parent: CXCursor,
    data: CXClientData,
) -> CXChildVisitResult {
    // SAFETY: `data` is the `VisitState` that `visit_children` passed in, alive and
    // exclusively ours for the duration of clang_visitChildren.
    let state = unsafe { &mut *(data as *mut VisitState<'_, '_>) };
    if state.panic.is_some() {
        return CXChildVisit_Break;
    }
    let c = Cursor {
        raw: cursor,
        _tu: PhantomData,
    };
    match catch_unwind(AssertUnwindSafe(|| (state.callback)(c))) {
        Ok(Visit::Break) => CXChildVisit_Break,
        Ok(Visit::Continue) => CXChildVisit_Continue,
        Ok(Visit::Recurse) => CXChildVisit_Recurse,
        Err(p) => {
            state.panic = Some(p);
            CXChildVisit_Break
        }
    }
}

impl<'tu> Cursor<'tu> {
    fn wrap(&self, raw: CXCursor) -> Option<Cursor<'tu>> {
        // SAFETY: `raw` came from libclang for the same translation unit.
        if unsafe { clang_Cursor_isNull(raw) } != 0 {
            None
        } else {
            Some(Cursor {
                raw,
                _tu: PhantomData,
            })
        }
    }

    pub fn kind(&self) -> CursorKind {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_getCursorKind(self.raw) }
    }

    pub fn spelling(&self) -> String {
        // SAFETY: plain accessor on a valid cursor.
        take_string(unsafe { clang_getCursorSpelling(self.raw) })
    }

    pub fn usr(&self) -> String {
        // SAFETY: plain accessor on a valid cursor.
        take_string(unsafe { clang_getCursorUSR(self.raw) })
    }

    pub fn location(&self) -> SourceLocation<'tu> {
        // SAFETY: plain accessor on a valid cursor.
        SourceLocation {
            raw: unsafe { clang_getCursorLocation(self.raw) },
            _tu: PhantomData,
        }
    }

    /// The file the cursor's text spans, and the byte offsets of its start and end,
    /// when both ends are written in the same file.
    pub fn extent_in_file(&self) -> Option<(File<'tu>, u32, u32)> {
        // SAFETY: plain accessors on a valid cursor and its extent.
        let (start, end) = unsafe {
            let r = clang_getCursorExtent(self.raw);
            (clang_getRangeStart(r), clang_getRangeEnd(r))
        };
        let at = |raw| {
            SourceLocation {
                raw,
                _tu: PhantomData,
            }
            .file_location()
        };
        let (a, b) = (at(start)?, at(end)?);
        (a.file == b.file && a.offset <= b.offset).then_some((a.file, a.offset, b.offset))
    }

    /// Where the cursor's first character is spelled (in a macro's definition, for
    /// text the macro produced): the file and the byte offset. (Its end, libclang gives
    /// only where the macro was invoked.)
    pub fn spelled_start(&self) -> Option<(File<'tu>, u32)> {
        // SAFETY: plain accessors on a valid cursor and its extent.
        let start = unsafe { clang_getRangeStart(clang_getCursorExtent(self.raw)) };
        let at = SourceLocation {
            raw: start,
            _tu: PhantomData,
        }
        .spelling_location()?;
        Some((at.file, at.offset))
    }

    /// For a macro definition (or the one an expansion refers to): whether it takes
    /// arguments.
    pub fn is_macro_function_like(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_Cursor_isMacroFunctionLike(self.raw) != 0 }
    }

    /// The declaration as clang prints it back, attributes included (`long
    /// sys_read(...) __attribute__((alias("__se_sys_read")))`). For a declaration
    /// without a body: a definition's would be printed whole.
    pub fn pretty_printed(&self) -> String {
        // SAFETY: the policy is made from this cursor and disposed of after use.
        unsafe {
            let policy = clang_getCursorPrintingPolicy(self.raw);
            let text = take_string(clang_getCursorPrettyPrinted(self.raw, policy));
            clang_PrintingPolicy_dispose(policy);
            text
        }
    }

    /// The bytes of `file` as libclang read it (unsaved files included). Each call
    /// looks the file up among all of the unit's: for the rare question.
    pub fn file_text(&self, file: File<'tu>) -> Option<Vec<u8>> {
        let mut size: usize = 0;
        // SAFETY: the cursor's translation unit and `file` are live; the bytes are
        // copied before this returns.
        unsafe {
            let tu = clang_Cursor_getTranslationUnit(self.raw);
            if tu.is_null() {
                return None;
            }
            let p = clang_getFileContents(tu, file.raw, &mut size);
            (!p.is_null()).then(|| std::slice::from_raw_parts(p as *const u8, size).to_vec())
        }
    }

    /// The file an `#include` (an inclusion directive of the preprocessing record)
    /// brought in.
    pub fn included_file(&self) -> Option<File<'tu>> {
        // SAFETY: plain accessor on a valid cursor; null for any other kind.
        let raw = unsafe { clang_getIncludedFile(self.raw) };
        (!raw.is_null()).then_some(File {
            raw,
            _tu: PhantomData,
        })
    }

    /// The declaration a reference or call refers to.
    pub fn referenced(&self) -> Option<Cursor<'tu>> {
        // SAFETY: plain accessor on a valid cursor.
        self.wrap(unsafe { clang_getCursorReferenced(self.raw) })
    }

    /// The definition of the entity, if this translation unit has it.
    pub fn definition(&self) -> Option<Cursor<'tu>> {
        // SAFETY: plain accessor on a valid cursor.
        self.wrap(unsafe { clang_getCursorDefinition(self.raw) })
    }

    /// The first declaration of the entity.
    pub fn canonical(&self) -> Cursor<'tu> {
        // SAFETY: plain accessor on a valid cursor; never null for a valid cursor.
        Cursor {
            raw: unsafe { clang_getCanonicalCursor(self.raw) },
            _tu: PhantomData,
        }
    }

    pub fn semantic_parent(&self) -> Option<Cursor<'tu>> {
        // SAFETY: plain accessor on a valid cursor.
        self.wrap(unsafe { clang_getCursorSemanticParent(self.raw) })
    }

    /// Where the declaration is written: a function for one inside a body (whose
    /// semantic parent may be the translation unit, as for a block-scope `extern`).
    pub fn lexical_parent(&self) -> Option<Cursor<'tu>> {
        // SAFETY: plain accessor on a valid cursor.
        self.wrap(unsafe { clang_getCursorLexicalParent(self.raw) })
    }

    pub fn is_definition(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_isCursorDefinition(self.raw) != 0 }
    }

    pub fn is_extern(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_Cursor_getStorageClass(self.raw) == CX_SC_Extern }
    }

    pub fn is_anonymous(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_Cursor_isAnonymous(self.raw) != 0 }
    }

    pub fn type_spelling(&self) -> String {
        // SAFETY: plain accessors on a valid cursor and its type.
        take_string(unsafe { clang_getTypeSpelling(clang_getCursorType(self.raw)) })
    }

    pub fn ty(&self) -> Type<'tu> {
        // SAFETY: plain accessor on a valid cursor.
        Type::wrap(unsafe { clang_getCursorType(self.raw) })
    }

    /// The type a function declaration returns.
    pub fn result_type(&self) -> Type<'tu> {
        // SAFETY: plain accessor on a valid cursor.
        Type::wrap(unsafe { clang_getCursorResultType(self.raw) })
    }

    /// What a unary or binary operator cursor does.
    pub fn operator(&self) -> Operator {
        // SAFETY: plain accessors on a valid cursor (libclang 17 and later).
        match self.kind() {
            CXCursor_BinaryOperator => match unsafe { clang_getCursorBinaryOperatorKind(self.raw) }
            {
                CXBinaryOperator_Assign => Operator::Assign,
                CXBinaryOperator_LAnd => Operator::And,
                CXBinaryOperator_LOr => Operator::Or,
                _ => Operator::Other,
            },
            CXCursor_UnaryOperator => match unsafe { clang_getCursorUnaryOperatorKind(self.raw) } {
                CXUnaryOperator_AddrOf => Operator::AddrOf,
                CXUnaryOperator_Deref => Operator::Deref,
                CXUnaryOperator_PostInc
                | CXUnaryOperator_PostDec
                | CXUnaryOperator_PreInc
                | CXUnaryOperator_PreDec => Operator::IncDec,
                _ => Operator::Other,
            },
            _ => Operator::Other,
        }
    }

    /// The value of an expression clang folds to an integer (`sizeof(n) <= 4`, `0`
    /// from `IS_ENABLED(CONFIG_X)`), if it does.
    pub fn evaluate_int(&self) -> Option<i64> {
        // SAFETY: the result is checked for null, read, and disposed of once.
        unsafe {
            let r = clang_Cursor_Evaluate(self.raw);
            if r.is_null() {
                return None;
            }
            let value = (clang_EvalResult_getKind(r) == CXEval_Int)
                .then(|| clang_EvalResult_getAsLongLong(r));
            clang_EvalResult_dispose(r);
            value
        }
    }

    /// A variable's initializer, if it has one.
    pub fn initializer(&self) -> Option<Cursor<'tu>> {
        // SAFETY: plain accessor on a valid cursor (libclang 12 and later).
        self.wrap(unsafe { clang_Cursor_getVarDeclInitializer(self.raw) })
    }

    pub fn is_bit_field(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_Cursor_isBitField(self.raw) != 0 }
    }

    pub fn is_static(&self) -> bool {
        // SAFETY: plain accessor on a valid cursor.
        unsafe { clang_Cursor_getStorageClass(self.raw) == CX_SC_Static }
    }

    /// The arguments of a call, or the parameters of a function declaration.
    pub fn arguments(&self) -> Vec<Cursor<'tu>> {
        // SAFETY: plain accessors on a valid cursor; -1 means "not a call or function".
        let n = unsafe { clang_Cursor_getNumArguments(self.raw) };
        (0..n.max(0) as c_uint)
            .filter_map(|i| self.wrap(unsafe { clang_Cursor_getArgument(self.raw, i) }))
            .collect()
    }

    /// The direct children.
    pub fn children(&self) -> Vec<Cursor<'tu>> {
        let mut v = Vec::new();
        self.visit_children(|c| {
            v.push(c);
            Visit::Continue
        });
        v
    }

    pub fn linkage(&self) -> Linkage {
        // SAFETY: plain accessor on a valid cursor.
        match unsafe { clang_getCursorLinkage(self.raw) } {
            CXLinkage_Internal => Linkage::Internal,
            CXLinkage_External | CXLinkage_UniqueExternal => Linkage::External,
            _ => Linkage::None,
        }
    }

    /// Calls `f` on each child (and, on `Visit::Recurse`, their children). A panic in
    /// `f` stops the walk and is resumed here, never crossing into C.
    pub fn visit_children(&self, mut f: impl FnMut(Cursor<'tu>) -> Visit) {
        let mut state = VisitState {
            callback: &mut f,
            panic: None,
        };
        // SAFETY: `state` outlives the call and is only reached through `data` by
        // `trampoline`, which never lets a panic unwind into libclang.
        unsafe {
            clang_visitChildren(
                self.raw,
                trampoline,
                &mut state as *mut VisitState<'_, '_> as *mut c_void,
            );
        }
        if let Some(p) = state.panic {
            resume_unwind(p);
        }
    }
}
