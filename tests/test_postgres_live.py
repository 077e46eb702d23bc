"""Two machines on one PostgreSQL store: the app sees the other's new conversations, messages and
an answer streaming there, without a key pressed (issue 11.4)."""

from __future__ import annotations

from agentterm.store import Store
from tests.app_helpers import make_app, option_ids, until

# Generous: the store is asked once a second, and the machine may be loaded; the promise
# (within 2 s) is a figure for bench/, never a timed assertion here.
WAIT = 1500


async def test_another_machines_conversation_messages_and_streaming_answer_appear(settings, client, pg_url):
    mine, other = Store(pg_url), Store(pg_url)  # two pools: two machines, as the server sees it
    try:
        app = make_app(settings, mine, client)
        async with app.run_test(size=(120, 40)) as pilot:
            agent = other.default_agent().id
            elsewhere = other.create_conversation(agent, title="Written on the laptop")
            await until(pilot, lambda: elsewhere.id in option_ids(app), attempts=WAIT)

            await app.main_screen.open_conversation(elsewhere.id)
            prompt = other.add_message(elsewhere.id, "user", "tell me a story")
            chat = app.main_screen.chat_pane.chat_view
            await until(pilot, lambda: chat.view_for(prompt.id) is not None, attempts=WAIT)

            answer = other.add_message(elsewhere.id, "assistant", "Once", status="streaming", reply_to=prompt.id)
            await until(pilot, lambda: chat.view_for(answer.id) is not None, attempts=WAIT)
            other.update_message(answer.id, content="Once upon a time")
            view = lambda: chat.view_for(answer.id)  # noqa: E731
            await until(pilot, lambda: view() is not None and view().source == "Once upon a time"
                        and view().message.status == "streaming", attempts=WAIT)
            other.update_message(answer.id, content="Once upon a time, the end.", status="complete")
            await until(pilot, lambda: view() is not None and view().message.status == "complete", attempts=WAIT)
            assert view().source == "Once upon a time, the end."
    finally:
        mine.close()
        other.close()


async def test_after_a_server_restart_the_app_reads_again_without_being_restarted(settings, client, pg_cluster, pg_url):
    mine = Store(pg_url)
    try:
        app = make_app(settings, mine, client)
        async with app.run_test(size=(120, 40)) as pilot:
            before = mine.create_conversation(mine.default_agent().id, title="Before the restart")
            await until(pilot, lambda: before.id in option_ids(app), attempts=WAIT)
            pg_cluster.restart()  # every connection of the pool is cut
            other = Store(pg_url)
            try:
                after = other.create_conversation(other.default_agent().id, title="After the restart")
            finally:
                other.close()
            # The watch's next questions fail once (the dead connection), then connect again.
            await until(pilot, lambda: after.id in option_ids(app), attempts=WAIT)
            assert mine.get_conversation(after.id).title == "After the restart"
    finally:
        mine.close()
