"""A tool round trip through MCPTools against the same call made directly with mcp's ClientSession.

    python -m bench.tools [--runs N] [--transport stdio|http|both]

Both sides talk to tests/mcp_servers/demo.py (its `echo` tool), each to its own server process,
in the same run, calls interleaved so that load on the machine falls on both alike. Target
(issue 9): MCPTools' median at most 1.2x the direct median plus 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentterm.config import load_settings  # noqa: E402
from agentterm.models import Agent  # noqa: E402
from agentterm.tools import MCPTools  # noqa: E402
from tests.mcp_servers.helpers import DEMO, http_demo  # noqa: E402

ARGS = {"text": "the quick brown fox jumps over the lazy dog"}


@contextlib.asynccontextmanager
async def direct_session(transport: str, url: str | None):
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    if transport == "stdio":
        streams = stdio_client(StdioServerParameters(command=sys.executable, args=[str(DEMO)]),
                               errlog=open(os.devnull, "w"))
    else:
        streams = streamable_http_client(url)
    async with streams as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        yield session


def provider(work: Path, transport: str, url: str | None) -> MCPTools:
    server = (f'command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(DEMO))}]' if transport == "stdio"
              else f'url = "{url}"')
    config = work / "config.toml"
    config.write_text(f"[mcp_servers.demo]\n{server}\n", encoding="utf-8")
    return MCPTools(load_settings(config), log_dir=work / "logs")


async def measure(transport: str, runs: int, url: str | None) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="agentterm-bench-tools-"))
    tools = provider(work, transport, url)
    agent = Agent(id=1, name="bench", mcp_servers=["demo"])
    try:
        [spec] = [s for s in await tools.list_tools(agent) if s.tool == "echo"]
        async with direct_session(transport, url) as session:
            ours, direct = [], []
            for index in range(runs + 10):
                # Alternate which goes first, so neither always meets a warmer cache.
                order = ("ours", "direct") if index % 2 else ("direct", "ours")
                for side in order:
                    start = time.perf_counter()
                    if side == "ours":
                        outcome = await tools.call(spec, ARGS)
                        assert not outcome.is_error and outcome.text == ARGS["text"], outcome
                    else:
                        result = await session.call_tool("echo", ARGS)
                        assert result.content[0].text == ARGS["text"]
                    elapsed = (time.perf_counter() - start) * 1000
                    if index >= 10:  # the first ten of each are warm-up
                        (ours if side == "ours" else direct).append(elapsed)
    finally:
        await tools.aclose()
    return {
        "direct_median": statistics.median(direct), "ours_median": statistics.median(ours),
        "direct_p90": statistics.quantiles(direct, n=10)[-1], "ours_p90": statistics.quantiles(ours, n=10)[-1],
    }


def report(transport: str, figures: dict[str, float]) -> bool:
    target = 1.2 * figures["direct_median"] + 5
    ok = figures["ours_median"] <= target
    print(f"{transport:5}  direct ClientSession.call_tool: median {figures['direct_median']:.2f} ms, "
          f"p90 {figures['direct_p90']:.2f} ms")
    print(f"{transport:5}  MCPTools.call:                  median {figures['ours_median']:.2f} ms, "
          f"p90 {figures['ours_p90']:.2f} ms  ({figures['ours_median'] / figures['direct_median']:.2f}x)")
    print(f"{transport:5}  target: at most {target:.2f} ms (1.2x + 5 ms): {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="calls measured on each side (after 10 warm-up)")
    parser.add_argument("--transport", choices=("stdio", "http", "both"), default="both")
    args = parser.parse_args()
    print(f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.runs} calls a side")
    ok = True
    if args.transport in ("stdio", "both"):
        ok &= report("stdio", asyncio.run(measure("stdio", args.runs, None)))
    if args.transport in ("http", "both"):
        with http_demo() as url:
            ok &= report("http", asyncio.run(measure("http", args.runs, url)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
