"""The chat's render path stays cheap: a few widgets a message, streamed chunks shown together."""

from __future__ import annotations

from datetime import timedelta

from agentterm.tui.widgets.chat_pane import ChatPane
from agentterm.tui.widgets.markdown_text import MarkdownText
from agentterm.tui.widgets.message import TAIL_SEGMENTS, MessageView
from tests.app_helpers import make_app, seed_conversation, settle, until

ANSWER = """Here is how:

1. **Install** it
2. Run `tool --fast`

```python
def main():
    for i in range(3):
        print(i)
```

| option | meaning |
| --- | --- |
| `-v` | verbose |

> Mind the [docs](https://example.com/docs).
"""


async def test_a_window_of_fifty_messages_with_code_is_a_few_widgets_each(settings, store, client, server):
    conversation = seed_conversation(store, "Code", [(f"question {i}", ANSWER) for i in range(30)],
                                     age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        chat = app.main_screen.chat_pane.chat_view
        assert len(chat.views) == 50
        # A prompt is one widget in its view, an answer a header and a body. Textual's Markdown
        # mounted a widget per block (more per list item and table cell): hundreds here.
        assert len(list(chat.query("*"))) <= 3 * 50
        assert all(len(view.query(MarkdownText)) == 1 for view in chat.views
                   if view.message.role == "assistant")


async def test_streamed_chunks_are_shown_together_not_one_by_one(settings, store, client, server):
    conversation = seed_conversation(store, "Stream", [("q", "a")], age=timedelta(hours=1))
    text = "".join(f"Line {i} of the answer, with `code` and **bold**.\n\n" for i in range(60))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        pane = app.main_screen.chat_pane
        answer = store.add_message(conversation.id, "assistant", "", status="streaming")
        pane.post_message(ChatPane.ReplyStarted(answer))
        chunks = [text[i:i + 4] for i in range(0, len(text), 4)]
        for chunk in chunks:
            pane.post_message(ChatPane.ReplyDelta(answer.id, chunk))
        await settle(pilot)
        view = pane.chat_view.view_for(answer.id)
        await until(pilot, lambda: not view.pending)
        assert view.source == text
        assert view.streaming
        assert 1 <= view.flushes <= len(chunks) // 20

        pane.post_message(ChatPane.ReplyFinished(
            store.update_message(answer.id, content=text, status="complete")))
        await settle(pilot)
        assert not view.streaming and view.source == text


async def test_a_click_on_a_word_in_a_header_acts_on_its_message(settings, store, client, server):
    conversation = seed_conversation(store, "Click", [("q", "the answer")], age=timedelta(hours=1))
    app = make_app(settings, store, client)
    copied: list[str] = []
    app.copy_text = lambda text, **kw: copied.append(text)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        view: MessageView = app.main_screen.chat_pane.chat_view.views[-1]
        header = view.query_one(".message-header")
        x = str(header.render()).index("[copy]")
        await pilot.click(header, offset=(x + 3, 0))  # the header's left padding is 1 cell
        await settle(pilot)
        assert copied == ["the answer"]


async def test_a_long_answer_opens_with_its_end_and_the_rest_follows(settings, store, client, server):
    long_answer = "".join(f"Paragraph {i}: " + "words " * 60 + "\n\n" for i in range(120))
    conversation = seed_conversation(store, "Long", [("q", "a"), ("tell me all", long_answer)],
                                     age=timedelta(hours=1))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        chat = app.main_screen.chat_pane.chat_view
        view = chat.views[-1]
        # At first only the end is laid out: the first frame does not wait on the whole answer.
        assert view.unmounted and len(view.bodies) == TAIL_SEGMENTS
        assert view.mounted_chars < len(long_answer) // 5
        await settle(pilot)
        assert chat.following and chat.scroll_y == chat.max_scroll_y
        # A little more of its start follows in the background; the rest as the user scrolls up
        # to it (so a huge one, a 4,000-row table, never lays out all at once: issue 8.17).
        assert view.unmounted
        for _ in range(200):
            if not view.unmounted:
                break
            chat.scroll_to(y=max(chat.scroll_y - 20, 0), animate=False, immediate=True)
            await settle(pilot)
        assert not view.unmounted
        assert "".join(body.source for body in view.bodies) == long_answer == view.source


async def test_each_flush_of_a_long_answer_lays_out_once_and_only_its_growing_segment(
        settings, store, client, server, monkeypatch):
    # Counts a regression would move (docs/performance.md, the unpaced stream): Textual laid the
    # screen out twice a flush (a widget's new size asked for a second layout), and every segment
    # of a long answer stayed mounted, so each layout cost more as the answer grew.
    from textual.screen import Screen

    from agentterm.tui.widgets.message import STREAM_BODIES

    layouts = [0]
    original = Screen._refresh_layout

    def counted(self, *args, **kwargs):
        layouts[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    conversation = seed_conversation(store, "Long", [("q", "a")], age=timedelta(hours=1))
    text = "".join(f"Paragraph {i}: " + "a few more words in it, " * 12 + "done.\n\n" for i in range(48))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        pane = app.main_screen.chat_pane
        answer = store.add_message(conversation.id, "assistant", "", status="streaming")
        pane.post_message(ChatPane.ReplyStarted(answer))
        await settle(pilot)
        view = pane.chat_view.view_for(answer.id)
        plain = cuts = plain_layouts = 0
        for start in range(0, len(text), 500):
            before = {id(body): body._laid_out for body in view.bodies}
            segments_before = len(view._segments)
            layouts[0] = 0
            flushes = view.flushes
            pane.post_message(ChatPane.ReplyDelta(answer.id, text[start:start + 500]))
            await until(pilot, lambda: view.flushes > flushes)
            await pilot.pause()
            await pilot.pause()
            bodies = view.bodies
            # Only the growing segment was laid out again: the finished ones kept their lines.
            for body in bodies[:-2]:
                if id(body) in before:
                    assert body._laid_out is before[id(body)]
            assert len(bodies) <= STREAM_BODIES
            if len(view._segments) == segments_before:
                plain += 1
                plain_layouts += layouts[0]
            else:
                cuts += 1
                assert layouts[0] <= 2, layouts[0]  # and one for the new segment's mount
        # One layout a flush; twice more once, when the chat's scrollbar appears.
        assert plain > 5 and cuts > 3 and plain_layouts <= plain + 2, (plain, plain_layouts)
        assert view.unmounted
        assert view.source == text

        pane.post_message(ChatPane.ReplyFinished(
            store.update_message(answer.id, content=text, status="complete")))
        await settle(pilot)
        await until(pilot, lambda: not view.unmounted)
        assert "".join(body.source for body in view.bodies) == text
