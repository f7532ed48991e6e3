#!/usr/bin/env python3
"""Latency of `nccnav lsp` and `nccnav mcp` requests, as their client sees it (request
written to the server's standard input until its answer is read back), over random
functions of a database, once each server has loaded what it builds on first use
(the symbol search, the call graph: timed apart).

    bench/server-latency.py DB [COUNT] [NCCNAV]    (default 300 functions, seed 1)

Each function is asked about at its definition (LSP: definition, references, hover,
call hierarchy; MCP: definitions, callers, callees, references, search_symbols), and
call paths between random pairs of them. Prints median, p99 and max per request.
"""
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time

db = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
nccnav = sys.argv[3] if len(sys.argv) > 3 else "target/release/nccnav"

conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
meta = dict(conn.execute("SELECT key, value FROM meta"))
rows = conn.execute(
    """SELECT s.name, f.path, d.line, d.col FROM definitions d
       JOIN symbols s ON s.id = d.symbol JOIN files f ON f.id = d.file
       WHERE d.definition = 1 AND s.kind = 'function' AND f.root = 'src'"""
).fetchall()
random.seed(1)
picked = random.sample(sorted(set(rows)), min(count, len(rows)))
srctree = meta["srctree"]


answered = {}


def stats(name, ms):
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"  {name:34} n={len(ms):4}  median {statistics.median(ms):6.2f} ms"
          f"  p99 {p99:6.2f} ms  max {ms[-1]:6.2f} ms  answered {answered.get(name, 0)}")
    return p99


def note(name, result):
    """Counts the answers that hold something (a location, a row, a hover)."""
    if isinstance(result, dict) and "structuredContent" in result:
        s = result["structuredContent"]
        full = not result.get("isError") and any(
            isinstance(v, list) and v for v in s.values())
    else:
        full = bool(result)
    answered[name] = answered.get(name, 0) + int(full)


class Lsp:
    def __init__(self):
        self.p = subprocess.Popen([nccnav, "lsp", db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next = 0

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.p.stdout.readline().strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next += 1
        t = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == self.next:
                return (time.perf_counter() - t) * 1000, m.get("result")

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


class Mcp:
    def __init__(self):
        self.p = subprocess.Popen([nccnav, "mcp", db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.p.stdin.flush()

    def request(self, method, params):
        self.next += 1
        t = time.perf_counter()
        msg = {"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}
        self.p.stdin.write(json.dumps(msg).encode() + b"\n")
        self.p.stdin.flush()
        while True:
            m = json.loads(self.p.stdout.readline())
            if m.get("id") == self.next:
                return (time.perf_counter() - t) * 1000, m.get("result")

    def tool(self, name, args):
        return self.request("tools/call", {"name": name, "arguments": args})


print(f"{db}: {len(picked)} functions, {nccnav}")
worst = {}

print("nccnav lsp")
lsp = Lsp()
lsp.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
lsp.notify("initialized", {})
first, _ = lsp.request("workspace/symbol", {"query": "vfs_read"})
print(f"  first workspace/symbol (reads the symbol list): {first:.0f} ms")
timings = {k: [] for k in ("textDocument/definition", "textDocument/references",
                           "textDocument/hover", "textDocument/prepareCallHierarchy",
                           "callHierarchy/incomingCalls", "callHierarchy/outgoingCalls",
                           "workspace/symbol")}
for name, path, line, col in picked:
    at = {"textDocument": {"uri": "file://" + os.path.join(srctree, path)},
          "position": {"line": line - 1, "character": col - 1}}
    for method in ("textDocument/definition", "textDocument/hover"):
        ms, r = lsp.request(method, at)
        timings[method].append(ms)
        note(method, r)
    ms, r = lsp.request("textDocument/references",
                        dict(at, context={"includeDeclaration": False}))
    timings["textDocument/references"].append(ms)
    note("textDocument/references", r)
    ms, items = lsp.request("textDocument/prepareCallHierarchy", at)
    timings["textDocument/prepareCallHierarchy"].append(ms)
    note("textDocument/prepareCallHierarchy", items)
    if items:
        for method in ("callHierarchy/incomingCalls", "callHierarchy/outgoingCalls"):
            ms, r = lsp.request(method, {"item": items[0]})
            timings[method].append(ms)
            note(method, r)
    ms, r = lsp.request("workspace/symbol", {"query": name})
    timings["workspace/symbol"].append(ms)
    note("workspace/symbol", r)
for k, v in timings.items():
    worst["lsp " + k] = stats(k, v)
lsp.request("shutdown", None)
lsp.notify("exit", None)
lsp.p.wait()

print("nccnav mcp")
mcp = Mcp()
first, _ = mcp.tool("search_symbols", {"query": "vfs_read"})
print(f"  first search_symbols (reads the symbol list): {first:.0f} ms")
first, _ = mcp.tool("call_paths", {"from": "ksys_read", "to": "vfs_read"})
print(f"  first call_paths (reads the call graph): {first:.0f} ms")
timings = {k: [] for k in ("definitions", "callers", "callees", "references",
                           "search_symbols", "call_paths")}
for i, (name, path, line, col) in enumerate(picked):
    spec = f"{path}:{name}"
    for tool in ("definitions", "callers", "callees", "references"):
        ms, r = mcp.tool(tool, {"name": spec})
        timings[tool].append(ms)
        note(tool, r)
    ms, r = mcp.tool("search_symbols", {"query": name})
    timings["search_symbols"].append(ms)
    note("search_symbols", r)
    other = picked[(i * 7 + 3) % len(picked)]
    ms, r = mcp.tool("call_paths", {"from": spec, "to": f"{other[1]}:{other[0]}"})
    timings["call_paths"].append(ms)
    note("call_paths", r)
for k, v in timings.items():
    worst["mcp " + k] = stats(k, v)
mcp.p.stdin.close()
mcp.p.wait()

over = {k: v for k, v in worst.items() if v > 5}
print("p99 over 5 ms: " + (", ".join(f"{k} {v:.1f} ms" for k, v in over.items()) or "none"))
