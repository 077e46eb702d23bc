"""An answer another process writes, or wrote before it died, in the conversation the app shows."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from agentterm.models import STALE_AFTER, to_iso, utcnow
from agentterm.store import Store
from tests.app_helpers import make_app, seed_conversation, until


def streaming_answer(store, db_path, *, heartbeat_age: timedelta):
    conversation = seed_conversation(store, "Elsewhere", [], age=timedelta(minutes=1))
    prompt = store.add_message(conversation.id, "user", "tell me a story")
    answer = store.add_message(conversation.id, "assistant", "Once upon", status="streaming",
                               reply_to=prompt.id)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE messages SET heartbeat_at = ? WHERE id = ?",
                     [to_iso(utcnow() - heartbeat_age), answer.id])
    return conversation, answer


async def test_an_answer_whose_writer_died_moments_ago_turns_interrupted_while_shown(
        settings, store, client, db_path):
    """kill -9, then the app started again within STALE_AFTER: the answer must not stay 'Answering...'."""
    conversation, answer = streaming_answer(store, db_path, heartbeat_age=STALE_AFTER - timedelta(seconds=2))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        view = lambda: app.main_screen.chat_pane.chat_view.view_for(answer.id)  # noqa: E731
        assert view() is not None and view().message.status == "streaming"
        await until(pilot, lambda: view() is not None and view().message.status == "interrupted",
                    attempts=400)
        assert store.get_message(answer.id).status == "interrupted"
        assert view().source == "Once upon"


async def test_an_answer_another_process_finishes_is_shown_finished(settings, store, client, db_path):
    conversation, answer = streaming_answer(store, db_path, heartbeat_age=timedelta(0))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        other = Store(db_path)  # the other agentterm, finishing its answer
        other.update_message(answer.id, content="Once upon a time, the end.", status="complete")
        other.close()
        view = lambda: app.main_screen.chat_pane.chat_view.view_for(answer.id)  # noqa: E731
        await until(pilot, lambda: view() is not None and view().message.status == "complete",
                    attempts=400)
        assert view().source == "Once upon a time, the end."
