"""Counts a slow change would move (issue 13.6): widgets, SQL statements, store calls on the loop.

Nothing here times anything (that is bench/): each test counts work that grows when the app
starts doing too much, on the real store (sqlite3's trace callback sees every statement).
"""

from __future__ import annotations

import threading

import pytest

from agentterm.tui.widgets.chat_view import WINDOW
from agentterm.tui.widgets.conversation_list import PAGE
from tests.app_helpers import make_app, settle, until
from tests.openai_server import Complete, Stream

# The whole first screen: sidebar (filter, tabs, list), dashboard and the footer, 19 widgets at
# 120x40 since the sidebar's tabs are one widget (Textual's Tabs was eight), the dashboard's
# title and headings share their lines' Statics, the footer draws its keys as one widget, and
# the chat pane (hidden behind the dashboard) is mounted after the first frame. A widget per
# conversation, per agent or per key would pass it at once.
FIRST_FRAME_WIDGETS = 22
# Start-up reads: the agent counts, the sums, the agents, the dashboard's recent list, the trash
# purge and the sidebar's first page (11 statements when this was written, 16 before the second
# dashboard refresh at start was dropped; 13 since migration 3, after which FTS5 reads its config
# at the purge's first touch, as it does on every start of a store opened from disk).
START_STATEMENTS = 13
# Opening: the conversation, its agent, the newest WINDOW messages, whether there are earlier
# ones, the tries of their answers (the headers' "2/3"), the sidebar's page, the header's context
# meter (one aggregate). Never one statement per message.
OPEN_STATEMENTS = 7


class Statements:
    """Every SQL statement the store's connection runs, with the thread that ran it."""

    def __init__(self, store) -> None:
        self.seen: list[tuple[int, str]] = []
        # The store's one connection: the app's handlers, workers and AsyncStore's thread all use it.
        store._conn.set_trace_callback(lambda sql: self.seen.append((threading.get_ident(), sql)))

    def clear(self) -> None:
        self.seen.clear()

    def count(self, thread: int | None = None) -> int:
        return sum(1 for ident, _ in self.seen if thread is None or ident == thread)

    def __str__(self) -> str:
        return "\n".join(" ".join(sql.split())[:120] for _, sql in self.seen)


def seed(store, conversations: int, messages: int) -> list[int]:
    """`conversations` conversations, the newest holding `messages` messages; newest first."""
    agent = store.default_agent().id
    ids = [store.create_conversation(agent_id=agent, title=f"Chat {n}").id for n in range(conversations)]
    for n in range(messages):
        store.add_message(ids[-1], "user" if n % 2 == 0 else "assistant", f"Message {n}. " * 20)
    return ids[::-1]


def widget_count(screen) -> int:
    return sum(1 for _ in screen.walk_children(with_self=False))


async def test_the_first_frame_has_a_bounded_number_of_widgets(settings, store, client, server):
    seed(store, 3 * PAGE, 0)
    app = make_app(settings, store, client)
    first: list[int] = []
    kinds: set[str] = set()
    display = app._display

    def counting(screen, renderable) -> None:  # the compositor's frame, as bench/headless.py times it
        display(screen, renderable)
        if renderable is not None and not first:
            first.append(widget_count(screen))
            kinds.update(type(node).__name__ for node in screen.walk_children(with_self=False))

    app._display = counting
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert first, "no frame was drawn"
        assert first[0] <= FIRST_FRAME_WIDGETS, f"{first[0]} widgets in the first frame"
        assert not kinds & {"ChatPane", "ChatView", "PromptInput"}, "the hidden chat pane is in the first frame"
        await until(pilot, lambda: app.main_screen.chat_mounted)  # and follows it, unasked
        assert len(app.main_screen.sidebar.conversations) == PAGE  # the rows are there, as options


async def test_start_reads_the_store_a_bounded_number_of_times(settings, store, client, server):
    seed(store, 3 * PAGE, 0)
    statements = Statements(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert statements.count() <= START_STATEMENTS, str(statements)


async def test_opening_a_conversation_runs_a_fixed_number_of_statements(settings, store, client, server):
    ids = seed(store, 2 * PAGE, 3 * WINDOW)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        statements = Statements(store)
        await app.main_screen.open_conversation(ids[0])
        await settle(pilot)
        assert len(app.main_screen.chat_pane.chat_view.views) == WINDOW
        assert statements.count() <= OPEN_STATEMENTS, str(statements)


async def test_each_sidebar_page_is_one_statement(settings, store, client, server):
    seed(store, 3 * PAGE + 5, 0)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        sidebar.options.focus()
        statements = Statements(store)
        for pages in (2, 3, 4):
            await pilot.press("end")  # the highlight at the end reads the next page
            await settle(pilot)
            assert len(sidebar.conversations) == min(pages * PAGE, 3 * PAGE + 5)
        assert statements.count() == 3, str(statements)


async def test_no_store_call_runs_on_the_event_loop_while_an_answer_streams(settings, store, client, server):
    server.script(Stream("word " * 300, chunk_size=5, delay=0.002), Complete("A title"))
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        loop_thread = threading.get_ident()  # run_test runs the app's loop in this thread
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"stream please")
        statements = Statements(store)
        await pilot.press("enter")
        pane = app.main_screen.chat_pane
        await until(pilot, lambda: any(v.message.role == "assistant" and v.message.status == "complete"
                                       for v in pane.chat_view.views), attempts=500)
        assert statements.count() > 0, "the store was never written: the trace sees nothing"
        assert statements.count(loop_thread) == 0, str(statements)
