"""GET /api/sessions over the big store (10,000 conversations, 200,000 messages), through the real
server on loopback: pages, a deep cursor, filters, and full-text `q` (issue 10's target: p99 < 50 ms).

    python -m bench.api_sessions [--runs 200]

The server (create_app on uvicorn, in a thread, as tests/serve_helpers.py starts it) serves a copy of
the big store; one keep-alive httpx client sends each request `runs` times after 10 warm-up calls
and each is timed from send to the whole body read. The big store's conversations are the local
user's; "another user" has none, so their pages scan the owner filter to an empty answer.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import WORK, big_store, machine

CASES = {
    "first page (limit 50)": {},
    "page 20 (by cursor)": {"cursor_pages": 19},
    "archived=true": {"archived": "true"},
    "tag=SQL (any case)": {"tag": "SQL"},
    "agent=<first agent>": {"agent": None},
    "q=lookahead (rare word)": {"q": "lookahead"},
    "q=the (common word)": {"q": "the"},
    "q=\"return value\" (phrase)": {"q": '"return value"'},
    "trash=true": {"trash": "true"},
}


def serve(store, settings):
    import uvicorn

    from agentterm.server.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(store, settings, None), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, server.servers[0].sockets[0].getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    import httpx2 as httpx

    from agentterm.config import load_settings
    from agentterm.store import Store

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="api-sessions-", dir=WORK))
    db = folder / "big.db"
    shutil.copy(big_store(), db)
    config = folder / "config.toml"
    config.write_text("[serve]\nrequests_per_minute = 0\n")  # no limit: the benchmark is the client
    settings = load_settings(config)
    store = Store(db)
    me, _ = store.create_token(settings.local_user())
    other, _ = store.create_token("someone-else")
    first_agent = store.list_agents()[0].name
    server, port = serve(store, settings)
    print(f"{machine()}; {store.count_conversations('all')} conversations; {args.runs} runs each")
    try:
        for who, token in (("local user", me), ("another user", other)):
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                headers={"Authorization": f"Bearer {token}"})
            for name, case in CASES.items():
                if "agent" in case and who != "local user":
                    continue  # the big store's agents are the local user's: another's is a 404
                params = {k: (first_agent if k == "agent" else v) for k, v in case.items() if k != "cursor_pages"}
                params["limit"] = 50
                for _ in range(case.get("cursor_pages", 0)):
                    cursor = http.get("/api/sessions", params=params).json()["next_cursor"]
                    if cursor is None:
                        break
                    params["cursor"] = cursor
                times, count = [], 0
                for run in range(args.runs + 10):
                    started = time.perf_counter()
                    answer = http.get("/api/sessions", params=params)
                    elapsed = time.perf_counter() - started
                    assert answer.status_code == 200, answer.text
                    count = len(answer.json()["data"])
                    if run >= 10:
                        times.append(elapsed)
                print(f"{who:12} {name:28} p50 {statistics.median(times) * 1000:6.1f} ms"
                      f"  p99 {percentile(times, 99) * 1000:6.1f} ms  ({count} sessions)")
            http.close()
    finally:
        server.should_exit = True
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
