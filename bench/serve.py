"""`agentterm serve` against the same request sent straight to the upstream, in the same run.

    python -m bench.serve [--requests 200] [--rounds 3] [--clients 1,50] [--skip-chat] [--skip-api]

Two processes besides this one: the tests' loopback OpenAI server (`python -m tests.openai_server`,
"Hello from the test server." in 7 chunks, no delay) and `agentterm serve` (the real command, on a
free loopback port, the upstream as its provider, per-token limits lifted). This process is the
client (httpx2, asyncio). Each case is measured both ways in alternating rounds, so that a loaded
machine's moods fall on both alike:

- plain: a small non-streamed answer, request to the whole body;
- ttft: a streamed answer, request to the first content chunk;

at 1 client (requests one after another) and at 50 (50 tasks, each its requests in turn). Every
request through agentterm is a new session (no session_id, as a stateless OpenAI client sends),
so it also writes the conversation and starts a title, as in real use. Target: p50 through
agentterm at most 1.2 x direct + 5 ms; no errors at 50.

Then, on a copy of the 200,000-message benchmark store (bench/generate.py), `agentterm serve` alone:
GET /api/sessions (the first page, and five pages deep by cursor), and the full-text search
GET /api/sessions?q=... for a rare and a common word. Target: p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, WORK, big_store, machine

ANSWER = "Hello from the test server."
BODY = {"model": "Assistant", "messages": [{"role": "user", "content": "Say hello."}]}


def _wait_port(path: Path, proc: subprocess.Popen, what: str, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(0.05)
    return int(path.read_text())


class Processes:
    """The upstream and agentterm serve, each stopped by its own pid."""

    def __init__(self, db: Path, work: Path) -> None:
        self.db, self.work, self.procs = db, work, []

    def start(self) -> Processes:
        env = {**os.environ, "AGENTTERM_TEST_KEY": "sk-bench"}
        up_port = self.work / "upstream.port"
        upstream = subprocess.Popen([sys.executable, "-m", "tests.openai_server", "--port", "0",
                                     "--port-file", str(up_port)], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(upstream)
        self.upstream = f"http://127.0.0.1:{_wait_port(up_port, upstream, 'the upstream')}/v1"
        config = self.work / "config.toml"
        config.write_text(
            'user = "bench"\ndefault_provider = "local"\n\n[providers.local]\n'
            f'base_url = "{self.upstream}"\napi_key_env = "AGENTTERM_TEST_KEY"\nmodel = "test-model"\n'
            'title_model = "test-title-model"\ntimeout = 30\n\n'
            "[serve]\nrequests_per_minute = 0\nstreams_per_token = 0\n")
        from agentterm.store import Store

        store = Store(self.db)
        try:
            self.token, _ = store.create_token("bench")
            store.set_agent_owner(store.default_agent().id, None, shared=True)
        finally:
            store.close()
        serve_port = self.work / "serve.port"
        env.update(AGENTTERM_DB=str(self.db), AGENTTERM_CONFIG=str(config))
        serve = subprocess.Popen([sys.executable, "-m", "agentterm", "serve", "--port", "0", "--port-file",
                                  str(serve_port)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=self.work.joinpath("serve.stderr").open("w"))
        self.procs.append(serve)
        self.serve = f"http://127.0.0.1:{_wait_port(serve_port, serve, 'agentterm serve')}"
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def _one(client, url: str, headers: dict, stream: bool) -> float:
    """Seconds from the request to the whole answer (plain) or to its first content (stream)."""
    body = {**BODY, "stream": stream}
    start = time.perf_counter()
    if not stream:
        answer = await client.post(url, json=body, headers=headers)
        answer.raise_for_status()
        assert answer.json()["choices"][0]["message"]["content"] == ANSWER
        return time.perf_counter() - start
    async with client.stream("POST", url, json=body, headers=headers) as answer:
        answer.raise_for_status()
        first = None
        async for line in answer.aiter_lines():
            if first is None and line.startswith("data: {") and '"content": "' in line \
                    and '"content": ""' not in line:
                first = time.perf_counter() - start
        assert first is not None
        return first


async def _batch(url: str, headers: dict, stream: bool, clients: int, each: int) -> tuple[list[float], int]:
    import httpx2 as httpx

    times, errors = [], 0
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        async def worker() -> None:
            nonlocal errors
            for _ in range(each):
                try:
                    times.append(await _one(client, url, headers, stream))
                except Exception as error:  # noqa: BLE001 - counted, the bench goes on
                    errors += 1
                    if errors <= 3:
                        print(f"  error: {type(error).__name__}: {error}", file=sys.stderr)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return times, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms(v: float) -> str:
    return f"{v * 1000:.1f}"


def chat_cases(procs: Processes, requests: int, rounds: int, counts: tuple[int, ...] = (1, 50)) -> bool:
    ok = True
    targets = {"direct": (f"{procs.upstream}/chat/completions", {"Authorization": "Bearer sk-bench"}),
               "agentterm": (f"{procs.serve}/v1/chat/completions", {"Authorization": f"Bearer {procs.token}"})}
    print("| case | clients | direct p50 | direct p99 | agentterm p50 | agentterm p99 | target p50 | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for stream in (False, True):
        for clients in counts:
            each = max(1, requests // clients) if clients > 1 else requests
            got = {name: ([], 0) for name in targets}
            asyncio.run(_batch(*targets["direct"], stream, clients, 2))  # warm-up, not counted
            asyncio.run(_batch(*targets["agentterm"], stream, clients, 2))
            for _ in range(rounds):
                for name, (url, headers) in targets.items():
                    times, errors = asyncio.run(_batch(url, headers, stream, clients, each))
                    got[name] = (got[name][0] + times, got[name][1] + errors)
            (d, de), (a, ae) = got["direct"], got["agentterm"]
            target = 1.2 * statistics.median(d) + 0.005
            met = statistics.median(a) <= target and (clients == 1 or ae == 0)
            ok &= met
            print(f"| {'ttft' if stream else 'plain'} | {clients} | {_ms(statistics.median(d))} | {_ms(pct(d, 99))}"
                  f" | {_ms(statistics.median(a))} | {_ms(pct(a, 99))} | {_ms(target)} {'met' if met else 'MISSED'}"
                  f" | {de} / {ae} of {len(d) + de} / {len(a) + ae} |", flush=True)
    return ok


def api_cases(procs: Processes, runs: int) -> bool:
    import httpx2 as httpx

    headers = {"Authorization": f"Bearer {procs.token}"}
    ok = True
    with httpx.Client(base_url=procs.serve, headers=headers, timeout=60) as client:
        def deep() -> httpx.Response:
            cursor = None
            for _ in range(5):
                page = client.get("/api/sessions", params={"limit": 50, **({"cursor": cursor} if cursor else {})})
                cursor = page.json()["next_cursor"]
            return page

        cases = {
            "GET /api/sessions (first page of 50)": lambda: client.get("/api/sessions"),
            "GET /api/sessions, 5 pages by cursor (per page)": deep,
            "GET /api/sessions?q=lighthouse (rare word)": lambda: client.get("/api/sessions", params={"q": "lighthouse"}),
            "GET /api/sessions?q=the (in nearly every message)": lambda: client.get("/api/sessions", params={"q": "the"}),
        }
        print("\n| request | p50 | p99 | target p99 |")
        print("| --- | --- | --- | --- |")
        for name, call in cases.items():
            first = call()
            first.raise_for_status()
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                call().raise_for_status()
                elapsed = time.perf_counter() - start
                times.append(elapsed / 5 if "cursor" in name else elapsed)
            met = pct(times, 99) < 0.050
            ok &= met
            print(f"| {name} | {_ms(statistics.median(times))} | {_ms(pct(times, 99))} | 50 {'met' if met else 'MISSED'} |",
                  flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per case, way and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (direct, agentterm)")
    parser.add_argument("--api-runs", type=int, default=200, help="requests per /api case")
    parser.add_argument("--clients", default="1,50", help="client counts, comma-separated (default 1,50)")
    parser.add_argument("--skip-chat", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}")
    ok = True
    if not args.skip_chat:
        work = Path(tempfile.mkdtemp(prefix="serve-", dir=WORK))
        procs = Processes(work / "agentterm.db", work).start()
        try:
            ok &= chat_cases(procs, args.requests, args.rounds, tuple(int(n) for n in args.clients.split(",")))
        finally:
            procs.stop()
            shutil.rmtree(work, ignore_errors=True)
    if not args.skip_api:
        work = Path(tempfile.mkdtemp(prefix="serve-big-", dir=WORK))
        db = work / "big.db"
        shutil.copy(big_store(), db)  # serve migrates and writes a token: never the shared store
        procs = Processes(db, work).start()
        try:
            ok &= api_cases(procs, args.api_runs)
        finally:
            procs.stop()
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
