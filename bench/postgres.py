"""The benchmark store on PostgreSQL beside SQLite, in the same run (issue 11's benchmarks).

    python -m bench.postgres --pg postgresql://me@127.0.0.1:5432/bench [--sqlite PATH] [--runs 15]

The PostgreSQL database must hold a copy of the SQLite store (`agentterm store copy big.db URL`;
the SQLite one defaults to bench/common.py's big store). Each figure is the median of `runs`
(after one warm-up), as the store calls the app makes:
- the sidebar page: `list_conversations(limit=PAGE)` (the inbox's first page);
- opening the 10,000-message conversation: `get_conversation` and `latest_messages(WINDOW)`;
- full-text search: `search(q)` for the sidebar benchmark's queries;
- writing a streamed answer: through AsyncStore on an event loop, a message added, then 200
  updates of its growing content (the engine's flushes); the figure is the longest stall of a
  5 ms ticker on the loop meanwhile, and the time per update.
Targets: sidebar and open at most 3x SQLite and under 100 ms; search under 100 ms; no
event-loop stall over 50 ms while streaming.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.common import big_store, machine

QUERIES = ["the", "function", "sqlite index", '"return value"', "optim*", "lookahead"]
PAGE = 50
WINDOW = 50
UPDATES = 200


def timed(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def big_conversation(store) -> int:
    row = store._one("SELECT id FROM conversations WHERE title = ?", ["Bench: 10,000 messages"])
    return row["id"]


def store_figures(store, runs: int) -> dict[str, float]:
    cid = big_conversation(store)
    figures = {
        "sidebar page": timed(lambda: store.list_conversations(limit=PAGE), runs),
        "open 10,000-message conversation": timed(
            lambda: (store.get_conversation(cid), store.latest_messages(cid, WINDOW)), runs),
    }
    for query in QUERIES:
        figures[f"search {query}"] = timed(lambda q=query: store.search(q), runs)
    return figures


async def streaming(store) -> tuple[float, float]:
    """(the longest event-loop stall, seconds per update) writing one streamed answer."""
    from agentterm.store import AsyncStore

    astore = AsyncStore(store)
    cid = big_conversation(store)
    stalls: list[float] = []
    done = asyncio.Event()

    async def ticker():
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - started - 0.005)

    tick = asyncio.create_task(ticker())
    message = await astore.add_message(cid, "assistant", "", status="streaming")
    text = ""
    started = time.perf_counter()
    for n in range(UPDATES):
        text += f"Piece {n} of the answer, with some **Markdown** and `code`. " * 3
        await astore.update_message(message.id, content=text)
    await astore.update_message(message.id, status="complete")
    per_update = (time.perf_counter() - started) / (UPDATES + 1)
    done.set()
    await tick
    await astore.run(store.delete_message, message.id)
    astore._executor.shutdown(wait=True)
    return max(stalls), per_update


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="the PostgreSQL copy of the benchmark store")
    parser.add_argument("--sqlite", default=None, help="the SQLite benchmark store (default: bench's big.db)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from agentterm.store import Store

    sqlite = Store(args.sqlite or big_store())
    pg = Store(args.pg)
    print(f"machine: {machine()}; {pg.server_info()['version']}")
    lite_figures, pg_figures = store_figures(sqlite, args.runs), store_figures(pg, args.runs)
    print(f"{'':40} {'SQLite':>10} {'PostgreSQL':>11} {'ratio':>7}")
    for name, lite in lite_figures.items():
        theirs = pg_figures[name]
        print(f"{name:40} {lite * 1000:8.1f} ms {theirs * 1000:8.1f} ms {theirs / lite:6.1f}x")
    for label, store in (("SQLite", sqlite), ("PostgreSQL", pg)):
        stall, per_update = asyncio.run(streaming(store))
        print(f"streaming on {label}: longest event-loop stall {stall * 1000:.1f} ms, "
              f"{per_update * 1000:.2f} ms per update")
    sqlite.close()
    pg.close()


if __name__ == "__main__":
    main()
