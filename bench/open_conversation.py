"""Open a conversation of 10, 1,000 and 10,000 messages: keypress to its newest message drawn.

    python -m bench.open_conversation [--runs 7]

Headless (`App.run_test`, 120x40) with the big store. Each run starts on the dashboard with the
conversation highlighted in the focused sidebar; the clock starts before `pilot.press("enter")`
and stops at the first frame the compositor renders in which the newest message's last block is
visible (frames are timed by wrapping `App._display`; headless, Textual lays out and renders the
frame but does not write escape sequences). The three sizes are interleaved, round by round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time

from bench.common import big_store, machine, median
from bench.generate import special_ids
from bench.headless import FrameClock, make_app, settle_collector


def newest_block(app, message_id: int):
    """The last piece of the message's body (a Markdown widget's last block, or the last body
    widget), or None while it is not mounted."""
    from textual.widgets import Markdown

    view = app.main_screen.chat_pane.chat_view.view_for(message_id)
    if view is None:
        return None
    markdown = view.query(Markdown)
    if markdown:
        blocks = markdown.last().children
        return blocks[-1] if blocks else None
    body = view.query(".message-body")
    return body.last() if body else None


async def measure(runs: int) -> dict[int, list[float]]:
    app, store = make_app(big_store())
    ids = special_ids(store)
    newest = {size: store.latest_messages(cid, 1)[-1].id for size, cid in ids.items()}
    results: dict[int, list[float]] = {size: [] for size in ids}
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        await pilot.pause()
        settle_collector()  # what the real app does a second after start (headless apps skip it)
        screen = app.main_screen
        for round_ in range(runs + 1):
            for size, cid in ids.items():
                await screen.show_home()
                screen.sidebar.refresh_list(keep=cid)
                screen.sidebar.options.focus()
                await pilot.pause()
                assert screen.sidebar.highlighted_id == cid
                find = (lambda s=size: newest_block(app, newest[s]))
                clock.expect_frame_when(lambda: (w := find()) is not None and clock._visible(w))
                started = time.perf_counter()
                await pilot.press("enter")
                drawn = await clock.wait_frame()
                if round_:
                    results[size].append(drawn - started)
                    print(f"  round {round_}: {size:>6,} messages: {(drawn - started) * 1000:.1f} ms "
                          f"({len(screen.chat_pane.chat_view.views)} mounted)", file=sys.stderr)
                await pilot.pause()
        gc.collect()
    store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.runs))
    print(f"# open a conversation, keypress to newest message drawn, headless 120x40, median of {args.runs} "
          f"({machine()})")
    base = median(results[10])
    print(f"{'messages':>10} {'median':>9} {'min':>8} {'max':>8} {'vs 10':>6}")
    for size, values in results.items():
        print(f"{size:>10,} {median(values) * 1000:7.1f}ms {min(values) * 1000:6.1f}ms {max(values) * 1000:6.1f}ms "
              f"{median(values) / base:6.2f}")
    print("targets: 10,000 at most 1.3x the 10 case, and under 150 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
