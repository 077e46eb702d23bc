"""Stream a 20,000-token Markdown answer with code blocks: keeping up, cost per chunk, stalls, keys.

    python -m bench.streaming [--delay 0.001] [--unpaced] [--client]

The loopback OpenAI server (tests/openai_server.py) runs as its own process and sends an
80,000-character answer (Markdown from bench/generate.py's writer: paragraphs, lists, tables,
fenced code) in 4-character chunks: 20,000 chunks, about 20,000 tokens. It is paced at --delay
seconds a chunk (default 1 ms: 1,000 tokens a second, several times faster than hosted models);
--unpaced also runs it with no delay at all.

First the server's send time is taken with a bare HTTP reader that only counts bytes, so the
receiver is not the bottleneck. Then the real app (headless `App.run_test`, 120x40, a new store)
sends a prompt and the clock runs from its first delta to the first frame showing the finished
answer. Meanwhile:
- CPU time per chunk (time.process_time) for each tenth of the answer;
- event-loop stalls: a task waking every 5 ms records how late it is;
- a key typed into the prompt at 25%, 50%, 75% and 95% of the answer: post to the first frame
  showing the character;
- the longest garbage-collector pause (gc.callbacks).

--client also times the LLM client alone (LLMClient.stream_chat read by a loop that keeps the
text and does nothing else), unpaced: the stream parser's own cost, apart from the app's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, WORK, machine, median
from bench.generate import TOPICS, Writer
from bench.headless import FrameClock, LoopMonitor, make_app, settle_collector

KEY = "sk-bench-0000"


def answer_text(chars: int = 80_000, seed: int = 7) -> str:
    rng = random.Random(seed)
    writer = Writer(rng)
    parts: list[str] = []
    size = 0
    while size < chars:
        part = writer.answer(rng.choice(TOPICS))
        parts.append(part)
        size += len(part) + 2
    return "\n\n".join(parts)[:chars]


class Server:
    """tests/openai_server.py as a process, with a script of responses."""

    def __init__(self, script: list[dict]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="server-", dir=WORK))
        (self.dir / "script.json").write_text(json.dumps(script))
        port_file = self.dir / "port"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.openai_server", "--port", "0", "--port-file", str(port_file),
             "--script", str(self.dir / "script.json")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def send_time(port: int) -> tuple[float, int]:
    """Seconds from the first content chunk to the end, read by a receiver that does no work."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"model": "bench", "stream": True, "messages": [{"role": "user", "content": "x"}]})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json",
                                                        "Authorization": f"Bearer {KEY}"})
    response = conn.getresponse()
    first = None
    chunks = 0
    for line in response:
        if line.startswith(b"data: {") and b'"content"' in line:
            chunks += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    conn.close()
    return end - (first or end), chunks


async def client_time(port: int) -> tuple[float, float, int]:
    """(wall s, CPU s, deltas) from the first text delta to the stream's end, for LLMClient.stream_chat alone."""
    from agentterm.config import load_settings
    from agentterm.llm import Delta, LLMClient

    client = LLMClient(load_settings(write_config(port)))
    first = None
    deltas = 0
    async for event in client.stream_chat([{"role": "user", "content": "x"}]):
        if isinstance(event, Delta):
            deltas += 1
            if first is None:
                first = time.perf_counter()
                cpu = time.process_time()
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    await client.aclose()
    return end - (first or end), cpu, deltas


def run_client(text: str) -> None:
    chunks = (len(text) + 3) // 4
    stream = {"kind": "stream", "text": text, "chunk_size": 4, "delay": 0.0, "usage": [20, chunks]}
    server = Server([stream, stream, stream, stream])
    try:
        sends, reads, cpus = [], [], []
        for _ in range(2):
            sends.append(send_time(server.port)[0])
            took, cpu, deltas = asyncio.run(client_time(server.port))
            reads.append(took)
            cpus.append(cpu)
    finally:
        server.close()
    send, read, cpu = median(sends), median(reads), median(cpus)
    print("## the LLM client alone, unpaced (median of 2)")
    print(f"server send time (bare reader)        {send:8.2f} s")
    print(f"LLMClient.stream_chat, first to end   {read:8.2f} s  ratio {read / send:.2f}   target <= 1.5"
          f"   ({deltas:,} deltas)")
    print(f"its CPU time                          {cpu:8.2f} s  ({cpu / max(deltas, 1) * 1e6:.0f} us a chunk)")


