"""Long answers are cut into several Markdown widgets at paragraph ends, never inside a fence."""

from __future__ import annotations

from datetime import timedelta

from agentterm.widgets.chat_pane import ChatPane
from agentterm.widgets.markdown_text import MarkdownText
from agentterm.widgets.message import SEGMENT_CHARS, segments, split_point
from tests.app_helpers import make_app, seed_conversation, settle, until

FENCE = "```python\n" + "x = 1\n\n" * 400 + "```\n\n"


def test_segments_join_to_the_text_and_end_at_paragraphs():
    text = ("A paragraph of words.\n\n" * 300) + FENCE + "The end.\n"
    pieces = segments(text)
    assert "".join(pieces) == text
    assert len(pieces) > 2
    for piece in pieces[:-1]:
        assert piece.endswith("\n\n")
        assert piece.count("```") % 2 == 0  # a fence is never cut in two
        assert len(piece) >= SEGMENT_CHARS


def test_short_text_is_one_segment_and_no_split_inside_a_fence():
    assert segments("short\n\ntext") == ["short\n\ntext"]
    assert split_point("```\na\n\nb\n") is None


async def test_a_long_streamed_answer_spans_several_widgets(settings, store, client, server):
    conversation = seed_conversation(store, "Long", [("q", "a")], age=timedelta(hours=1))
    text = "".join(f"Paragraph {i} with some words in it.\n\n" for i in range(200))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        pane = app.main_screen.chat_pane
        answer = store.add_message(conversation.id, "assistant", "", status="streaming")
        pane.post_message(ChatPane.ReplyStarted(answer))
        for start in range(0, len(text), 37):
            pane.post_message(ChatPane.ReplyDelta(answer.id, text[start:start + 37]))
        await settle(pilot)
        view = pane.chat_view.view_for(answer.id)
        await until(pilot, lambda: not view.pending)
        blocks = list(view.query(MarkdownText))
        assert len(blocks) == len(segments(text))
        assert "".join(b.source for b in blocks) == text

        finished = store.update_message(answer.id, content=text, status="complete")
        pane.post_message(ChatPane.ReplyFinished(finished))
        await settle(pilot)
        assert "".join(b.source for b in view.query(MarkdownText)) == text
