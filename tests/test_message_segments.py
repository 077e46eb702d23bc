"""Long answers are cut into several Markdown widgets at paragraph ends, and long code blocks
at line ends, so that the pieces read as the whole does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentterm.tui.widgets.chat_pane import ChatPane
from agentterm.tui.widgets.markdown_text import MarkdownText, render_lines
from agentterm.tui.widgets.message import SEGMENT_CHARS, fences, segments, split_point
from tests.app_helpers import make_app, seed_conversation, settle, until

FENCE = "```python\n" + "x = 1\n\n" * 800 + "```\n\n"


def test_segments_join_to_the_text_and_end_at_paragraphs():
    text = ("A paragraph of words.\n\n" * 300) + "The end.\n"
    pieces = segments(text)
    assert "".join(pieces) == text
    assert len(pieces) > 2
    for piece in pieces[:-1]:
        assert piece.endswith("\n\n")
        assert len(piece) >= SEGMENT_CHARS


def test_a_long_code_block_is_cut_at_line_ends_and_reads_as_one_block():
    text = "Intro.\n\n" + FENCE + "The end.\n"
    pieces = segments(text)
    assert "".join(pieces) == text
    assert len(pieces) >= 3
    opened = fences(pieces)
    assert opened[0] is None and all(fence == "```python" for fence in opened[1:-1])
    for piece in pieces[:-1]:
        assert piece.endswith("x = 1\n")  # after a line of code, not a blank one
    # Laid out piece by piece (each reopening the fence) it is the same as laid out whole.
    whole = [line.plain for line in render_lines(text, 60)]
    cut = [line.plain for piece, fence in zip(pieces, opened) for line in render_lines(piece, 60, fence)]
    assert cut == whole


def test_a_long_list_is_cut_between_items_and_reads_as_one_list():
    text = "Items:\n\n" + "".join(f"- item number {i} with a few words\n" for i in range(300)) + "\nAfter.\n"
    pieces = segments(text)
    assert "".join(pieces) == text
    assert len(pieces) > 3 and all(len(piece) < 2 * SEGMENT_CHARS for piece in pieces)
    whole = [line.plain for line in render_lines(text, 60)]
    cut = [line.plain for piece in pieces for line in render_lines(piece, 60)]
    assert cut == whole


def test_short_text_is_one_segment_and_a_short_fence_is_not_cut():
    assert segments("short\n\ntext") == ["short\n\ntext"]
    assert segments("```\na\n\nb\n```\n") == ["```\na\n\nb\n```\n"]
    assert split_point("a\n\nb", 0) == 3
    # A fence nested in a list is never cut: reopened alone it would read as indented code.
    assert split_point("- item\n\n    ```\n    a\n    b\n    ```\n", 12) is None


PARAGRAPHS = "".join(f"Paragraph {i} with some words in it.\n\n" for i in range(200))
CODE = "Here it is:\n\n```python\n" + "".join(f"step_{i} = run({i})\n" for i in range(500)) + "```\n"


@pytest.mark.parametrize("text", [PARAGRAPHS, CODE], ids=["paragraphs", "code"])
async def test_a_long_streamed_answer_spans_several_widgets(settings, store, client, server, text):
    conversation = seed_conversation(store, "Long", [("q", "a")], age=timedelta(hours=1))
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
        # The newest segments are mounted (the oldest wait, as when the answer is opened).
        assert len(blocks) + view._unmounted == len(segments(text)) > 2
        assert view.source == text and text.endswith("".join(b.source for b in blocks))
        # None grew much past a segment's size: each was laid out again only while it was last.
        assert max(len(b.source) for b in blocks) < 2 * SEGMENT_CHARS

        finished = store.update_message(answer.id, content=text, status="complete")
        pane.post_message(ChatPane.ReplyFinished(finished))
        await settle(pilot)
        assert "".join(b.source for b in view.query(MarkdownText)) == text


TABLE = ("Intro.\n\n| id | name | note |\n|---:|------|------|\n"
         + "".join(f"| {i} | row {i} | a **note** for row {i} |\n" for i in range(4000)) + "\nAfter.\n")


def _cells(lines) -> list[str]:
    return [" ".join(line.plain.replace("─", "").replace("┼", "").replace("│", " ").split())
            for line in lines]


def test_a_long_table_is_cut_between_rows_and_reads_as_one_table():
    pieces = segments(TABLE)
    assert "".join(pieces) == TABLE
    assert len(pieces) > 50 and max(len(piece) for piece in pieces) < 2 * SEGMENT_CHARS
    opened = fences(pieces)
    assert opened[0] is None and all(o == "| id | name | note |\n|---:|------|------|" for o in opened[1:])
    # Each later piece is laid out under the table's header, which it does not show again.
    whole = _cells(render_lines(TABLE, 60))
    cut = _cells(line for piece, context in zip(pieces, opened) for line in render_lines(piece, 60, context))
    assert cut == whole


def test_a_huge_chunk_is_cut_in_one_pass_even_without_a_line_end():
    text = "word " * 400_000  # 2 MB, one line
    pieces = segments(text)
    assert "".join(pieces) == text and max(len(piece) for piece in pieces) <= 8 * SEGMENT_CHARS


async def test_a_conversation_with_a_huge_table_lays_out_only_what_is_near_the_screen(
        settings, store, client, server):
    conversation = seed_conversation(store, "Table", [("the table", TABLE)], age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        view = app.main_screen.chat_pane.chat_view.views[-1]
        # Its end is shown and laid out; its start waits until the user scrolls up to it.
        assert view.unmounted and view.mounted_chars < len(TABLE) // 20
        shown = "\n".join("".join(segment.text for segment in strip)
                          for strip in app.screen._compositor.render_strips())
        assert "row 3999" in shown and "After." in shown
        await pilot.press(*"still typing")
        assert app.main_screen.chat_pane.prompt_input.text == "still typing"
