"""A conversation purged by another program while the app streams its answer (issue 8.10, app side)."""

from __future__ import annotations

from datetime import timedelta

from agentterm.store import Store
from agentterm.tui.widgets.message import MessageView
from tests.app_helpers import make_app, seed_conversation, settle, until
from tests.openai_server import Stream


def shown_text(app) -> str:
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


async def test_a_purge_from_the_cli_while_streaming_ends_in_one_clear_notice(
        settings, store, client, server, db_path):
    conversation = seed_conversation(store, "Doomed", [], age=timedelta(hours=1))
    server.script(Stream("Counting slowly: one two three four five six seven eight nine ten " * 4,
                         chunk_size=4, delay=0.05))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await pilot.press(*"count", "enter")
        pane = app.main_screen.chat_pane
        await until(pilot, lambda: any(v.message.role == "assistant" and v.source
                                       for v in pane.chat_view.views), attempts=500)
        other = Store(db_path)  # what `agentterm chats purge` does, from another process
        try:
            other.trash(conversation.id)
            other.purge(conversation.id)
        finally:
            other.close()
        await until(pilot, lambda: pane.streaming_conversation is None, attempts=1000)
        await settle(pilot)
        assert app.is_running
        assert "Answering..." not in shown_text(app)
        assert not [v for v in app.query(MessageView) if v.message.status == "streaming"]
        notices = [n.message for n in app._notifications]
        gone = [n for n in notices if "deleted" in n.lower() or "purged" in n.lower()]
        assert len(gone) == 1, notices
        assert all("Not sent" not in n for n in notices)
        assert conversation.id not in [c.id for c in app.main_screen.sidebar.conversations]


async def test_a_key_echoed_by_the_server_never_reaches_the_screen(settings, store, client, server):
    """The engine scrubs what it stores; the app scrubs what streams, a key split across pieces too."""
    from tests.conftest import TEST_KEY

    conversation = seed_conversation(store, "Echo", [], age=timedelta(hours=1))
    server.script(Stream(f"Your key is {TEST_KEY} and that is all, said slowly " * 3,
                         chunk_size=3, delay=0.04))
    app = make_app(settings, store, client)
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await pilot.press(*"echo", "enter")
        for _ in range(600):  # the screen sampled while the answer streams, until it is stored whole
            seen.append(shown_text(app))
            last = store.latest_messages(conversation.id, 1)
            if last and last[0].role == "assistant" and last[0].status == "complete":
                break
            await pilot.pause(0.02)
        await settle(pilot)
        seen.append(shown_text(app))
    assert sum("Your key is" in screen for screen in seen) > 3  # seen mid-stream, not only at the end
    assert "said slowly" in seen[-1]
    assert not any("MARKER" in screen for screen in seen)
