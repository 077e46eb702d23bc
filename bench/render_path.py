"""The message render path where the other benchmarks do not look: long answers, widget counts.

    python -m bench.render_path [--runs 5]

Headless (`App.run_test`, 120x40), a new store each case:
- open a conversation whose five answers are each 2, 20 or 80 KB of Markdown with code
  (bench/streaming.py's writer): keypress to the first frame in which the newest message is
  drawn at the bottom of the chat (frames timed by wrapping `App._display`, as
  bench/headless.py does);
- the widgets a 50-message window mounts, and the time until all of it is mounted;
- laying out one 2,000-character segment of Markdown (MarkdownText's render_lines) at 100
  columns: the cost a streaming answer pays at each flush, at most.
bench/open_conversation.py covers the big store's conversations, bench/streaming.py streaming.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import WORK, machine, median
from bench.headless import make_app
from bench.streaming import answer_text


def long_store(chars: int, answers: int = 5) -> tuple[Path, int, int]:
    """A store with one conversation of `answers` answers of `chars` characters each."""
    from agentterm.store import Store

    db = Path(tempfile.mkdtemp(prefix="render-", dir=WORK)) / "agentterm.db"
    store = Store(db)
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Long answers")
    for i in range(answers):
        store.add_message(conversation.id, "user", f"Question {i}: explain it all, with code.")
        store.add_message(conversation.id, "assistant", answer_text(chars, seed=i))
    newest = store.latest_messages(conversation.id, 1)[-1].id
    store.close()
    return db, conversation.id, newest


async def open_long(chars: int, runs: int) -> list[float]:
    db, cid, newest = long_store(chars)
    app, store = make_app(db)
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        state: dict[str, float | None] = {"start": None, "drawn": None}
        display = app._display

        def timed(current, renderable) -> None:
            display(current, renderable)
            if renderable is None or state["start"] is None or state["drawn"] is not None:
                return
            chat = screen.chat_pane.chat_view
            view = chat.view_for(newest)
            if view is not None and view in app.screen._compositor.visible_widgets and (
                    chat.region.bottom - 3 <= view.region.bottom <= chat.region.bottom):
                state["drawn"] = time.perf_counter()

        app._display = timed
        await pilot.pause()
        for round_ in range(runs + 1):
            await screen.show_home()
            screen.sidebar.refresh_list(keep=cid)
            screen.sidebar.options.focus()
            await pilot.pause(0.3)
            state["drawn"], state["start"] = None, time.perf_counter()
            await pilot.press("enter")
            deadline = time.perf_counter() + 60
            while state["drawn"] is None:
                if time.perf_counter() > deadline:
                    raise TimeoutError("the newest message was never drawn")
                await asyncio.sleep(0.002)
            if round_:
                times.append(state["drawn"] - state["start"])
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
    store.close()
    return times


async def window(runs: int) -> tuple[int, list[float]]:
    """Widgets under the chat view once a 50-message window (25 code answers) is mounted."""
    from agentterm.store import Store

    db = Path(tempfile.mkdtemp(prefix="render-", dir=WORK)) / "agentterm.db"
    store = Store(db)
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Window")
    for i in range(40):
        store.add_message(conversation.id, "user", f"Question {i}?")
        store.add_message(conversation.id, "assistant", answer_text(1500, seed=100 + i))
    store.close()
    app, store = make_app(db)
    times: list[float] = []
    widgets = 0
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main_screen
        await pilot.pause()
        for round_ in range(runs + 1):
            await screen.show_home()
            await pilot.pause(0.3)
            started = time.perf_counter()
            await screen.open_conversation(conversation.id)
            chat = screen.chat_pane.chat_view
            while len(chat.views) < 50 or any(view.unmounted for view in chat.views) or chat._filling:
                await asyncio.sleep(0.002)
            await pilot.pause()
            if round_:
                times.append(time.perf_counter() - started)
            widgets = len(list(chat.query("*")))
    store.close()
    return widgets, times


def segment_layout(runs: int) -> list[float]:
    from agentterm.tui.widgets.markdown_text import render_lines
    from agentterm.tui.widgets.message import segments

    pieces = segments(answer_text(80_000))[:-1]
    render_lines(pieces[0], 100)  # imports and the highlighter's lexers
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for piece in pieces:
            render_lines(piece, 100)
        times.append((time.perf_counter() - started) / len(pieces))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"# the message render path, headless 120x40, median of {args.runs} ({machine()})")
    for chars in (2_000, 20_000, 80_000):
        times = asyncio.run(open_long(chars, args.runs))
        print(f"open, five answers of {chars // 1000:>2} KB: newest drawn  {median(times) * 1000:8.1f} ms "
              f"(max {max(times) * 1000:.1f})")
    widgets, times = asyncio.run(window(args.runs))
    print(f"50-message window: widgets mounted     {widgets:8d}   all mounted in {median(times) * 1000:.0f} ms")
    print(f"laying out a 2,000-character segment   {median(segment_layout(args.runs)) * 1000:8.1f} ms")
    print("targets: a long answer opens as fast as a short one (the open target: under 150 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
