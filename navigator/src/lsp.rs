//! `nccnav lsp`: the database's answers to an editor, as a language server over
//! standard input and output.
//!
//! rust-analyzer's `lsp-server` does the framing, the `initialize` handshake and the
//! shutdown; the requests are answered from [`Navigator`], the query layer the command
//! line and the navigator ask, and written as the protocol's JSON here. A position means
//! what the build recorded at that place of that file (a definition, a direct call, a
//! use, a stored value: `read` in `f->f_op->read(...)` is the member); where nothing
//! is recorded, the name under it (C has no overloading: a name and the file it is
//! written in say which symbol; the one defined in that file comes first). Served:
//! `textDocument/definition`, `textDocument/references` (the answer of `nccnav DB
//! refs`), `textDocument/hover`, `workspace/symbol` (the navigator's search),
//! `textDocument/prepareCallHierarchy` and `callHierarchy/incomingCalls` and
//! `outgoingCalls` (calls through pointers included, their member in the detail).
//!
//! Bad requests get an error or an empty answer, and the server keeps running.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use schema::{FileId, Kind, Location, Symbol, SymbolId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::answer::{Direction, Navigator, QueryError};
use crate::served::Served;

/// Serves the database `asked` names (a database, or a directory to find one in) until
/// the client says `exit`. One that cannot be opened yet (a build that has not written
/// it) is tried again at each request, which fails with the reason until then.
pub fn serve(asked: &Path) -> Result<(), QueryError> {
    let open =
        || -> Result<Navigator, QueryError> { Navigator::open(&schema::find_database(asked)?) };
    let mut server = match open() {
        Ok(nav) => Some(Server::new(nav)),
        Err(e) => {
            eprintln!("nccnav lsp: {e}; each request tries again");
            None
        }
    };
    // The documents the editor opened before there was a database.
    let mut early = HashMap::new();
    let (conn, io) = stdio_connection();
    let caps = json!({
        // A number: Neovim 0.7 sends `didOpen` only then.
        "textDocumentSync": 1,
        "definitionProvider": true,
        "referencesProvider": true,
        "hoverProvider": true,
        "workspaceSymbolProvider": true,
        "callHierarchyProvider": true,
    });
    let protocol = |e: lsp_server::ProtocolError| QueryError::Usage(e.to_string());
    let (id, _) = conn.initialize_start().map_err(protocol)?;
    conn.initialize_finish(
        id,
        json!({
            "capabilities": caps,
            "serverInfo": {"name": "nccnav", "version": env!("CARGO_PKG_VERSION")},
        }),
    )
    .map_err(protocol)?;
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req).map_err(protocol)? {
                    break;
                }
                let id = req.id.clone();
                if server.is_none() {
                    match open() {
                        Ok(nav) => {
                            let mut s = Server::new(nav);
                            s.open = std::mem::take(&mut early);
                            server = Some(s);
                        }
                        Err(e) => {
                            let response = Response::new_err(
                                id,
                                ErrorCode::RequestFailed as i32,
                                format!("no database to answer from: {e}"),
                            );
                            if conn.sender.send(response.into()).is_err() {
                                break;
                            }
                            continue;
                        }
                    }
                }
                let Some(server) = server.as_mut() else {
                    continue;
                };
                let response = match server.answer(req) {
                    Ok(v) => Response::new_ok(id, v),
                    Err(Failure(code, msg)) => Response::new_err(id, code as i32, msg),
                };
                if conn.sender.send(response.into()).is_err() {
                    break;
                }
            }
            Message::Notification(n) => match server.as_mut() {
                Some(server) => note_document(&mut server.open, n),
                None => note_document(&mut early, n),
            },
            Message::Response(_) => {}
        }
    }
    // The writer thread ends when the connection is gone.
    drop(conn);
    for thread in io {
        let _ = thread.join();
    }
    Ok(())
}

