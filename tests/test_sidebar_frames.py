"""A filter keystroke's frames: the typed letter and the rows it lists are painted together, and a
busy store delays only the rows, never the letter (bench/sidebar.py times it; this counts frames)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from agentterm.tui.widgets import conversation_list
from tests.app_helpers import make_app, option_ids, seed_conversation, until


def record_frames(app) -> list[tuple[str, list[int]]]:
    """What each frame of the main screen showed: the filter's value and the sidebar's rows."""
    frames: list[tuple[str, list[int]]] = []
    original = app._display

    def display(screen, renderable) -> None:
        original(screen, renderable)
        if renderable is not None and screen is app.screen:
            sidebar = app.main_screen.sidebar
            frames.append((sidebar.filter_input.value, option_ids(app)))

    app._display = display
    return frames


def seed(store) -> tuple[list[int], list[int]]:
    alpha = [seed_conversation(store, f"Alpha {n}", [("q", "a")], age=timedelta(hours=n)).id for n in range(3)]
    beta = [seed_conversation(store, f"Beta {n}", [("q", "a")], age=timedelta(days=n + 1)).id for n in range(3)]
    return alpha + beta, beta


async def test_a_filter_keystroke_paints_its_letter_and_its_rows_in_one_frame(settings, store, client,
                                                                              server, monkeypatch):
    # A long hold, so a loaded test machine cannot let the letter's frame out before the rows.
    monkeypatch.setattr(conversation_list, "HOLD", 5.0)
    everything, beta = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.main_screen.sidebar
        sidebar.filter_input.focus()
        await pilot.pause()
        assert option_ids(app) == everything
        frames = record_frames(app)
        await pilot.press("B")
        await until(pilot, lambda: ("B", beta) in frames)
        assert ("B", everything) not in frames  # no frame showed the letter over the old rows
        await pilot.press("e")
        await until(pilot, lambda: ("Be", beta) in frames)
        assert ("Be", beta) == next(f for f in frames if f[0] == "Be")
        assert sidebar._frame_hold is None and not app._batch_count  # nothing is left held


async def test_a_busy_store_delays_the_rows_not_the_letter(settings, store, client, server):
    everything, beta = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.main_screen.sidebar
        sidebar.filter_input.focus()
        await pilot.pause()
        frames = record_frames(app)
        # The store's thread is busy for a second (as it is while another program holds a lock).
        busy = asyncio.ensure_future(app.astore.run(time.sleep, 1.0))
        await asyncio.sleep(0.01)
        await pilot.press("B")
        # The letter is painted while the rows are still on their way, and the screen is not held.
        await until(pilot, lambda: ("B", everything) in frames)
        assert not busy.done() and not app._batch_count
        await busy
        await until(pilot, lambda: ("B", beta) in frames)
        assert sidebar._frame_hold is None


async def test_the_same_rows_again_are_not_set_again_and_a_changed_row_is(settings, store, client, server):
    everything, beta = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.main_screen.sidebar
        sidebar.filter_input.focus()
        await pilot.pause()
        await pilot.press("B")
        await until(pilot, lambda: option_ids(app) == beta)
        first = sidebar.options.get_option_at_index(0)
        await pilot.press("e")  # "Be" lists the same rows: the list keeps its options
        await until(pilot, lambda: sidebar._listed == ("inbox", "Be"))
        await pilot.pause()
        assert sidebar.options.get_option_at_index(0) is first
        store.rename_conversation(beta[0], "Beta renamed")  # what a row shows changed: drawn anew
        sidebar.refresh_list()
        await until(pilot, lambda: sidebar.options.get_option_at_index(0) is not first)
        assert sidebar.options.get_option_at_index(0).prompt.plain.startswith("Beta renamed")
        assert [sidebar.options.get_option_at_index(i).id for i in range(3)] == [f"c:{i}" for i in beta]
        await pilot.press("z")  # no title matches: the empty line, once, then kept
        await until(pilot, lambda: option_ids(app) == [])
        empty = sidebar.options.get_option_at_index(0)
        assert empty.disabled and "No title matches" in empty.prompt.plain
        await pilot.press("z")
        await until(pilot, lambda: sidebar._listed == ("inbox", "Bezz"))
        await pilot.pause()
        assert sidebar.options.get_option_at_index(0) is empty and sidebar.options.option_count == 1


async def test_rows_are_compared_with_the_list_itself(settings, store, client, server):
    everything, _ = seed(store)
    app = make_app(settings, store, client)
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.main_screen.sidebar
        await pilot.pause()
        sidebar.options.clear_options()  # the list emptied behind the sidebar's back
        sidebar.refresh_list()
        await until(pilot, lambda: sidebar.options.option_count == len(everything))
        assert [sidebar.options.get_option_at_index(i).id for i in range(len(everything))] == \
            [f"c:{i}" for i in everything]
