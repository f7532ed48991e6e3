//! `nccnav mcp`: the database's answers as tools for coding agents, an MCP server over
//! standard input and output.
//!
//! The official Rust SDK (`rmcp`) does the protocol: the handshake, the versions, the
//! framing and the errors. The tools answer what the command line answers, from the
//! same query layer ([`Navigator`]) and as the same JSON rows (`render`'s, which
//! `--json` prints), each row with its place as `at`: `file:line:col`. Lists stop at
//! 200 rows unless a call asks for another `limit`, and say how many they left out.
//! An unknown name is a tool error that lists close matches, so that an agent can
//! correct itself; a malformed call is a protocol error; the server keeps running.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult,
    Implementation, JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use schema::{Kind, SymbolId};
use serde_json::{json, Value};

use crate::answer::{Direction, Navigator, QueryError};
use crate::names::path_is;
use crate::render::{self, Limit};
use crate::served::Served;

/// Rows a list holds unless the call asks for another limit.
const DEFAULT_LIMIT: usize = 200;
/// The deepest `callers`/`callees` walk.
const MAX_DEPTH: usize = 8;
/// Lines of source either side of the one asked for, unless the call says.
const DEFAULT_CONTEXT: usize = 10;

/// Serves the database `asked` names (a database, or a directory to find one in) until
/// the client closes standard input. One that cannot be opened yet (a build that has
/// not written it) is tried again at each call, which says why it has no answer.
pub fn serve(asked: &Path) -> Result<(), QueryError> {
    let served = match open(asked) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("nccnav mcp: {e}; each tool call tries again");
            None
        }
    };
    let tools = Tools {
        served: Arc::new(Mutex::new(served)),
        asked: asked.to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(QueryError::Io)?;
    runtime.block_on(async {
        let running = tools
            // Pipes (as clients start servers) read and written without a thread
            // hand-off per message; anything else as blocking standard streams.
            .serve(rmcp::transport::stdio_pipes())
            .await
            .map_err(|e| QueryError::Usage(format!("MCP handshake: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| QueryError::Usage(format!("MCP server: {e}")))?;
        Ok(())
    })
}

#[derive(Clone)]
struct Tools {
    /// The open database, once it could be opened.
    served: Arc<Mutex<Option<Served>>>,
    /// What the command line named.
    asked: PathBuf,
}

/// The database `asked` names, opened.
fn open(asked: &Path) -> Result<Served, QueryError> {
    let db = schema::find_database(asked)?;
    Ok(Served::new(Navigator::open(&db)?))
}

const NAME_HELP: &str = "A name (vfs_read), FILE:NAME for one of several same-named statics \
    (fs/dcache.c:init, any tail of the path), STRUCT::FIELD (file_operations::read_iter) or \
    FUNCTION::PARAMETER.";

/// The tools: name, description, input schema.
fn tool_list() -> Vec<Tool> {
    let name = json!({"type": "string", "description": NAME_HELP});
    let limit = json!({"type": "integer", "minimum": 1,
        "description": "At most this many rows (200 unless given); the answer says how many it left out."});
    let dead = json!({"type": "boolean",
        "description": "Answer the calls in code this configuration never runs too (an arm of a constant condition, `if (IS_ENABLED(CONFIG_X))` with X off), marked dead. Default false."});
    let depth = json!({"type": "integer", "minimum": 1, "maximum": MAX_DEPTH,
        "description": "How many calls away to walk (1 unless given). Beyond 1 the answer lists calling pairs with their depth, not call sites."});
    let object = |props: Value, required: &[&str]| -> JsonObject {
        let v = json!({"type": "object", "properties": props, "required": required,
            "additionalProperties": false});
        match v {
            Value::Object(o) => o,
            _ => JsonObject::new(),
        }
    };
    let calls = || {
        object(
            json!({"name": name, "depth": depth, "limit": limit, "dead": dead}),
            &["name"],
        )
    };
    vec![
        Tool::new(
            "definitions",
            "Where a symbol of the compiled kernel is defined: functions, variables, macros, \
             struct/union/enum types, typedefs, fields and enumerators, each with file:line:col \
             (`at`), kind, linkage, and the macro whose expansion made it (a lock made by \
             DEFINE_SPINLOCK(x) names DEFINE_SPINLOCK) - names that ctags and cscope cannot see. \
             Only code this build compiled is known: a name the configuration left out is \
             unknown (the error lists close matches, or `compiled_out`: where an #ifdef this \
             configuration did not take would define it). A symbol nothing defines comes with its \
             declarations. An alias (sys_read, declared an alias of __se_sys_read) has \
             `alias_of`; a macro has `made`: what its expansions defined (DEFINE_SPINLOCK: \
             every lock), at most `limit` of them.",
            object(json!({"name": name, "limit": limit}), &["name"]),
        ),
        Tool::new(
            "callers",
            "Who calls a function, one row per call site with file:line:col: direct calls, and \
             calls through ops tables and function pointers (`via` names the member or pointer \
             called through, such as file_operations::read_iter). A call through a member \
             reaches the function only if something in this configuration stores it into that \
             member. For STRUCT::FIELD or a pointer variable: the calls through it. With depth > \
             1, the calling pairs up to that many calls away, with their depth.",
            calls(),
        ),
        Tool::new(
            "callees",
            "What a function calls, one row per call site with file:line:col. A call through a \
             pointer (`indirect`) lists in `targets` the functions that can be behind it: those \
             stored into that member or pointer anywhere in this build. Empty targets mean \
             nothing in this configuration fills it (or it is filled in a way nccrs does not \
             follow, such as a function's result). With depth > 1, the called pairs up to that \
             many calls away, with their depth.",
            calls(),
        ),
        Tool::new(
            "call_paths",
            "The shortest chains of calls from one function to another (at most 10 of them), \
             through ops tables and function pointers too (`via`), each call with \
             file:line:col. An error when no recorded chain leads there: calls from assembly, \
             through aliases and through arrays of pointers are not followed yet.",
            object(
                json!({"from": name, "to": name, "dead": dead}),
                &["from", "to"],
            ),
        ),
        Tool::new(
            "stores",
            "For a struct member, variable or parameter that holds function pointers: which \
             functions (or pointers, `copy`) are stored into it, where, and in which function \
             or initialized variable (`within`). For a function: every place it is stored, \
             into which member or variable.",
            object(json!({"name": name, "limit": limit}), &["name"]),
        ),
        Tool::new(
            "uses",
            "Who reads, writes or takes the address of a global variable or struct member: the \
             function, the access (read/write/addr) and file:line:col. For a function: the \
             globals and members it uses. Locals are not recorded.",
            object(json!({"name": name, "limit": limit}), &["name"]),
        ),
        Tool::new(
            "references",
            "Every place the compiled code refers to a symbol - calls, stores, reads, writes, \
             addresses taken (`work->func == wq_barrier_func`) - each with the function or \
             initialized variable it is in and file:line:col: cscope's \"find this C symbol\", \
             for code this configuration compiled only. For a function-like macro: where \
             function bodies expand it (access `expand`). Where types are used is not \
             recorded.",
            object(
                json!({"name": name, "limit": limit, "dead": dead}),
                &["name"],
            ),
        ),
        Tool::new(
            "search_symbols",
            "Symbols whose name contains the query (case-insensitive), ranked as the navigator \
             ranks them: exact, then prefix, then substring; functions and variables before \
             macros, types and fields; the kernel's own code before system headers. A query \
             with :: matches STRUCT::FIELD. When nothing contains it, close names (and the \
             functions of a system call: openat finds __do_sys_openat) are offered.",
            object(
                json!({"query": {"type": "string"}, "limit": limit}),
                &["query"],
            ),
        ),
        Tool::new(
            "source",
            "Lines of a source file of this build around a line, numbered, read from the tree \
             the build used. `file` is a path as the other tools give it (fs/read_write.c), or \
             any tail of it. Files the build never compiled are not served. A file edited \
             since the build may no longer match the recorded lines.",
            object(
                json!({"file": {"type": "string"}, "line": {"type": "integer", "minimum": 1},
                    "context": {"type": "integer", "minimum": 0,
                        "description": "Lines either side (10 unless given)."}}),
                &["file", "line"],
            ),
        ),
    ]
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("nccnav", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Facts of one Linux kernel build, as its compiler saw them (nccrs): definitions \
                 with the macro that made them, callers and callees through ops tables, call \
                 paths, stores into function pointers, uses, references, and source. Only code \
                 this configuration compiled is in it.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tool_list()))
    }

    /// A request the SDK could not read as one it knows: a `tools/call` or
    /// `tools/list` whose parameters are malformed is refused as invalid parameters,
    /// anything else as an unknown method.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        match request.method.as_str() {
            m @ ("tools/call" | "tools/list") => Err(ErrorData::invalid_params(
                format!(
                    "{m}: malformed parameters (tools/call takes {{\"name\": TOOL, \"arguments\": {{...}}}})"
                ),
                None,
            )),
            m => Err(ErrorData::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!("nccnav does not answer {m}"),
                None,
            )),
        }
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tool_list().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let mut slot = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            match open(&self.asked) {
                Ok(s) => *slot = Some(s),
                Err(e) => {
                    return Ok(CallToolResult::structured_error(json!({
                        "error": format!("no database to answer from: {e}"),
                    }))
                    .into())
                }
            }
        }
        let Some(served) = slot.as_mut() else {
            return Err(ErrorData::internal_error("no database", None));
        };
        served.refresh();
        let result = answer(served, &request.name, &args);
        served.nav.dead = false;
        match result {
            Ok(v) => Ok(CallToolResult::structured(v).into()),
            Err(Refusal::Protocol(e)) => Err(e),
            Err(Refusal::Tool(v)) => Ok(CallToolResult::structured_error(v).into()),
        }
    }
}

