"""Forks and answer tries in the app: opening a fork of 10,000 messages, and switching tries with < and >.

    python -m bench.forks [--runs 7]

Headless (`App.run_test`, 120x40), on a copy of the big store (bench/generate.py; the copy is
made anew each run, so the big store itself is never changed). On the copy the 10,000-message
conversation is forked at its newest message (`Store.fork_conversation`, timed: one INSERT ...
SELECT), and the fork's last answer gets two more tries (three in all, "1/3").

- open: as bench/open_conversation.py, keypress (enter on the highlighted sidebar row) to the
  first frame showing the newest message's last block; the 10-message conversation and the fork
  are interleaved, round by round. Targets (docs/performance.md): the fork at most 1.3x the 10
  case, and under 150 ms.
- switch: with the fork open and its last answer focused, `<` or `>` to the first frame in which
  the other try is shown; the same targets read against the 10-message open.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sys
import time

from bench.common import WORK, big_store, machine, median
from bench.generate import special_ids
from bench.headless import FrameClock, make_app, settle_collector
from bench.open_conversation import newest_block

COPY = WORK / "forks.db"


def prepare() -> tuple[int, int, int, list[int], float]:
    """The copy: (10-message id, fork id, the fork's last prompt, its tries' message ids, fork s)."""
    from agentterm.store import Store

    for suffix in ("", "-wal", "-shm"):
        (COPY.parent / (COPY.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(big_store(), COPY)
    store = Store(COPY)
    try:
        ids = special_ids(store)
        source = ids[10_000]
        newest = store.latest_messages(source, 1)[-1]
        started = time.perf_counter()
        fork = store.fork_conversation(source, newest.id)
        fork_seconds = time.perf_counter() - started
        answer = store.latest_messages(fork.id, 1)[-1]
        assert answer.role == "assistant" and answer.reply_to is not None
        tries = [answer.id]
        for text in ("A second try, shorter.", "A third try:\n\n- one\n- two\n- three"):
            variant = store.new_variant(answer.reply_to)
            tries.append(store.add_message(fork.id, "assistant", text, reply_to=answer.reply_to,
                                           variant=variant, model="bench").id)
        store.select_variant(answer.reply_to, answer.variant)
        return ids[10], fork.id, answer.reply_to, tries, fork_seconds
    finally:
        store.close()


async def measure(runs: int):
    small, fork, prompt, tries, fork_seconds = prepare()
    app, store = make_app(COPY)
    opens: dict[int, list[float]] = {small: [], fork: []}
    switches: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        await pilot.pause()
        settle_collector()
        screen = app.main_screen
        for round_ in range(runs + 1):
            for cid in (small, fork):
                await screen.show_home()
                screen.sidebar.refresh_list(keep=cid)
                screen.sidebar.options.focus()
                await pilot.pause()
                assert screen.sidebar.highlighted_id == cid
                newest = store.latest_messages(cid, 1)[-1].id  # the try shown now, after a switch
                clock.expect_frame_when(lambda n=newest: (w := newest_block(app, n)) is not None
                                        and clock._visible(w))
                started = time.perf_counter()
                await pilot.press("enter")
                try:
                    drawn = await clock.wait_frame()
                except TimeoutError:
                    views = screen.chat_pane.chat_view.views
                    print("open of", cid, "not drawn:", screen.open_conversation_id,
                          [v.message_id for v in views[-2:]], newest, file=sys.stderr)
                    raise
                if round_:
                    opens[cid].append(drawn - started)
                await pilot.pause()
            # The fork is open: switch its last answer to the next try, or back to the first.
            chat = screen.chat_pane.chat_view
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = chat.views[-1]
            at = tries.index(shown.message_id)
            key, target = ("greater_than_sign", tries[at + 1]) if at + 1 < len(tries) else \
                ("less_than_sign", tries[at - 1])
            shown.focus()
            await pilot.pause()
            await pilot.press("down", "up")  # navigation keys arm a message's letters, as a user's do
            shown = chat.views[-1]
            shown.focus()
            await pilot.pause()
            clock.expect_frame_when(lambda t=target: (v := chat.view_for(t)) is not None
                                    and clock._visible(v))
            started = time.perf_counter()
            await pilot.press(key)
            drawn = await clock.wait_frame()
            if round_:
                switches.append(drawn - started)
                print(f"  round {round_}: open 10 {opens[small][-1] * 1000:.1f} ms, fork "
                      f"{opens[fork][-1] * 1000:.1f} ms, switch {switches[-1] * 1000:.1f} ms",
                      file=sys.stderr)
            await pilot.pause()
        gc.collect()
    store.close()
    return opens[small], opens[fork], switches, fork_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    small, fork, switches, fork_seconds = asyncio.run(measure(args.runs))
    print(f"# forks and tries, headless 120x40, median of {args.runs} ({machine()})")
    print(f"Store.fork_conversation of the 10,000-message conversation: {fork_seconds * 1000:.0f} ms")
    base = median(small)
    print(f"{'case':>28} {'median':>9} {'min':>8} {'max':>8} {'vs 10':>6}")
    for name, values in (("open 10 messages", small), ("open the fork (10,000)", fork),
                         ("switch a try (< or >)", switches)):
        print(f"{name:>28} {median(values) * 1000:7.1f}ms {min(values) * 1000:6.1f}ms "
              f"{max(values) * 1000:6.1f}ms {median(values) / base:6.2f}")
    print("targets: at most 1.3x the 10 case, and under 150 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
