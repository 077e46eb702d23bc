"""Starting the demo MCP server over streamable HTTP on a free loopback port, for the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DEMO = Path(__file__).with_name("demo.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def http_demo(token: str | None = None, log: Path | None = None, port: int | None = None):
    """The demo server over HTTP (on `port`, else a free one); yields its URL; ended (and waited for) on exit."""
    port = port or free_port()
    env = {**os.environ, **({"DEMO_TOKEN": token} if token else {})}
    err = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, str(DEMO), "--http", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the demo HTTP server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            err.close()
