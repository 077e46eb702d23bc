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
