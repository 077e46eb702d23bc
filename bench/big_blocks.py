"""Answers with huge blocks: a 4,000-row Markdown table (750 KB) and a 50 MB chunk (issue 8.17).

    python -m bench.big_blocks [--runs 5] [--chunk-mb 50]

Headless (`App.run_test`, 120x40), a new store in /tmp/agentterm-bench:
- open: a conversation whose answer is the table, from the focused sidebar: enter to the first
  frame showing the answer's last block (target: 150 ms);
- keys: a key typed into the prompt with that conversation open, post to the first frame showing
  it (target: 50 ms), and a key that scrolls the chat;
- streaming: the table streamed by the loopback server (tests/openai_server.py, its own process,
  400-character chunks as fast as it can), meanwhile keys typed and the store polled from another
  connection: the longest gap between two writes of the growing answer (promise: 0.5 s);
- one chunk of --chunk-mb MB handed to the chat pane at once: to its last block drawn, the
  longest event-loop stall, and a key typed right after.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import WORK, machine, median
from bench.headless import FrameClock, LoopMonitor, make_app, settle_collector

ROWS = 4000


def table(rows: int = ROWS) -> str:
    """A Markdown table of about 190 characters a row: 750 KB for 4,000 rows."""
    lines = ["Here is the table you asked for.", "",
             "| id | name | region | description | amount | status |",
             "|---:|------|--------|-------------|-------:|--------|"]
    for i in range(rows):
        lines.append(f"| {i} | item number {i} | region {i % 17} | a description of item {i}, "
                     f"long enough to wrap in a narrow column of the table as it is shown here, with more words at its end | {i * 3.25:,.2f} "
                     f"| {'open' if i % 3 else 'closed'} |")
    return "\n".join(lines) + "\n\nThat is all of it.\n"


def chunk(mb: int) -> str:
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    return (words * (mb * 1024 * 1024 // len(words) + 1))[: mb * 1024 * 1024]


def last_block(app, message_id: int):
    view = app.main_screen.chat_pane.chat_view.view_for(message_id)
    bodies = view.query(".message-body") if view is not None else None
    return bodies.last() if bodies else None


async def key_time(clock: FrameClock, prompt, char: str) -> float:
    from textual import events

    clock.expect_frame_when(lambda: prompt.text.endswith(char))
    started = time.perf_counter()
    prompt.post_message(events.Key(char, char))
    return await clock.wait_frame() - started


async def open_and_keys(runs: int) -> dict:
    db = Path(tempfile.mkdtemp(prefix="big-blocks-", dir=WORK)) / "agentterm.db"
    app, store = make_app(db)
    text = table()
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Big table")
    store.add_message(conversation.id, "user", "the table, please")
    answer = store.add_message(conversation.id, "assistant", text, model="bench")
    small = store.create_conversation(agent_id=store.default_agent().id, title="Small")
    store.add_message(small.id, "user", "hello")
    small_answer = store.add_message(small.id, "assistant", "A short answer, for comparison.", model="bench")
    opens, keys, scrolls, small_opens = [], [], [], []
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        await pilot.pause()
        settle_collector()
        screen = app.main_screen
        for round_ in range(runs + 1):
            # The same, for a two-message conversation: what opening costs on this machine anyway.
            await screen.show_home()
            screen.sidebar.refresh_list(keep=small.id)
            screen.sidebar.options.focus()
            await pilot.pause()
            clock.expect_frame_when(lambda: (w := last_block(app, small_answer.id)) is not None
                                    and clock._visible(w))
            started = time.perf_counter()
            await pilot.press("enter")
            small_drawn = await clock.wait_frame() - started
            await screen.show_home()
            screen.sidebar.refresh_list(keep=conversation.id)
            screen.sidebar.options.focus()
            await pilot.pause()
            clock.expect_frame_when(lambda: (w := last_block(app, answer.id)) is not None and clock._visible(w))
            started = time.perf_counter()
            await pilot.press("enter")
            drawn = await clock.wait_frame()
            await asyncio.sleep(0.5)  # the rest of the window is mounted in the background
            prompt = screen.chat_pane.prompt_input
            prompt.focus()
            await pilot.pause()
            typed = [await key_time(clock, prompt, c) for c in "abcde"]
            chat = screen.chat_pane.chat_view
            before = chat.scroll_y
            clock.expect_frame_when(lambda: chat.scroll_y != before)
            chat.focus()
            await pilot.pause()
            began = time.perf_counter()
            await pilot.press("up")
            scrolled = await clock.wait_frame() - began
            prompt.clear()
            if round_:
                small_opens.append(small_drawn)
                opens.append(drawn - started)
                keys.extend(typed)
                scrolls.append(scrolled)
    store.close()
    return {"open": opens, "keys": keys, "scroll": scrolls, "chars": len(text), "small": small_opens}


class Poller(threading.Thread):
    """Reads the growing answer's length from its own connection: when each store write lands."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.writes: list[float] = []
        self.stop = False

    def run(self) -> None:
        connection = sqlite3.connect(self.db, timeout=5)
        last = None
        while not self.stop:
            try:
                row = connection.execute("SELECT length(content) FROM messages WHERE role = 'assistant' "
                                         "ORDER BY id DESC LIMIT 1").fetchone()
            except sqlite3.Error:
                row = None
            if row is not None and row[0] != last:
                last = row[0]
                self.writes.append(time.perf_counter())
            time.sleep(0.01)
        connection.close()


