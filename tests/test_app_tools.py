"""Tools in the app, end to end: the loopback model asks for a call, a real MCP server answers.

The approval question (y once, a always, n deny with a reason, escape stops), the blocks that
show each call and the thinking, and what the store keeps.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from agentterm.tui.screens.approval import ApprovalScreen
from agentterm.tui.widgets.thinking import ThinkingView
from agentterm.tui.widgets.tool_call import ToolCallView
from tests.app_helpers import make_app, settle, until
from tests.mcp_servers.helpers import DEMO
from tests.openai_responses import DONE, Events, chunk
from tests.openai_server import Complete, Stream


def tool_call_answer(name: str, arguments: str, *, call_id: str = "call_1", thinking: str = "",
                     pieces: int = 3, delay: float = 0.0) -> Events:
    """A streamed answer asking for one call, its arguments split in `pieces`."""
    events: list = [chunk({"role": "assistant"})]
    if thinking:
        events.append(chunk({"reasoning_content": thinking}))
    events.append(chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                         "function": {"name": name, "arguments": ""}}]}))
    size = -(-len(arguments) // pieces)
    for start in range(0, len(arguments), size):
        events.append(chunk({"tool_calls": [{"index": 0, "function": {
            "arguments": arguments[start:start + size]}}]}))
    events += [chunk(finish_reason="tool_calls"), DONE]
    return Events(events, delay=delay)


@pytest.fixture
def tool_settings(config_path):
    """The loopback model, and the demo MCP server over stdio as `demo`."""
    from agentterm.config import load_settings

    with config_path.open("a", encoding="utf-8") as config:
        config.write(f"\n[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\n"
                     f"args = [{json.dumps(str(DEMO))}]\ntimeout = 20\n")
    return load_settings(config_path)


@pytest.fixture
def tool_client(tool_settings):
    from agentterm.llm import LLMClient

    return LLMClient(tool_settings)


def make_agent(store, approval: str = "ask"):
    return store.create_agent("Clock", instructions="Use your tools.", mcp_servers=["demo"],
                              tool_approval=approval)


async def send(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def asked(pilot) -> ApprovalScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), attempts=1500)
    screen = pilot.app.screen
    await until(pilot, lambda: screen.armed)
    return screen


def calls_of(store):
    conversation = store.list_conversations()[0]
    return conversation, [c for m in store.all_messages(conversation.id) for c in m.tool_calls]


async def test_y_runs_the_call_once_and_the_answer_goes_on(tool_settings, store, tool_client, server):
    agent = make_agent(store)
    server.script(tool_call_answer("demo__echo", '{"text": "hi [b]there[/b]"}', thinking="Echo it."),
                  Stream("The tool said hi."), Complete("Echo"))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "echo please")
        screen = await asked(pilot)
        shown = str(screen.query_one("#approval-args-text").render())
        assert shown == '{\n  "text": "hi [b]there[/b]"\n}'
        _, calls = calls_of(store)
        assert [c.status for c in calls] == ["approval"]
        assert app.query_one(ThinkingView).text == "Echo it."  # shown once, not once per source
        await pilot.press("y")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1500)
        await settle(pilot)

        conversation, calls = calls_of(store)
        assert [(c.server, c.tool, c.status, c.result) for c in calls] == [
            ("demo", "echo", "done", "hi [b]there[/b]")]
        messages = store.all_messages(conversation.id)
        assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
        assert messages[1].thinking == "Echo it." and messages[-1].content == "The tool said hi."
        sent = server.requests[1]["messages"]
        assert sent[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "hi [b]there[/b]"}
        assert store.allowed_tools_for(agent.id) == set()

        # The screen: the call's block in its answer, the result as text; no tool message twice.
        block = app.query_one(ToolCallView)
        assert block.shown_text.startswith("⚙ echo · demo (")
        assert "done" in block.shown_text and "hi [b]there[/b]" in block.shown_text
        thinking = app.query_one(ThinkingView)
        assert thinking.shown_text.startswith("▸ Thought")
        roles = [v.message.role for v in app.main_screen.chat_pane.chat_view.views]
        assert roles == ["user", "assistant", "assistant"]


async def test_a_always_allows_the_tool_for_the_agent_from_then_on(tool_settings, store, tool_client, server):
    agent = make_agent(store)
    server.script(tool_call_answer("demo__echo", '{"text": "one"}'), Stream("First."), Complete("T"),
                  tool_call_answer("demo__echo", '{"text": "two"}', call_id="call_2"), Stream("Second."))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first")
        await asked(pilot)
        await pilot.press("a")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1500)
        await settle(pilot)
        assert store.allowed_tools_for(agent.id) == {"demo.echo"}

        await send(pilot, "second")
        await until(pilot, lambda: len(server.requests) >= 4, attempts=1500)
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1500)
        await settle(pilot)
        assert not isinstance(app.screen, ApprovalScreen)
        _, calls = calls_of(store)
        assert [(c.result, c.status) for c in calls] == [("one", "done"), ("two", "done")]


async def test_n_denies_with_a_reason_the_model_reads(tool_settings, store, tool_client, server):
    agent = make_agent(store)
    server.script(tool_call_answer("demo__echo", '{"text": "secret"}'), Stream("Understood."), Complete("T"))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "echo")
        await asked(pilot)
        await pilot.press("n", *"not that one", "enter")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1500)
        await settle(pilot)
        _, calls = calls_of(store)
        assert [(c.status, c.reason) for c in calls] == [("denied", "not that one")]
        result = server.requests[1]["messages"][-1]
        assert result["role"] == "tool" and "denied" in result["content"] and "not that one" in result["content"]
        assert "denied: not that one" in app.query_one(ToolCallView).shown_text


async def test_escape_during_a_running_call_stops_the_turn_and_marks_the_call(
        tool_settings, store, tool_client, server):
    agent = make_agent(store)
    server.script(tool_call_answer("demo__hang", '{"seconds": 600}'))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "wait for it")
        await asked(pilot)
        await pilot.press("y")
        await until(pilot, lambda: [c.status for c in calls_of(store)[1]] == ["running"], attempts=1500)
        block = app.query_one(ToolCallView)
        assert re.search(r"running \d+s", block.shown_text)
        await pilot.press("escape")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=500)
        await settle(pilot)
        conversation, calls = calls_of(store)
        assert [c.status for c in calls] == ["cancelled"]
        answer = [m for m in store.all_messages(conversation.id) if m.role == "assistant"][-1]
        assert answer.status == "interrupted"
        assert "cancelled" in block.shown_text
        assert len(server.requests) == 1  # the model was not asked again


async def test_a_call_run_without_asking_is_cancelled_by_escape_too(tool_settings, store, tool_client, server):
    agent = make_agent(store, approval="auto")
    server.script(tool_call_answer("demo__hang", '{"seconds": 600}'))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "wait for it")
        await until(pilot, lambda: store.list_conversations() and [
            c.status for c in calls_of(store)[1]] == ["running"], attempts=1500)
        assert not isinstance(app.screen, ApprovalScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=500)
        await settle(pilot)
        _, calls = calls_of(store)
        assert [c.status for c in calls] == ["cancelled"]
        assert "cancelled" in app.query_one(ToolCallView).shown_text


async def test_escape_on_the_question_stops_the_turn_without_running_the_call(
        tool_settings, store, tool_client, server):
    agent = make_agent(store)
    server.script(tool_call_answer("demo__echo", '{"text": "x"}'))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "echo")
        await asked(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=500)
        await settle(pilot)
        _, calls = calls_of(store)
        assert [(c.status, c.result) for c in calls] == [("cancelled", None)]
        assert not isinstance(app.screen, ApprovalScreen)
        assert len(server.requests) == 1


async def test_a_server_that_cannot_start_is_named_in_a_notice_and_the_answer_comes(config_path, store, server):
    from agentterm.config import load_settings
    from agentterm.llm import LLMClient

    with config_path.open("a", encoding="utf-8") as config:
        config.write('\n[mcp_servers.broken]\ncommand = "agentterm-no-such-mcp-server"\ntimeout = 5\n')
    settings = load_settings(config_path)
    agent = store.create_agent("Broken", mcp_servers=["broken"])
    server.script(Stream("Answered without tools."), Complete("Broken"))
    app = make_app(settings, store, LLMClient(settings), open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "use your tools")
        await until(pilot, lambda: not app.main_screen.chat_pane.streaming, attempts=1500)
        await settle(pilot)
        titles = [n.title for n in app._notifications]
        assert "MCP server broken unavailable" in titles, titles
        conversation = store.list_conversations()[0]
        assert store.all_messages(conversation.id)[-1].content == "Answered without tools."


async def test_quitting_while_the_question_is_open_leaves_nothing_streaming(tool_settings, store, tool_client, server):
    """ctrl+q over the approval question: the answer is interrupted and the call cancelled, on disk."""
    agent = make_agent(store)
    server.script(tool_call_answer("demo__echo", '{"text": "never"}'))
    app = make_app(tool_settings, store, tool_client, open_agent=agent.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "ask me first")
        await asked(pilot)
        await pilot.press("ctrl+q")
    conversation, calls = calls_of(store)
    answer = [m for m in store.all_messages(conversation.id) if m.role == "assistant"][-1]
    assert (answer.status, [c.status for c in calls]) == ("interrupted", ["cancelled"])