/// The connection over standard input and output: `Connection::stdio()`'s threads,
/// but a message whose body is not JSON is answered with a parse error and skipped
/// (its bytes are read before it is parsed, so the next message is read whole)
/// instead of ending the connection.
fn stdio_connection() -> (Connection, [std::thread::JoinHandle<()>; 2]) {
    let (to_server, receiver) = crossbeam_channel::bounded::<Message>(0);
    let (sender, to_client) = crossbeam_channel::bounded::<Message>(0);
    let writer = std::thread::spawn(move || {
        for msg in to_client {
            if msg.write(&mut std::io::stdout().lock()).is_err() {
                break;
            }
        }
    });
    let reader = std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        loop {
            match Message::read(&mut input) {
                Ok(Some(msg)) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if to_server.send(msg).is_err() || exit {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    let error = json!({"jsonrpc": "2.0", "id": null,
                        "error": {"code": -32700, "message": e.to_string()}})
                    .to_string();
                    let mut out = std::io::stdout().lock();
                    let written = write!(out, "Content-Length: {}\r\n\r\n{error}", error.len())
                        .and_then(|()| out.flush());
                    if written.is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    (Connection { sender, receiver }, [reader, writer])
}

/// Keeps the text of the documents the editor has open, as it says it changes them.
fn note_document(open: &mut HashMap<String, String>, n: Notification) {
    match n.method.as_str() {
        "textDocument/didOpen" => {
            if let Ok(p) = serde_json::from_value::<Opened>(n.params) {
                open.insert(p.text_document.uri, p.text_document.text);
            }
        }
        "textDocument/didChange" => {
            if let Ok(p) = serde_json::from_value::<Changed>(n.params) {
                if let Some(c) = p.content_changes.into_iter().last() {
                    open.insert(p.text_document.uri, c.text);
                }
            }
        }
        "textDocument/didClose" => {
            if let Ok(p) = serde_json::from_value::<Closed>(n.params) {
                open.remove(&p.text_document.uri);
            }
        }
        _ => {}
    }
}

/// A request that gets an error: its code and message.
struct Failure(ErrorCode, String);

impl From<schema::Error> for Failure {
    fn from(e: schema::Error) -> Self {
        Failure(ErrorCode::RequestFailed, e.to_string())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TextDocument {
    uri: String,
}

#[derive(Deserialize, Clone, Copy)]
struct Position {
    line: u32,
    character: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AtPosition {
    text_document: TextDocument,
    position: Position,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferenceContext {
    include_declaration: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct References {
    #[serde(flatten)]
    at: AtPosition,
    context: Option<ReferenceContext>,
}

#[derive(Deserialize)]
struct Query {
    query: String,
}

#[derive(Deserialize)]
struct Hierarchy {
    item: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Opened {
    text_document: OpenedDocument,
}

#[derive(Deserialize)]
struct OpenedDocument {
    uri: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Changed {
    text_document: TextDocument,
    content_changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Closed {
    text_document: TextDocument,
}

fn params<P: serde::de::DeserializeOwned>(req: Request) -> Result<P, Failure> {
    serde_json::from_value(req.params).map_err(|e| Failure(ErrorCode::InvalidParams, e.to_string()))
}

/// The server's state: the database, the files the editor has open.
struct Server {
    served: Served,
    /// The text of each open document, by URI.
    open: HashMap<String, String>,
    /// Each file's path on disk, by id.
    paths: HashMap<FileId, Option<PathBuf>>,
    /// Each file's id, by its path on disk (read on first use).
    file_ids: Option<HashMap<PathBuf, FileId>>,
    /// The symbols recorded at each (line, column) of a file, read on first use.
    named: HashMap<FileId, HashMap<(u32, u32), Vec<SymbolId>>>,
}

impl Server {
    fn new(nav: Navigator) -> Server {
        Server {
            served: Served::new(nav),
            open: HashMap::new(),
            paths: HashMap::new(),
            file_ids: None,
            named: HashMap::new(),
        }
    }

    fn answer(&mut self, req: Request) -> Result<Value, Failure> {
        // A database that a build still writes to: read afresh what changed.
        if self.served.refresh() {
            self.paths.clear();
            self.file_ids = None;
            self.named.clear();
        }
        match req.method.as_str() {
            "textDocument/definition" => {
                let p: AtPosition = params(req)?;
                self.definition(&p)
            }
            "textDocument/references" => {
                let p: References = params(req)?;
                let declarations = p.context.is_some_and(|c| c.include_declaration);
                self.references(&p.at, declarations)
            }
            "textDocument/hover" => {
                let p: AtPosition = params(req)?;
                self.hover(&p)
            }
            "workspace/symbol" => {
                let p: Query = params(req)?;
                self.symbols(&p.query)
            }
            "textDocument/prepareCallHierarchy" => {
                let p: AtPosition = params(req)?;
                self.prepare(&p)
            }
            "callHierarchy/incomingCalls" => {
                let p: Hierarchy = params(req)?;
                self.calls(&p.item, Direction::Callers)
            }
            "callHierarchy/outgoingCalls" => {
                let p: Hierarchy = params(req)?;
                self.calls(&p.item, Direction::Callees)
            }
            m => Err(Failure(
                ErrorCode::MethodNotFound,
                format!("nccnav does not answer {m}"),
            )),
        }
    }

    /// The text of the document at `uri`: as the editor has it open, else on disk.
    fn text(&self, uri: &str) -> Option<String> {
        match self.open.get(uri) {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(uri_path(uri)?).ok(),
        }
    }

    /// The symbols the name under `at` means, those defined in its file first.
    fn symbols_at(&mut self, at: &AtPosition) -> Result<Vec<Symbol>, Failure> {
        let uri = &at.text_document.uri;
        let Some(text) = self.text(uri) else {
            return Ok(Vec::new());
        };
        let Some((name, col)) = word_at(&text, at.position) else {
            return Ok(Vec::new());
        };
        // What the build recorded at that very place (`f_op->read`: the member), else
        // every symbol of that name.
        let recorded = self.recorded_at(uri, at.position.line + 1, col, &name)?;
        if !recorded.is_empty() {
            return Ok(recorded);
        }
        // Else the name, as C would see it from here: nothing in a comment or a string;
        // after `.` or `->` a member; elsewhere no member, parameter or local (those
        // the build did not record here are another function's), no static of another
        // `.c` file, nothing only the C library's headers define.
        let line = at.position.line as usize;
        let Some(member) = member_access(&text, line, col as usize - 1) else {
            return Ok(Vec::new());
        };
        let mut symbols: Vec<Symbol> = if member {
            let mut fields = self.served.db().symbols_named(&name)?;
            fields.retain(|s| s.kind == Kind::Field);
            fields
        } else {
            match self.served.nav.resolve(&name) {
                Ok(s) => s.into_iter().filter(|s| s.scope.is_none()).collect(),
                Err(QueryError::Db(e)) => return Err(e.into()),
                Err(_) => return Ok(Vec::new()),
            }
        };
        let here = uri_path(uri).map(|p| schema::normalize_path(&p));
        let mut in_this_file = HashMap::new();
        let mut seen_from_here = HashMap::new();
        for s in &symbols {
            let defs = self.served.nav.definitions_of(s.id)?;
            let mut here_too = false;
            let mut visible = member || defs.is_empty();
            for d in &defs {
                here_too |= here.is_some() && self.path(d.loc.file) == here;
                let (db, names) = self.served.nav.parts();
                let f = names.file(db, d.loc.file)?;
                let system = f.root == schema::Root::Abs && f.path.starts_with("/usr/");
                let other_c_file = s.linkage == schema::Linkage::Internal && f.path.ends_with(".c");
                visible |= !system && !other_c_file;
            }
            in_this_file.insert(s.id, here_too);
            seen_from_here.insert(s.id, visible || here_too);
        }
        symbols.retain(|s| seen_from_here[&s.id]);
        symbols.sort_by_key(|s| !in_this_file[&s.id]);
        Ok(symbols)
    }

    /// The symbols called `name` that the build recorded at `line`, `col` of the file
    /// at `uri`: a definition, a direct call, a use or a stored value there.
    fn recorded_at(
        &mut self,
        uri: &str,
        line: u32,
        col: u32,
        name: &str,
    ) -> Result<Vec<Symbol>, Failure> {
        let Some(path) = uri_path(uri).map(|p| schema::normalize_path(&p)) else {
            return Ok(Vec::new());
        };
        let Some(file) = self.file_id(&path)? else {
            return Ok(Vec::new());
        };
        if !self.named.contains_key(&file) {
            let mut at: HashMap<(u32, u32), Vec<SymbolId>> = HashMap::new();
            for (l, c, s) in self.served.db().named_in_file(file)? {
                at.entry((l, c)).or_default().push(s);
            }
            self.named.insert(file, at);
        }
        let ids = self
            .named
            .get(&file)
            .and_then(|at| at.get(&(line, col)))
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for id in ids {
            let s = self.served.nav.symbol(id)?;
            // A place names the symbol written there: a call through a pointer or a
            // macro's expansion is recorded where a different name is written.
            if s.name == name {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The id of the file at `path` (normalized), if the build read it.
    fn file_id(&mut self, path: &Path) -> Result<Option<FileId>, Failure> {
        if self.file_ids.is_none() {
            let mut ids = HashMap::new();
            for f in self.served.db().files()? {
                if let Some(p) = self.served.trees.on_disk(&f) {
                    ids.insert(schema::normalize_path(&p), f.id);
                }
            }
            self.file_ids = Some(ids);
        }
        Ok(self
            .file_ids
            .as_ref()
            .and_then(|ids| ids.get(path))
            .copied())
    }

    /// Where the file with id `file` is on disk.
    fn path(&mut self, file: FileId) -> Option<PathBuf> {
        if let Some(p) = self.paths.get(&file) {
            return p.clone();
        }
        let (db, names) = self.served.nav.parts();
        let path = names
            .file(db, file)
            .ok()
            .and_then(|f| self.served.trees.on_disk(f))
            .map(|p| schema::normalize_path(&p));
        self.paths.insert(file, path.clone());
        path
    }

    /// `loc` as a protocol location (`len` characters from it, the length of the name
    /// written there), if its file is on this machine.
    fn location(&mut self, loc: Location, len: usize) -> Option<Value> {
        let path = self.path(loc.file)?;
        Some(json!({"uri": path_uri(&path), "range": range(loc, len)}))
    }

    fn definition(&mut self, at: &AtPosition) -> Result<Value, Failure> {
        let mut out = Vec::new();
        for s in self.symbols_at(at)? {
            let defs = self.served.nav.definitions_of(s.id)?;
            // Definitions, or the declarations when nothing defines it.
            let defined = defs.iter().any(|d| d.definition);
            for d in defs.into_iter().filter(|d| d.definition || !defined) {
                out.extend(self.location(d.loc, s.name.len()));
            }
        }
        Ok(Value::Array(out))
    }

    fn references(&mut self, at: &AtPosition, declarations: bool) -> Result<Value, Failure> {
        let mut out = Vec::new();
        for s in self.symbols_at(at)? {
            if declarations {
                for d in self.served.nav.definitions_of(s.id)? {
                    out.extend(self.location(d.loc, s.name.len()));
                }
            }
            for r in self.served.nav.refs_of(&s)? {
                out.extend(self.location(r.site, s.name.len()));
            }
        }
        Ok(Value::Array(out))
    }

    fn hover(&mut self, at: &AtPosition) -> Result<Value, Failure> {
        let mut parts = Vec::new();
        for s in self.symbols_at(at)? {
            parts.push(self.describe(&s)?);
        }
        if parts.is_empty() {
            return Ok(Value::Null);
        }
        if let Some(warning) = self.edited(&at.text_document.uri) {
            parts.insert(0, format!("**{warning}**"));
        }
        Ok(json!({"contents": {"kind": "markdown", "value": parts.join("\n\n---\n\n")}}))
    }

    /// Why the places recorded for the file at `uri` may not be its lines now: it is
    /// not the file the build indexed (its content differs from the hash recorded
    /// with it; for a database written before schema 10, it was modified after the
    /// database), or the editor holds text other than the file's.
    fn edited(&mut self, uri: &str) -> Option<String> {
        let path = schema::normalize_path(&uri_path(uri)?);
        let file = self.file_id(&path).ok()??;
        let modified = match self.served.db().file_as_indexed(file).ok()? {
            Some((stamp, hash)) => {
                schema::FileStamp::of(&path) != Some(stamp)
                    && std::fs::read(&path)
                        .is_ok_and(|now| schema::content_hash(&now).as_slice() != hash)
            }
            None => {
                let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
                let db = self.served.db().path();
                let mut wal = db.as_os_str().to_owned();
                wal.push("-wal");
                let written = [mtime(db), mtime(Path::new(&wal))]
                    .into_iter()
                    .flatten()
                    .max();
                written.is_some_and(|w| mtime(&path).is_some_and(|m| m > w))
            }
        };
        if modified {
            return Some(
                "This file was modified after the build indexed it: the recorded lines \
                 may no longer be where its code is."
                    .to_owned(),
            );
        }
        let open = self.open.get(uri)?;
        let disk = std::fs::read(&path).ok()?;
        (open.as_bytes() != disk.as_slice()).then(|| {
            "The editor's text is not the file's as built (unsaved changes): the recorded \
             lines may be off."
                .to_owned()
        })
    }

    /// Kind, linkage, where defined and by which macro, callers and callees.
    fn describe(&mut self, s: &Symbol) -> Result<String, Failure> {
        let mut text = match s.linkage {
            schema::Linkage::None => format!("`{}`: {}", s.display_name(), s.kind.as_str()),
            l => format!("`{}`: {} {}", s.display_name(), l.as_str(), s.kind.as_str()),
        };
        for d in self.served.nav.definitions_of(s.id)? {
            let site = self.served.nav.site(d.loc)?;
            let what = if d.definition { "defined" } else { "declared" };
            text.push_str(&format!("\n\n{what} at {}", site.full()));
            if let Some(m) = &d.macro_name {
                text.push_str(&format!(" by `{m}`"));
            }
        }
        if s.kind == Kind::Function {
            let callers = self.served.nav.callers_of(s.id, s.kind)?.len();
            let callees = self.served.nav.callees_of(s.id)?.len();
            text.push_str(&format!("\n\n{callers} calls to it, {callees} calls in it"));
        }
        Ok(text)
    }

    fn symbols(&mut self, query: &str) -> Result<Value, Failure> {
        let index = self.served.index()?;
        let ids: Vec<SymbolId> = index
            .find(query)
            .hits
            .iter()
            .map(|&i| index.entry(i).id)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            let s = self.served.nav.symbol(id)?;
            let Some(d) = self.served.nav.definitions_of(id)?.into_iter().next() else {
                continue;
            };
            if let Some(location) = self.location(d.loc, s.name.len()) {
                out.push(json!({
                    "name": s.display_name(),
                    "kind": symbol_kind(s.kind),
                    "location": location,
                }));
            }
        }
        Ok(Value::Array(out))
    }

    /// A call hierarchy item for function `s`, at its definition.
    fn item(&mut self, s: &Symbol, detail: Option<String>) -> Result<Option<Value>, Failure> {
        let defs = self.served.nav.definitions_of(s.id)?;
        let Some(d) = defs.iter().find(|d| d.definition).or(defs.first()) else {
            return Ok(None);
        };
        let Some(path) = self.path(d.loc.file) else {
            return Ok(None);
        };
        let mut item = json!({
            "name": s.display_name(),
            "kind": symbol_kind(s.kind),
            "uri": path_uri(&path),
            "range": range(d.loc, s.name.len()),
            "selectionRange": range(d.loc, s.name.len()),
            "data": s.id.0,
        });
        if let Some(detail) = detail {
            item["detail"] = Value::String(detail);
        }
        Ok(Some(item))
    }

    fn prepare(&mut self, at: &AtPosition) -> Result<Value, Failure> {
        let mut out = Vec::new();
        for s in self.symbols_at(at)? {
            out.extend(self.item(&s, None)?);
        }
        Ok(Value::Array(out))
    }

    /// The callers or callees of the function an item stands for, one entry for each
    /// function with the places of its calls; a call through a pointer says which
    /// member or variable in its detail.
    fn calls(&mut self, item: &Value, dir: Direction) -> Result<Value, Failure> {
        let Some(id) = item.get("data").and_then(Value::as_i64) else {
            return Err(Failure(
                ErrorCode::InvalidParams,
                "a call hierarchy item without nccnav's data".to_owned(),
            ));
        };
        let me = self.served.nav.symbol(SymbolId(id))?;
        let rows = match dir {
            Direction::Callers => self.served.nav.callers_of(me.id, me.kind)?,
            Direction::Callees => self.served.nav.callees_of(me.id)?,
        };
        // By the other function (and the pointer it is reached through).
        let mut by: BTreeMap<(SymbolId, Option<SymbolId>), Vec<Location>> = BTreeMap::new();
        for r in rows {
            let other = match dir {
                Direction::Callers => r.edge.caller,
                Direction::Callees => r.edge.callee,
            };
            by.entry((other, r.via)).or_default().push(r.edge.site);
        }
        let mut out = Vec::new();
        for ((other, via), sites) in by {
            let s = self.served.nav.symbol(other)?;
            let detail = match via {
                Some(v) => Some(format!("via {}", self.served.nav.symbol(v)?.display_name())),
                None if dir == Direction::Callees && s.kind != Kind::Function => {
                    Some("through this pointer".to_owned())
                }
                None => None,
            };
            let Some(item) = self.item(&s, detail)? else {
                continue;
            };
            // The sites are where the callee's name (or the pointer's) is written.
            let len = match dir {
                Direction::Callers => me.name.len(),
                Direction::Callees => s.name.len(),
            };
            let ranges: Vec<Value> = sites.into_iter().map(|l| range(l, len)).collect();
            let key = if dir == Direction::Callers {
                "from"
            } else {
                "to"
            };
            out.push(json!({key: item, "fromRanges": ranges}));
        }
        Ok(Value::Array(out))
    }
}

/// A protocol range of `len` characters from `loc` (lines and columns from 0).
fn range(loc: Location, len: usize) -> Value {
    let (line, col) = (loc.line.saturating_sub(1), loc.col.saturating_sub(1));
    json!({
        "start": {"line": line, "character": col},
        "end": {"line": line, "character": col + len.max(1) as u32},
    })
}

/// The protocol's number for a kind of symbol.
fn symbol_kind(kind: Kind) -> u32 {
    match kind {
        Kind::Function => 12,
        Kind::Variable => 13,
        Kind::Macro => 14,
        Kind::Struct | Kind::Union | Kind::Typedef => 23,
        Kind::Enum => 10,
        Kind::Enumerator => 22,
        Kind::Field => 8,
        Kind::Parameter | Kind::Result => 13,
    }
}

/// The identifier the position is on or just after, and the byte column it starts at
/// (from 1, as the database counts). The position's column counts UTF-16 units, as
/// the protocol does.
fn word_at(text: &str, at: Position) -> Option<(String, u32)> {
    let line = text.lines().nth(at.line as usize)?;
    let mut units = 0;
    let mut byte = line.len();
    for (i, c) in line.char_indices() {
        if units >= at.character as usize {
            byte = i;
            break;
        }
        units += c.len_utf16();
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = line[..byte]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| ident(c))
        .last()
        .map_or(byte, |(i, _)| i);
    let end = line[byte..]
        .char_indices()
        .find(|&(_, c)| !ident(c))
        .map_or(line.len(), |(i, _)| byte + i);
    let word = &line[start..end];
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| (word.to_owned(), start as u32 + 1))
}

/// Whether the identifier starting at byte `start` of line `line` is a member (after
/// `.` or `->`); None inside a comment or a string or character literal.
fn member_access(text: &str, line: usize, start: usize) -> Option<bool> {
    let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let end = line_start + start;
    let bytes = text.as_bytes().get(..end)?;
    #[derive(PartialEq)]
    enum In {
        Code,
        LineComment,
        BlockComment,
        Quoted(u8),
    }
    let mut state = In::Code;
    let mut i = 0;
    while i < bytes.len() {
        let (c, next) = (bytes[i], bytes.get(i + 1).copied());
        match state {
            In::Code => match (c, next) {
                (b'/', Some(b'/')) => state = In::LineComment,
                (b'/', Some(b'*')) => {
                    state = In::BlockComment;
                    i += 1;
                }
                (b'"' | b'\'', _) => state = In::Quoted(c),
                _ => {}
            },
            In::LineComment if c == b'\n' => state = In::Code,
            In::BlockComment if c == b'*' && next == Some(b'/') => {
                state = In::Code;
                i += 1;
            }
            In::Quoted(_) if c == b'\\' => i += 1,
            In::Quoted(q) if c == q || c == b'\n' => state = In::Code,
            _ => {}
        }
        i += 1;
    }
    if state != In::Code {
        return None;
    }
    let before = text[line_start..end].trim_end_matches([' ', '\t']);
    Some(before.ends_with('.') || before.ends_with("->"))
}

/// The path a `file://` URI names.
fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut it = rest.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex: Vec<u8> = it.by_ref().take(2).collect();
            let h = std::str::from_utf8(&hex).ok()?;
            bytes.push(u8::from_str_radix(h, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

/// The `file://` URI of an absolute path.
fn path_uri(path: &Path) -> String {
    format!("file://{}", schema::uri_escape(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_under_the_cursor_is_the_identifier_around_it() {
        let text = "int x;\n\treturn vfs_read(file, buf);\n";
        let at = |line, character| word_at(text, Position { line, character }).map(|w| w.0);
        assert_eq!(at(1, 8).as_deref(), Some("vfs_read"));
        assert_eq!(at(1, 15).as_deref(), Some("vfs_read"), "just after it");
        assert_eq!(at(1, 17).as_deref(), Some("file"));
        assert_eq!(at(1, 0), None);
        assert_eq!(at(9, 0), None);
    }

    #[test]
    fn a_member_after_dot_or_arrow_and_nothing_in_comments() {
        let text = "int x; /* a comment\n with read */\n\tf->f_op->read(s, \"read\");\n\t.read = r, // read\n";
        assert_eq!(member_access(text, 1, 6), None, "block comment");
        assert_eq!(member_access(text, 2, 10), Some(true), "after ->");
        assert_eq!(member_access(text, 2, 1), Some(false), "plain");
        assert_eq!(member_access(text, 2, 19), None, "string");
        assert_eq!(member_access(text, 3, 2), Some(true), "designator");
        assert_eq!(member_access(text, 3, 15), None, "line comment");
    }

    #[test]
    fn paths_and_uris_go_both_ways() {
        let p = Path::new("/src/linux 6.12/fs/read_write.c");
        let uri = path_uri(p);
        assert_eq!(uri, "file:///src/linux%206.12/fs/read_write.c");
        assert_eq!(uri_path(&uri).as_deref(), Some(p));
    }
}