async def stream_table() -> dict:
    from bench.streaming import Server, write_config

    text = table()
    server = Server([{"kind": "stream", "text": text, "chunk_size": 400, "delay": 0.0},
                     {"kind": "complete", "text": "Big table"}])
    db = Path(tempfile.mkdtemp(prefix="big-stream-", dir=WORK)) / "agentterm.db"
    try:
        app, store = make_app(db, write_config(server.port))
        async with app.run_test(size=(120, 40)) as pilot:
            clock = FrameClock(app)
            screen = app.main_screen
            await pilot.pause()
            settle_collector()
            await screen.open_draft(None)
            await pilot.pause()
            pane = screen.chat_pane
            prompt = pane.prompt_input
            prompt.insert("The table, please.")
            await asyncio.sleep(1.0)
            poller = Poller(db)
            poller.start()
            monitor = LoopMonitor()
            monitor.start()
            pane.send(prompt.text)
            started = time.perf_counter()
            keys = []
            # The engine's worker makes the conversation a moment after the send: wait for the
            # answer's row to say it is complete, typing a key every 0.3 s while it streams.
            watch = sqlite3.connect(db, timeout=5)

            def complete() -> bool:
                try:
                    row = watch.execute("SELECT status FROM messages WHERE role = 'assistant' "
                                        "ORDER BY id DESC LIMIT 1").fetchone()
                except sqlite3.Error:
                    return False
                return row is not None and row[0] == "complete"

            while not complete() and time.perf_counter() - started < 300:
                await asyncio.sleep(0.3)
                if pane.streaming_conversation is not None:
                    keys.append(await key_time(clock, prompt, "k"))
            ended = time.perf_counter()
            watch.close()
            monitor.stop()
            poller.stop = True
            poller.join(5)
            writes = [t for t in poller.writes if started <= t <= ended]
            gaps = [b - a for a, b in zip(writes, writes[1:])]
            stored = store.latest_messages(store.list_conversations()[0].id, 1)[-1]
            await pilot.pause()
        store.close()
    finally:
        server.close()
    return {"seconds": ended - started, "keys": keys, "gaps": gaps, "writes": len(writes),
            "worst_stall": monitor.worst(started), "complete": stored.content == text}


async def one_chunk(mb: int) -> dict:
    from agentterm.tui.widgets.chat_pane import ChatPane

    db = Path(tempfile.mkdtemp(prefix="big-chunk-", dir=WORK)) / "agentterm.db"
    app, store = make_app(db)
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Big chunk")
    store.add_message(conversation.id, "user", "a lot, please")
    text = chunk(mb)
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        screen = app.main_screen
        await pilot.pause()
        settle_collector()
        await screen.open_conversation(conversation.id)
        await pilot.pause()
        pane = screen.chat_pane
        answer = store.add_message(conversation.id, "assistant", "", status="streaming")
        pane.post_message(ChatPane.ReplyStarted(answer))
        await pilot.pause()
        monitor = LoopMonitor()
        monitor.start()
        view = pane.chat_view.view_for(answer.id)
        clock.expect_frame_when(lambda: view is not None and len(view.source) == len(text)
                                and clock._visible(view.bodies[-1]))
        started = time.perf_counter()
        pane.post_message(ChatPane.ReplyDelta(answer.id, text))
        shown = await clock.wait_frame(timeout=600) - started
        prompt = pane.prompt_input
        prompt.focus()
        await pilot.pause()
        typed = [await key_time(clock, prompt, c) for c in "xyz"]
        monitor.stop()
        mounted = len(view.bodies)
    store.close()
    return {"shown": shown, "keys": typed, "worst_stall": monitor.worst(started), "mounted": mounted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunk-mb", type=int, default=50)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    opened = asyncio.run(open_and_keys(args.runs))
    print(f"# big blocks, headless 120x40 ({machine()})")
    print(f"table: {ROWS:,} rows, {opened['chars'] / 1000:,.0f} KB")
    print(f"open (enter to its end drawn), median of {args.runs}: {ms(median(opened['open']))}, "
          f"max {ms(max(opened['open']))}   target 150 ms")
    print(f"  the same for a two-message conversation: median {ms(median(opened['small']))}")
    print(f"key typed in the prompt: median {ms(median(opened['keys']))}, max {ms(max(opened['keys']))}"
          "   target 50 ms")
    print(f"up arrow scrolling the chat: median {ms(median(opened['scroll']))}, max {ms(max(opened['scroll']))}")
    streamed = asyncio.run(stream_table())
    print(f"streamed table: {streamed['seconds']:.1f} s, complete: {streamed['complete']}, "
          f"{streamed['writes']} store writes seen, longest gap {ms(max(streamed['gaps'], default=0))}"
          "   promise 500 ms")
    if streamed["keys"]:
        print(f"  keys while streaming: median {ms(median(streamed['keys']))}, max {ms(max(streamed['keys']))}; "
              f"worst loop stall {ms(streamed['worst_stall'])}")
    big = asyncio.run(one_chunk(args.chunk_mb))
    print(f"one {args.chunk_mb} MB chunk: shown in {big['shown']:.2f} s ({big['mounted']} widgets mounted), "
          f"worst loop stall {ms(big['worst_stall'])}; keys after it: max {ms(max(big['keys']))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