def write_config(port: int) -> Path:
    path = Path(tempfile.mkdtemp(prefix="config-", dir=WORK)) / "config.toml"
    path.write_text(
        'default_provider = "local"\n\n[providers.local]\n'
        f'base_url = "http://127.0.0.1:{port}/v1"\napi_key_env = "AGENTTERM_BENCH_KEY"\n'
        'model = "bench-model"\ntimeout = 60\n'
    )
    os.environ["AGENTTERM_BENCH_KEY"] = KEY
    return path


def apply_gc(mode: str) -> None:
    """The collector as the app sets it a second after start ("app"; headless apps skip it, so
    it is applied here), or left at Python's defaults ("default"), to compare (--gc)."""
    if mode == "app":
        settle_collector()


async def run_app(port: int, expected_chunks: int, gc_mode: str = "app") -> dict:
    from textual import events

    db = Path(tempfile.mkdtemp(prefix="stream-", dir=WORK)) / "agentterm.db"
    app, store = make_app(db, write_config(port))
    pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - gc_started[0])

    result: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        clock = FrameClock(app)
        screen = app.main_screen
        await pilot.pause()
        await screen.open_draft(None)
        await pilot.pause()
        apply_gc(gc_mode)
        pane = screen.chat_pane
        prompt = pane.prompt_input
        # Count deltas as the chat pane receives them, and sample CPU time at each tenth.
        received = [0]
        first_delta = [0.0]
        first_cpu = [0.0]
        marks: dict[int, float] = {}
        tenth = max(expected_chunks // 10, 1)
        pane_class = type(pane)
        original = pane_class.on_chat_pane_reply_delta

        async def counted(self, event) -> None:
            # Pieces that came while one waited are joined into it (TurnView): count characters,
            # 4 to a chunk, as the server cut them.
            if received[0] == 0:
                first_delta[0] = time.perf_counter()
                first_cpu[0] = time.process_time()
            before = received[0]
            size = len(event.text) + sum(len(piece) for piece in getattr(event, "more", ()))
            received[0] += max((size + 3) // 4, 1)
            if received[0] // tenth > before // tenth or before == 0:
                marks[received[0]] = time.process_time()
            await original(self, event)

        # Textual finds handlers on the class, so the counter wraps the class's method.
        pane_class.on_chat_pane_reply_delta = counted
        monitor = LoopMonitor()
        monitor.start()
        gc.callbacks.append(on_gc)
        # Typed, as a user would: the app starts importing openai in a thread at the first key,
        # and typing a prompt takes a second or two.
        prompt.insert("Write the long answer, please.")
        await asyncio.sleep(1.5)
        pane.send(prompt.text)
        keys: list[float] = []
        for fraction in (0.25, 0.5, 0.75, 0.95):
            deadline = time.perf_counter() + 600
            while received[0] < expected_chunks * fraction:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"only {received[0]} of {expected_chunks} deltas arrived")
                await asyncio.sleep(0.002)
            char = "xyzw"[len(keys)]
            clock.expect_frame_when(lambda c=char: c in prompt.text)
            started = time.perf_counter()
            prompt.post_message(events.Key(char, char))
            keys.append(await clock.wait_frame() - started)

        def finished() -> bool:
            views = pane.chat_view.views
            return (pane.streaming_conversation is None and bool(views)
                    and not views[-1].streaming and views[-1].message.status == "complete")

        clock.expect_frame_when(finished)
        done = await clock.wait_frame(timeout=600)
        cpu_done = time.process_time()
        gc.callbacks.remove(on_gc)
        monitor.stop()
        pane_class.on_chat_pane_reply_delta = original
        answer = pane.chat_view.views[-1].message
        result = {
            "total": done - first_delta[0],
            # The process's CPU time over the same span: what the load disturbs least.
            "cpu": cpu_done - first_cpu[0],
            "chunks": received[0],
            "stored": len(store.get_message(answer.id).content),
            "marks": marks,
            "tenth": tenth,
            # While it streams: from the first delta (the request's own start is reported apart:
            # it includes importing openai when the app has not warmed it up yet).
            "stalls50": monitor.stalls(0.05, first_delta[0]),
            "stalls100": monitor.stalls(0.1, first_delta[0]),
            "worst": monitor.worst(first_delta[0]),
            "worst_before": max((late for late, at in zip(monitor.lates, monitor.times) if at <= first_delta[0]),
                                default=0.0),
            "keys": keys,
            "gc_worst": max(pauses, default=0.0),
            "gc_count": len(pauses),
            "rss": int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024,
        }
        await pilot.pause()
    store.close()
    return result


def per_chunk(result: dict) -> tuple[float, float]:
    # Marks fall where a (joined) piece crosses a tenth: take the nearest ones.
    marks, tenth = result["marks"], result["tenth"]
    counts = sorted(marks)
    start = counts[0]
    one = next((c for c in counts if c >= start + tenth), counts[-1])
    first = (marks[one] - marks[start]) / max(one - start, 1)
    end = counts[-1]
    back = max((c for c in counts if c <= end - tenth), default=start)
    last = (marks[end] - marks[back]) / max(end - back, 1)
    return first, last


def run_mode(text: str, delay: float, gc_mode: str = "app") -> dict:
    chunks = (len(text) + 3) // 4
    stream = {"kind": "stream", "text": text, "chunk_size": 4, "delay": delay, "usage": [20, chunks]}
    server = Server([stream, stream, {"kind": "complete", "text": "Bench long answer"}])
    try:
        sent, seen = send_time(server.port)
        result = asyncio.run(run_app(server.port, seen, gc_mode))
    finally:
        server.close()
    result["send"] = sent
    result["expected"] = seen
    return result


def report(name: str, result: dict) -> None:
    first, last = per_chunk(result)
    print(f"## {name}")
    print(f"server send time (bare reader)        {result['send']:8.2f} s  ({result['expected']:,} chunks)")
    print(f"app, first delta to final frame       {result['total']:8.2f} s  ratio {result['total'] / result['send']:.2f}"
          f"   target <= 1.2")
    print(f"app CPU time, first delta to frame    {result['cpu']:8.2f} s  "
          f"({result['cpu'] / max(result['expected'], 1) * 1e6:.0f} us a chunk, all threads)")
    print(f"CPU per chunk, first tenth            {first * 1000:8.3f} ms")
    print(f"CPU per chunk, last tenth             {last * 1000:8.3f} ms  ratio {last / first:.2f}   target <= 1.5")
    print(f"key typed while streaming, to frame   {median(result['keys']) * 1000:8.1f} ms median, "
          f"{max(result['keys']) * 1000:.1f} ms worst   target < 50 ms")
    print(f"event-loop stalls > 50 ms / > 100 ms  {result['stalls50']:8d} / {result['stalls100']}, worst "
          f"{result['worst'] * 1000:.0f} ms (while streaming; before the first delta: worst "
          f"{result['worst_before'] * 1000:.0f} ms)")
    print(f"GC pauses                             {result['gc_count']:8d}, worst {result['gc_worst'] * 1000:.1f} ms")
    print(f"answer stored                         {result['stored']:8,} characters; RSS {result['rss']:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.001, help="seconds between chunks (paced run; negative: no paced run)")
    parser.add_argument("--unpaced", action="store_true", help="also run with no delay between chunks")
    parser.add_argument("--client", action="store_true", help="also time the LLM client alone, unpaced")
    parser.add_argument("--chars", type=int, default=80_000)
    parser.add_argument("--gc", choices=["app", "default"], default="app",
                        help="the collector as the app sets it after start, or Python's defaults")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    text = answer_text(args.chars)
    print(f"# streaming a {len(text):,}-character Markdown answer in 4-character chunks, headless 120x40 "
          f"({machine()})")
    suffix = "" if args.gc == "app" else f", gc {args.gc}"
    if args.delay >= 0:
        report(f"paced at {args.delay * 1000:g} ms a chunk{suffix}", run_mode(text, args.delay, args.gc))
    if args.unpaced:
        report(f"unpaced (as fast as the server can send){suffix}", run_mode(text, 0.0, args.gc))
    if args.client:
        run_client(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
