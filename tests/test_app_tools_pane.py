"""The chat pane shows a turn's thinking and tool calls in the answer they belong to."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from agentterm.tui.widgets.chat_pane import ChatPane
from agentterm.tui.widgets.thinking import ThinkingView
from agentterm.tui.widgets.tool_call import ToolCallView
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.test_app_tools_widgets import make_call


async def test_thinking_then_text_then_a_call_show_in_order_in_one_answer(settings, store, client, server):
    conversation = seed_conversation(store, "Tools", [("q", "a")], age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        pane = app.main_screen.chat_pane
        answer = store.add_message(conversation.id, "assistant", "", status="streaming")
        pane.post_message(ChatPane.ReplyStarted(answer))
        pane.post_message(ChatPane.ThinkingDelta(answer.id, "Let me look at the clock.\n"))
        await settle(pilot)
        view = pane.chat_view.view_for(answer.id)
        thinking = view.query_one(ThinkingView)
        await until(pilot, lambda: "look at the clock" in thinking.shown_text)
        assert thinking.live

        pane.post_message(ChatPane.ReplyDelta(answer.id, "Checking the time."))
        call = make_call(id=7, message_id=answer.id, call_id="c7", status="pending", arguments="")
        pane.post_message(ChatPane.ToolCallChanged(call))
        pane.post_message(ChatPane.ToolArguments("c7", '{"zone": '))
        pane.post_message(ChatPane.ToolArguments("c7", '"UTC"}'))
        await settle(pilot)
        block = view.query_one(ToolCallView)
        assert not thinking.live and thinking.shown_text.startswith("▸ Thought")
        assert 'zone="UTC"' in block.shown_text and "queued" in block.shown_text
        # Header, thinking, the text, the call, the status line: in that order.
        kinds = [type(child).__name__ for child in view.children]
        assert kinds.index("ThinkingView") < kinds.index("MarkdownText") < kinds.index("ToolCallView")

        pane.post_message(ChatPane.ToolCallChanged(dataclasses.replace(
            call, arguments='{"zone": "UTC"}', status="done", result="12:00 UTC")))
        await settle(pilot)
        assert "done" in block.shown_text and "12:00 UTC" in block.shown_text
        assert len(view.query(ToolCallView)) == 1
