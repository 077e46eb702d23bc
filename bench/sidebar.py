"""The sidebar over 10,000 conversations, filtering as you type, and full-text search.

    python -m bench.sidebar [--runs 7]

Figures, with the big store, headless (`App.run_test`, 120x40); a "frame" is the first frame the
compositor renders after the action (see bench/headless.py):
- opening the store: `Store(path)` (connect, check the schema, recover interrupted answers);
- the sidebar: `refresh_list()` (the query, the rows built anew, `set_options`) to its frame;
  the two added up are "the sidebar drawn after the store opens";
- filtering: each keystroke typed into the filter (`pilot.press`) to its frame;
- full-text search: `Store.search()` for several kinds of query, and in the app, enter in the
  filter to the frame showing the hits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bench.common import big_store, machine, median
from bench.headless import FrameClock, make_app, settle_collector

FILTERS = ["sqlite", "python async", "zzz"]
QUERIES = {
    "common word (the)": "the",
    "common word (function)": "function",
    "two words (sqlite index)": "sqlite index",
    "phrase (\"return value\")": '"return value"',
    "prefix (optim*)": "optim*",
    "rare word (lookahead)": "lookahead",
}


def store_open_times(runs: int) -> list[float]:
    from agentterm.store import Store

    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        store = Store(big_store())
        times.append(time.perf_counter() - started)
        store.close()
    return times[1:]


def search_times(runs: int) -> dict[str, tuple[float, int]]:
    from agentterm.store import Store

    out = {}
    with Store(big_store()) as store:
        for name, query in QUERIES.items():
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                hits = store.search(query)
                times.append(time.perf_counter() - started)
            out[name] = (median(times[1:]), len(hits))
    return out


async def app_figures(runs: int) -> dict[str, list[float]]:
    app, store = make_app(big_store())
    figures: dict[str, list[float]] = {"sidebar": [], "filter": [], "search in the app": []}
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        await pilot.pause()
        settle_collector()
        sidebar = app.main_screen.sidebar
        figures["rows"] = [len(sidebar.conversations)]
        for _ in range(runs + 1):
            # Each run builds and sets the rows anew: the sidebar leaves rows already on screen as
            # they are, so the prompts it keeps are dropped first (each row is then a new one).
            getattr(sidebar, "_prompts", {}).clear()
            before = sidebar.conversations
            clock.expect_frame_when(lambda before=before: sidebar.conversations is not before)
            started = time.perf_counter()
            sidebar.refresh_list()
            figures["sidebar"].append(await clock.wait_frame() - started)
            await pilot.pause()
        figures["sidebar"].pop(0)
        sidebar.filter_input.focus()
        await pilot.pause()
        for text in FILTERS:
            for char in text:
                before = sidebar.conversations
                clock.expect_frame_when(lambda before=before: sidebar.conversations is not before)
                started = time.perf_counter()
                await pilot.press(char if char != " " else "space")
                figures["filter"].append(await clock.wait_frame() - started)
            for _ in text:
                await pilot.press("backspace")
            await pilot.pause()
        for query in ("sqlite index", "the"):
            for _ in range(3):
                sidebar.filter_input.value = query
                sidebar.filter_input.focus()
                await pilot.pause()
                clock.expect_frame_when(lambda: sidebar.hits is not None)
                started = time.perf_counter()
                await pilot.press("enter")
                figures["search in the app"].append(await clock.wait_frame() - started)
                await pilot.press("escape")
                await pilot.pause()
    store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    opens = store_open_times(args.runs)
    figures = asyncio.run(app_figures(args.runs))
    searches = search_times(args.runs)
    print(f"# sidebar, filter and search over the big store, headless 120x40, medians ({machine()})")
    sidebar = median(figures["sidebar"])
    print(f"store open (Store(path))                 {median(opens) * 1000:7.1f} ms")
    print(f"sidebar refresh_list to frame ({figures['rows'][0]} rows) {sidebar * 1000:7.1f} ms "
          f"(max {max(figures['sidebar']) * 1000:.1f})")
    print(f"store open + sidebar drawn               {(median(opens) + sidebar) * 1000:7.1f} ms   target < 100 ms")
    print(f"filter, keystroke to frame               {median(figures['filter']) * 1000:7.1f} ms "
          f"(max {max(figures['filter']) * 1000:.1f}, {len(figures['filter'])} keys)   target < 30 ms")
    for name, (seconds, hits) in searches.items():
        print(f"search {name:34} {seconds * 1000:7.1f} ms ({hits} hits)   target < 100 ms")
    print(f"search in the app, enter to frame        {median(figures['search in the app']) * 1000:7.1f} ms "
          f"(max {max(figures['search in the app']) * 1000:.1f})")
    print(file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