/// Why a call gets no answer: a malformed call, or a tool error the agent can act on.
enum Refusal {
    Protocol(ErrorData),
    Tool(Value),
}

/// How many close matches an unknown name's error lists.
const CLOSE_MATCHES: usize = 10;

impl From<QueryError> for Refusal {
    fn from(e: QueryError) -> Self {
        if let QueryError::CompiledOut { found, .. } = &e {
            let places: Vec<Value> = found
                .places
                .iter()
                .map(|p| {
                    json!({
                        "at": format!("{}:{}", p.path, p.line),
                        "inside": p.directive,
                        "directive_at": format!("{}:{}", p.path, p.directive_line),
                    })
                })
                .collect();
            return Refusal::Tool(json!({
                "error": e.to_string(),
                "compiled_out": places,
                "files_not_on_disk": found.unread.len(),
            }));
        }
        let QueryError::Unknown { name, suggestions } = e else {
            return Refusal::Tool(json!({"error": e.to_string()}));
        };
        let left = suggestions.len().saturating_sub(CLOSE_MATCHES);
        let shown: Vec<String> = suggestions.into_iter().take(CLOSE_MATCHES).collect();
        let mut error = QueryError::Unknown {
            name,
            suggestions: shown.clone(),
        }
        .to_string();
        if left > 0 {
            error.push_str(&format!(" (and {left} more)"));
        }
        Refusal::Tool(
            json!({"error": error, "close_matches": shown, "close_matches_left_out": left}),
        )
    }
}

