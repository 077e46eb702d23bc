"""The sidebar reads conversations a page at a time, and every one can still be reached."""

from __future__ import annotations

from datetime import timedelta

from agentterm.tui.widgets.conversation_list import PAGE
from tests.app_helpers import NOW, make_app, option_ids, set_times

COUNT = 2 * PAGE + 20


def seed(store) -> list[int]:
    """COUNT conversations, newest first in the returned order (the sidebar's order)."""
    ids = []
    for n in range(COUNT):
        conversation = store.create_conversation(title=f"Chat number {n}")
        set_times(store, conversation.id, NOW - timedelta(minutes=n))
        ids.append(conversation.id)
    return ids


async def test_scrolling_to_the_end_reads_the_next_pages(settings, store, client, server):
    ids = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        sidebar = app.main_screen.sidebar
        assert option_ids(app) == ids[:PAGE]
        sidebar.options.focus()
        for _ in range(3):
            await pilot.press("end")
            await pilot.pause()
        assert option_ids(app) == ids
        assert sidebar.highlighted_id == ids[-1]


async def test_the_next_conversation_past_a_page_is_read_and_opened(settings, store, client, server):
    ids = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.main_screen
        await screen.open_conversation(ids[PAGE - 1])
        await pilot.pause()
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert screen.open_conversation_id == ids[PAGE]


async def test_a_filter_starts_again_from_one_page(settings, store, client, server):
    ids = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        sidebar = app.main_screen.sidebar
        sidebar.options.focus()
        await pilot.press("end")
        await pilot.pause()
        assert len(option_ids(app)) > PAGE
        await pilot.press("home")  # the highlight kept near a page's end would read the next one
        sidebar.filter_input.focus()
        await pilot.press("C", "h", "a", "t")
        await pilot.pause()
        assert option_ids(app) == ids[:PAGE]
