"""A test MCP server: tools that answer, fail, hang, return a lot, and one that crashes its server.

Run over stdio: `python tests/mcp_servers/demo.py`; over streamable HTTP on a loopback port:
`python tests/mcp_servers/demo.py --http PORT` (with $DEMO_TOKEN set, requests must carry
`Authorization: Bearer $DEMO_TOKEN`).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("demo")


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return text


@server.tool()
def add(a: int, b: int) -> dict:
    """Add two whole numbers; the sum comes back as structured content."""
    return {"sum": a + b}


@server.tool()
def fail(message: str = "it went wrong") -> str:
    """Always report an error (isError)."""
    raise ToolError(message)


@server.tool()
async def hang(seconds: float = 3600.0) -> str:
    """Take this long to answer."""
    await asyncio.sleep(seconds)
    return "woke up"


@server.tool()
def big(size: int) -> str:
    """A result of `size` characters."""
    return ("0123456789" * (size // 10 + 1))[:size]


@server.tool()
def crash() -> str:
    """End the server's process at once, mid-call."""
    print("demo: crashing on purpose", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def spawn() -> dict:
    """Start a long-lived child process (in this server's process group) and give its pid."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    return {"pid": child.pid}


@server.tool()
def whereami() -> dict:
    """The server's working directory, pid and the $DEMO_VALUE it was given."""
    return {"cwd": os.getcwd(), "pid": os.getpid(), "value": os.environ.get("DEMO_VALUE")}


def _require_token(app, token: str):
    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return guarded


def main(argv: list[str]) -> None:
    print("demo: starting", file=sys.stderr, flush=True)
    if len(argv) >= 2 and argv[0] == "--http":
        import uvicorn

        app = server.streamable_http_app()
        if token := os.environ.get("DEMO_TOKEN"):
            app = _require_token(app, token)
        uvicorn.run(app, host="127.0.0.1", port=int(argv[1]), log_level="warning")
    else:
        server.run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