impl From<schema::Error> for Refusal {
    fn from(e: schema::Error) -> Self {
        QueryError::from(e).into()
    }
}

fn bad_args(message: String) -> Refusal {
    Refusal::Protocol(ErrorData::invalid_params(message, None))
}

/// A call's arguments, checked against what the tool takes.
struct Args<'a>(&'a JsonObject);

impl Args<'_> {
    fn text(&self, key: &str) -> Result<&str, Refusal> {
        match self.0.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
            Some(_) => Err(bad_args(format!("`{key}` must be a non-empty string"))),
            None => Err(bad_args(format!("`{key}` is required"))),
        }
    }

    fn count(&self, key: &str, default: usize, max: usize) -> Result<usize, Refusal> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if n <= max as u64 => Ok(n as usize),
                _ => Err(bad_args(format!(
                    "`{key}` must be a whole number up to {max}"
                ))),
            },
        }
    }

    fn flag(&self, key: &str) -> Result<bool, Refusal> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad_args(format!("`{key}` must be true or false"))),
        }
    }

    fn limit(&self) -> Result<usize, Refusal> {
        let n = self.count("limit", DEFAULT_LIMIT, usize::MAX)?;
        if n == 0 {
            return Err(bad_args("`limit` must be at least 1".to_owned()));
        }
        Ok(n)
    }

    /// Refuses arguments the tool does not take (a misspelt one would be ignored).
    fn only(&self, keys: &[&str]) -> Result<(), Refusal> {
        match self.0.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(bad_args(format!(
                "unknown argument `{k}`; this tool takes {}",
                keys.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// One tool call's answer.
fn answer(served: &mut Served, tool: &str, args: &JsonObject) -> Result<Value, Refusal> {
    let a = Args(args);
    let mut v = match tool {
        "definitions" => {
            a.only(&["name", "limit"])?;
            let name = a.text("name")?;
            let limit = a.limit()?;
            let defs = match served.nav.definitions(name) {
                Err(QueryError::Unknown { name, suggestions }) => {
                    return Err(served.nav.unknown(&name, suggestions, &served.trees).into())
                }
                r => r?,
            };
            let mut rows =
                render::definitions_json(&mut served.nav, &defs, render::Limit(Some(limit)))?;
            let left = cut(&mut rows, 0, limit);
            with_at(&mut rows);
            let undefined: Vec<String> = defs.undefined.iter().map(|s| s.display_name()).collect();
            let mut v = json!({"name": name, "definitions": rows, "left_out": left});
            if !undefined.is_empty() {
                v["called_but_never_declared"] = undefined.into();
            }
            v
        }
        "callers" | "callees" => {
            a.only(&["name", "depth", "limit", "dead"])?;
            let dir = if tool == "callers" {
                Direction::Callers
            } else {
                Direction::Callees
            };
            served.nav.dead = a.flag("dead")?;
            let name = a.text("name")?;
            let depth = a.count("depth", 1, MAX_DEPTH)?;
            if depth == 0 {
                return Err(bad_args("`depth` must be at least 1".to_owned()));
            }
            let limit = a.limit()?;
            if depth == 1 {
                let sections = served.nav.calls(name, dir)?;
                let all = render::calls_json(&mut served.nav, &sections, dir, Limit(Some(limit)))?;
                let mut rows = all.rows;
                let left = cut(&mut rows, all.left, limit);
                with_at(&mut rows);
                let mut v = json!({"name": name, tool: rows, "left_out": left});
                let said: Vec<String> = sections
                    .iter()
                    .filter(|sec| sec.rows.is_empty())
                    .filter_map(|sec| not_called(served, &sec.symbol))
                    .collect();
                if !said.is_empty() {
                    v["why_empty"] = said.into();
                }
                v
            } else {
                deep_calls(served, name, dir, depth, limit)?
            }
        }
        "call_paths" => {
            a.only(&["from", "to", "dead"])?;
            served.nav.dead = a.flag("dead")?;
            let (from, to) = (a.text("from")?, a.text("to")?);
            let (graph, nav) = served.graph()?;
            let found = nav.paths(graph, from, to)?;
            if found.paths.is_empty() {
                return Err(QueryError::NoPath {
                    from: from.to_owned(),
                    to: to.to_owned(),
                }
                .into());
            }
            let mut paths = render::paths_json(nav, &found)?;
            for p in &mut paths {
                if let Value::Array(steps) = p {
                    with_at(steps);
                }
            }
            json!({"from": from, "to": to, "paths": paths, "more_as_short": found.more})
        }
        "stores" | "uses" | "references" => {
            let limit = Limit(Some(a.limit()?));
            let name = if tool == "references" {
                a.only(&["name", "limit", "dead"])?;
                served.nav.dead = a.flag("dead")?;
                a.text("name")?
            } else {
                a.only(&["name", "limit"])?;
                a.text("name")?
            };
            let nav = &mut served.nav;
            let all = match tool {
                "stores" => {
                    let sections = nav.stores(name)?;
                    render::stores_json(nav, &sections, limit)?
                }
                "uses" => {
                    let sections = nav.uses(name)?;
                    render::uses_json(nav, &sections, limit)?
                }
                _ => {
                    let sections = nav.refs(name)?;
                    render::refs_json(nav, &sections, limit)?
                }
            };
            let mut rows = all.rows;
            let left = cut(&mut rows, all.left, limit.0.unwrap_or(DEFAULT_LIMIT));
            with_at(&mut rows);
            json!({"name": name, tool: rows, "left_out": left})
        }
        "search_symbols" => {
            a.only(&["query", "limit"])?;
            search(served, a.text("query")?, a.limit()?)?
        }
        "source" => {
            a.only(&["file", "line", "context"])?;
            let file = a.text("file")?;
            let line = a.count("line", 0, u32::MAX as usize)?;
            let context = a.count("context", DEFAULT_CONTEXT, 10_000)?;
            source(served, file, line, context)?
        }
        other => {
            return Err(Refusal::Protocol(ErrorData::invalid_params(
                format!(
                    "no tool named {other:?}; the tools: {}",
                    tool_list()
                        .iter()
                        .map(|t| t.name.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            )))
        }
    };
    let notes = notes(served);
    if !notes.is_empty() {
        v["notes"] = notes.into();
    }
    Ok(v)
}

/// What a reader of this database should know: units that could not be indexed, and
/// indexing still under way.
fn notes(served: &mut Served) -> Vec<String> {
    let path = served.db().path().to_path_buf();
    render::failed_note(&mut served.nav)
        .into_iter()
        .chain(render::pending_note(&path))
        .collect()
}

/// Cuts an answer's rows (of all the symbols a name means) to `limit`; the rows left
/// out, added to those each symbol's list left out.
fn cut(rows: &mut Vec<Value>, left: usize, limit: usize) -> usize {
    let more = rows.len().saturating_sub(limit);
    rows.truncate(limit);
    left + more
}

/// Gives each row its place as `at`: `file:line:col`.
fn with_at(rows: &mut [Value]) {
    for row in rows {
        let (Some(file), Some(line), Some(col)) = (
            row.get("file").and_then(Value::as_str),
            row.get("line").and_then(Value::as_u64),
            row.get("col").and_then(Value::as_u64),
        ) else {
            continue;
        };
        row["at"] = format!("{file}:{line}:{col}").into();
    }
}

/// `callers`/`callees` beyond one call: the calling pairs up to `depth` calls away
/// (the `graph` command's neighbourhood), each with the depth of its far end.
fn deep_calls(
    served: &mut Served,
    name: &str,
    dir: Direction,
    depth: usize,
    limit: usize,
) -> Result<Value, Refusal> {
    let starts = served.nav.functions(name, dir.as_str())?;
    let (graph, nav) = served.graph()?;
    let (db, names) = nav.parts();
    let hood = graph.neighbourhood(&starts, dir, depth, usize::MAX, db, names)?;
    let mut level: HashMap<SymbolId, usize> = starts.iter().map(|&s| (s, 0)).collect();
    let mut rows = Vec::new();
    for (caller, callee, link) in &hood.edges {
        let (near, far) = match dir {
            Direction::Callers => (*callee, *caller),
            Direction::Callees => (*caller, *callee),
        };
        let d = level.get(&near).copied().unwrap_or(0) + 1;
        level.entry(far).or_insert(d);
        if rows.len() >= limit {
            continue;
        }
        let mut via = Vec::new();
        for &p in &link.pointers {
            via.push(nav.symbol(p)?.display_name());
        }
        let (db, names) = nav.parts();
        let mut row = json!({
            "caller": names.name(db, *caller)?,
            "caller_id": caller.0,
            "callee": names.name(db, *callee)?,
            "callee_id": callee.0,
            "depth": d,
            "direct": link.direct,
            "via": via,
        });
        if link.dead {
            row["dead"] = true.into();
        }
        if let Some(at) = defined_at(nav, far)? {
            row["defined_at"] = at.into();
        }
        rows.push(row);
    }
    let left = hood.edges.len().saturating_sub(rows.len());
    let key = match dir {
        Direction::Callers => "callers",
        Direction::Callees => "callees",
    };
    Ok(json!({"name": name, "depth": depth, key: rows, "left_out": left}))
}

/// Why nothing calls (or is called by) `s`, when it is not something calls are
/// recorded for ([`Navigator::not_called`]), in words.
fn not_called(served: &mut Served, s: &schema::Symbol) -> Option<String> {
    let why = served.nav.not_called(s)?;
    let mut text = format!(
        "{} is {}: calls are recorded against functions (and the members and pointers \
         called through)",
        s.display_name(),
        why.what
    );
    if s.kind != Kind::Macro {
        text.push_str("; ask references or uses");
        return Some(text);
    }
    text.push_str(", each naming the macro it was written in (`macro`)");
    if !why.functions.is_empty() {
        text.push_str(&format!(
            "; its definition names the functions {}: ask about those",
            why.functions.join(", ")
        ));
    }
    Some(text)
}

/// Where `id` is defined (else declared): `file:line:col`, the path as the other
/// answers give it.
fn defined_at(nav: &mut Navigator, id: SymbolId) -> Result<Option<String>, schema::Error> {
    let defs = nav.definitions_of(id)?;
    let Some(d) = defs.iter().find(|d| d.definition).or(defs.first()) else {
        return Ok(None);
    };
    let (db, names) = nav.parts();
    let f = names.file(db, d.loc.file)?;
    Ok(Some(format!("{}:{}:{}", f.path, d.loc.line, d.loc.col)))
}

/// `search_symbols`: the navigator's ranked search, else the closest names.
fn search(served: &mut Served, query: &str, limit: usize) -> Result<Value, Refusal> {
    let index = served.index()?;
    let found = index.find(query);
    let (hits, total, close) = if found.hits.is_empty() {
        (index.closest(query, |_| true, limit.min(20)), 0, true)
    } else {
        (found.hits, found.total, false)
    };
    let picked: Vec<(SymbolId, Kind, String)> = hits
        .iter()
        .take(limit)
        .map(|&i| {
            let e = index.entry(i);
            (e.id, e.kind, e.shown.clone())
        })
        .collect();
    let mut rows = Vec::new();
    for (id, kind, shown) in picked {
        let mut row = json!({"name": shown, "id": id.0, "kind": kind.as_str()});
        if let Some(at) = defined_at(&mut served.nav, id)? {
            row["at"] = at.into();
        }
        rows.push(row);
    }
    let key = if close { "close_matches" } else { "symbols" };
    let left = total.saturating_sub(rows.len());
    Ok(json!({"query": query, key: rows, "left_out": left}))
}

/// `source`: numbered lines of one of the build's files around `line`.
fn source(served: &mut Served, file: &str, line: usize, context: usize) -> Result<Value, Refusal> {
    if line == 0 {
        return Err(bad_args("`line` counts from 1".to_owned()));
    }
    // A place as the other tools give it (`fs/read_write.c:549:9`) names its file.
    let mut wanted = file.trim_start_matches("./");
    while let Some((rest, tail)) = wanted.rsplit_once(':') {
        if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        wanted = rest;
    }
    let mut matches: Vec<schema::File> = served
        .db()
        .files()?
        .into_iter()
        .filter(|f| path_is(&f.path, wanted) || (wanted.starts_with('/') && f.path == wanted))
        .collect();
    // The path itself, else the one file whose path ends so.
    if let Some(exact) = matches.iter().position(|f| f.path == wanted) {
        matches = vec![matches.swap_remove(exact)];
    }
    let f = match matches.as_slice() {
        [] => {
            return Err(Refusal::Tool(json!({
                "error": format!("{file} is not a file this build compiled or included"),
            })))
        }
        [one] => one,
        several => {
            let mut all: Vec<&str> = several.iter().map(|m| m.path.as_str()).collect();
            all.sort_unstable();
            let left = all.len().saturating_sub(CLOSE_MATCHES);
            all.truncate(CLOSE_MATCHES);
            return Err(Refusal::Tool(json!({
                "error": format!("{file} names {} files of this build: give more of the path", several.len()),
                "files": all,
                "files_left_out": left,
            })));
        }
    };
    let Some(path) = served.trees.on_disk(f) else {
        return Err(Refusal::Tool(json!({
            "error": format!("the database does not say where {} is on this machine", f.path),
        })));
    };
    let text = std::fs::read(&path)
        .map_err(|e| Refusal::Tool(json!({"error": format!("{}: {e}", path.display())})))?;
    let text = String::from_utf8_lossy(&text);
    let first = line.saturating_sub(context).max(1);
    let last = line.saturating_add(context);
    let lines: Vec<Value> = text
        .lines()
        .enumerate()
        .map(|(i, t)| (i + 1, t))
        .filter(|(n, _)| (first..=last).contains(n))
        .map(|(n, t)| json!({"line": n, "text": t}))
        .collect();
    if lines.is_empty() {
        return Err(Refusal::Tool(json!({
            "error": format!("{} has {} lines", f.path, text.lines().count()),
        })));
    }
    Ok(json!({"file": f.path, "path": path.display().to_string(), "lines": lines}))
}
