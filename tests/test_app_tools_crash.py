"""kill -9 of the app during a tool call or an approval wait: the next start shows it interrupted, with retry."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.store import Store
from agentterm.tui.widgets.tool_call import ToolCallView
from tests.app_helpers import make_app, settle, until
from tests.mcp_servers.helpers import DEMO
from tests.openai_server import Stream
from tests.reliability_helpers import AGENTTERM, agentterm_pid, cli_env, descendants, read_rows, wait_until, write_config
from tests.test_app_tools import tool_call_answer
from tests.test_reliability_crash import as_if_stale, gone
from tests.tmux import Tmux, ensure_tmux


def call_statuses(db: Path) -> list[str]:
    return [row[0] for row in read_rows(db, "SELECT status FROM tool_calls ORDER BY id")]


@pytest.fixture
def setup(tmp_path, server):
    db = tmp_path / "data" / "store.db"
    demo = (f"[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\n"
            f"args = [{json.dumps(str(DEMO))}]\ntimeout = 60\n")
    config = write_config(tmp_path / "config.toml", server.base_url, extra=demo)
    return db, config, cli_env(db, config)


@pytest.mark.parametrize(("approval", "tool", "arguments", "open_status"), [
    ("auto", "demo__hang", '{"seconds": 600}', "running"),
    ("ask", "demo__echo", '{"text": "never run"}', "approval"),
])
async def test_kill_9_mid_call_or_mid_question_reads_as_interrupted_with_retry(
        setup, server, approval, tool, arguments, open_status):
    if ensure_tmux() is None:
        pytest.skip("tmux is not available")
    db, config, env = setup
    store = Store(db)
    store.create_agent("Clock", mcp_servers=["demo"], tool_approval=approval)
    store.close()
    server.script(tool_call_answer(tool, arguments))
    session = Tmux([*AGENTTERM, "--agent", "Clock"],
                   {k: env[k] for k in ("AGENTTERM_DB", "AGENTTERM_CONFIG", "HOME", "AGENTTERM_RELIABILITY_KEY")})
    try:
        session.wait_for("Type a prompt", timeout=30)
        session.type("use the tool")
        session.send("Enter")
        try:
            wait_until(lambda: call_statuses(db) == [open_status], timeout=60, what="the call under way")
        except AssertionError:
            raise AssertionError(session.screen()) from None
        if open_status == "approval":
            session.wait_for("Run the tool", timeout=30)
        pane_pid = int(session._tmux("list-panes", "-t", session.name, "-F", "#{pane_pid}").split()[0])
        pid = agentterm_pid(pane_pid)
        children = descendants(pid)  # the MCP server it started
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: gone(pid), what="the killed app gone")
    finally:
        session.close()
        for child in locals().get("children", []):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass

    assert call_statuses(db) == [open_status]  # as the killed process left it
    as_if_stale(db)  # its heartbeat STALE_AFTER ago, instead of waiting
    store = Store(db)  # the next start recovers it
    settings = load_settings(config)
    server.script(Stream(text="Answered again."))
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            conversation = store.list_conversations()[0]
            await app.main_screen.open_conversation(conversation.id)
            await settle(pilot)
            [asking] = [m for m in store.all_messages(conversation.id) if m.role == "assistant"]
            assert asking.status == "interrupted"
            assert [c.status for c in asking.tool_calls] == ["interrupted"]
            view = app.main_screen.chat_pane.chat_view.view_for(asking.id)
            assert view.has_class("-interrupted")
            assert "interrupted" in view.query_one(ToolCallView).shown_text
            status = str(view.query_one(".message-status").render())
            assert "Interrupted" in status and "[retry]" in status

            view.focus()
            await pilot.pause()
            view._letters_armed = True  # the user is working the chat (tests/test_app_focus.py)
            await pilot.press("r")
            await until(pilot, lambda: any(m.role == "assistant" and m.status == "complete"
                                           for m in store.all_messages(conversation.id)), attempts=1000)
            await settle(pilot)
            shown = store.all_messages(conversation.id)
            assert [(m.role, m.content) for m in shown] == [("user", "use the tool"),
                                                            ("assistant", "Answered again.")]
            assert len(store.variants(shown[0].id)) == 2  # the interrupted try is kept
    finally:
        store.close()
