"""The path to the first screen imports none of the heavy packages (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Run in a fresh interpreter: this test process has imported everything already.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from agentterm.cli import make_app
    from agentterm.config import load_settings
    from agentterm.llm import LLMClient
    from agentterm.store import Store

    # Each costs tens to hundreds of ms at start (docs/performance.md); each is needed only later:
    # httpx2 (the model client's transport) at the first request (openai never: only tests use it), mcp when a tool server starts,
    # sqlite_utils for exports.
    HEAVY = ("openai", "httpx", "httpx2", "anyio", "mcp", "sqlite_utils", "numpy", "fastapi", "pydantic")

    async def main():
        settings = load_settings(Path(sys.argv[1]) / "none.toml")
        store = Store(Path(sys.argv[1]) / "agentterm.db")
        app = make_app(settings, store, LLMClient(settings))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            seen = {name: name in sys.modules for name in HEAVY}
            await pilot.press("ctrl+n", "enter")  # a new conversation: its prompt has focus
            await pilot.pause()
            await pilot.press("h", "i")  # the first text typed starts importing the transport
            await app.workers.wait_for_complete()
            seen["httpx2 after typing"] = "httpx2" in sys.modules
        store.close()
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


def test_the_first_screen_imports_no_heavy_package(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen.pop("httpx2 after typing") is True
    assert [name for name, loaded in seen.items() if loaded] == []
