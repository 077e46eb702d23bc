"""The path to the first screen imports none of the heavy packages (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Modules in sys.modules at the first frame under run_test, 120x40, empty store, Textual's own
# included (bench/first_frame.py counts the same: the minimal app of bench/minimal_app.py 411).
# 500 when this was written; 514 before the dashboard lost Button and Tabs, the chat header's
# module left the main screen's imports and the email package left the model client's.
FIRST_FRAME_MODULES = 504

# Run in a fresh interpreter: this test process has imported everything already.
SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from pathlib import Path
    from agentterm.cli import make_app
    from agentterm.config import load_settings
    from agentterm.llm import LLMClient
    from agentterm.store import Store

    # Each costs tens to hundreds of ms at start (docs/performance.md); each is needed only later:
    # httpx2 (the model client's transport) at the first request (openai never: only tests use it), mcp when a tool server starts,
    # sqlite_utils for exports.
    HEAVY = ("openai", "httpx", "httpx2", "anyio", "mcp", "sqlite_utils", "numpy", "fastapi", "pydantic")

    async def until(condition):
        for _ in range(200):
            if condition():
                return
            await asyncio.sleep(0.01)

    async def main():
        settings = load_settings(Path(sys.argv[1]) / "none.toml")
        store = Store(Path(sys.argv[1]) / "agentterm.db")
        app = make_app(settings, store, LLMClient(settings))
        first = {"collector off at start": not gc.isenabled()}
        display = app._display

        def counting(screen, renderable):  # the compositor's first frame, as bench/first_frame.py
            display(screen, renderable)
            if renderable is not None and "modules" not in first:
                first["modules"] = len(sys.modules)
                first["collector off at the first frame"] = not gc.isenabled()

        app._display = counting
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            seen = {name: name in sys.modules for name in HEAVY}
            await until(lambda: gc.isenabled())
            first["collector on after it"] = gc.isenabled()
            await pilot.press("ctrl+n", "enter")  # a new conversation: its prompt has focus
            await pilot.pause()
            await pilot.press("h", "i")  # the first text typed starts importing the transport
            await app.workers.wait_for_complete()
            seen["httpx2 after typing"] = "httpx2" in sys.modules
        store.close()
        print(json.dumps({"heavy": seen, "first": first}))

    asyncio.run(main())
    """
)


def test_the_first_screen_imports_no_heavy_package(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])["heavy"]
    assert seen.pop("httpx2 after typing") is True
    assert [name for name, loaded in seen.items() if loaded] == []


def test_the_first_frame_imports_a_bounded_number_of_modules_with_the_collector_off(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.strip().splitlines()[-1])["first"]
    # A module pulled onto the start path (the chat pane's, a dialog's, a store backend's)
    # passes the bound at once.
    assert first["modules"] <= FIRST_FRAME_MODULES, f"{first['modules']} modules at the first frame"
    # No collection before the first frame (cli.make_app), the collector back on after it.
    assert first["collector off at start"] and first["collector off at the first frame"]
    assert first["collector on after it"]
