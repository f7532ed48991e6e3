#!/usr/bin/env python3
"""Drives `nccnav mcp` with the official MCP Python SDK, as an agent's client would.

    client.py NCCNAV DB CALLS_JSON

CALLS_JSON is a list of [tool, arguments]. Prints one JSON object: the server's
name, its tools (name, description, input schema), and for each call either the
tool's result (structured content, whether it is an error, its text) or the
protocol error it got. The server must keep answering after every error.
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp import MCPError


async def main(nccnav: str, db: str, calls: list) -> dict:
    server = StdioServerParameters(command=nccnav, args=["mcp", db])
    out: dict = {"calls": []}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = init.server_info.name
            out["instructions"] = init.instructions
            tools = await session.list_tools()
            out["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in tools.tools
            ]
            for tool, args in calls:
                try:
                    r = await session.call_tool(tool, args)
                    text = "".join(c.text for c in r.content if c.type == "text")
                    out["calls"].append(
                        {"tool": tool, "structured": r.structured_content,
                         "is_error": bool(r.is_error), "text": text}
                    )
                except MCPError as e:
                    out["calls"].append(
                        {"tool": tool, "protocol_error": e.error.code, "message": e.error.message}
                    )
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
    print(json.dumps(result))
