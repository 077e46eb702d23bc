"""Keys while a tool runs and while an answer with thinking streams: each key's post to its frame.

    python -m bench.tools_app [--keys 8]

The real app (headless `App.run_test`, 120x40, a new store) with an agent whose tools come from
tests/mcp_servers/demo.py over stdio (approval "auto"), against the loopback OpenAI server
(tests/openai_server.py) as its own process:
- thinking: the model thinks for 3,000 reasoning chunks (2 ms apart, one long paragraph), then
  answers in 2,000 text chunks; keys are typed into the prompt while it thinks and while it
  answers;
- a tool: the model calls demo's `hang` (3 s), then answers; keys are typed while it runs.
A key is timed from its post to the first frame showing its character (bench/streaming.py's
way). Also the event-loop stalls over 50 ms in each phase. Target: every key under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, WORK, machine, median
from bench.headless import FrameClock, LoopMonitor, make_app, settle_collector
from bench.streaming import Server, write_config

DEMO = ROOT / "tests" / "mcp_servers" / "demo.py"


def script() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from tests.openai_responses import DONE, Events, chunk, response_to_dict

    thinking = [chunk({"reasoning_content": f"step {i} of the reasoning; "}) for i in range(3000)]
    # Paragraphs of 40 words, as Markdown answers have (the thinking is one long paragraph).
    text = [chunk({"content": f"word{i}" + ("\n\n" if i % 40 == 39 else " ")}) for i in range(2000)]
    answer = Events([chunk({"role": "assistant"}), *thinking, *text, chunk(finish_reason="stop"), DONE],
                    delay=0.002)
    call = Events([chunk({"role": "assistant"}),
                   chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                          "function": {"name": "demo__hang", "arguments": '{"seconds": 3}'}}]}),
                   chunk(finish_reason="tool_calls"), DONE])
    after = Events([chunk({"role": "assistant"}), chunk({"content": "It woke up."}),
                    chunk(finish_reason="stop"), DONE])
    title = {"kind": "complete", "text": "Bench tools"}  # asked for after the first answer
    return [response_to_dict(answer), title, response_to_dict(call), response_to_dict(after), title]


async def type_keys(pilot, clock: FrameClock, prompt, keys: int, while_: callable, spacing: float) -> list[float]:
    """Keys typed at `spacing` while `while_()` holds; each one's post to its frame."""
    from textual import events

    taken: list[float] = []
    for n in range(keys):
        if not while_():
            break
        char = "abcdefghijklmnop"[n % 16]
        count = prompt.text.count(char)
        clock.expect_frame_when(lambda c=char, k=count: prompt.text.count(c) > k)
        started = time.perf_counter()
        prompt.post_message(events.Key(char, char))
        taken.append(await clock.wait_frame() - started)
        await asyncio.sleep(spacing)
    return taken


async def run(keys: int) -> dict:
    from agentterm.tui.widgets.thinking import ThinkingView

    server = Server(script())
    config = write_config(server.port)
    with config.open("a") as file:
        file.write(f"\n[mcp_servers.demo]\ncommand = {json.dumps(sys.executable)}\n"
                   f"args = [{json.dumps(str(DEMO))}]\ntimeout = 30\n")
    db = Path(tempfile.mkdtemp(prefix="tools-", dir=WORK)) / "agentterm.db"
    app, store = make_app(db, config)
    agent = store.create_agent("Bench tools", mcp_servers=["demo"], tool_approval="auto")
    result: dict = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            clock = FrameClock(app)
            screen = app.main_screen
            await pilot.pause()
            await screen.open_draft(agent)
            await pilot.pause()
            settle_collector()
            pane = screen.chat_pane
            prompt = pane.prompt_input
            monitor = LoopMonitor()
            monitor.start()

            def live_thinking() -> bool:
                view = next(iter(app.query(ThinkingView)), None)
                return view is not None and view.live

            prompt.insert("Think hard, please.")
            await asyncio.sleep(1.5)  # typing a prompt: openai is imported meanwhile
            pane.send(prompt.text)
            while not live_thinking():
                await asyncio.sleep(0.005)
            since = time.perf_counter()
            result["thinking"] = await type_keys(pilot, clock, prompt, keys, live_thinking, 0.3)
            result["thinking_stalls"] = monitor.stalls(0.05, since)
            result["thinking_worst"] = monitor.worst(since)
            since = time.perf_counter()
            result["text"] = await type_keys(pilot, clock, prompt, keys, lambda: pane.streaming, 0.2)
            result["text_stalls"] = monitor.stalls(0.05, since)
            result["text_worst"] = monitor.worst(since)
            while pane.streaming:
                await asyncio.sleep(0.01)
            await pilot.pause()

            prompt.clear()
            prompt.insert("Now wait for the tool.")
            pane.send(prompt.text)

            def running() -> bool:
                conversation = pane.conversation
                if conversation is None:
                    return False
                return any(call.status == "running" for message in store.latest_messages(conversation.id, 3)
                           for call in message.tool_calls)

            deadline = time.monotonic() + 60
            while not running():
                if time.monotonic() > deadline:
                    raise TimeoutError("the tool never ran")
                await asyncio.sleep(0.01)
            since = time.perf_counter()
            result["tool"] = await type_keys(pilot, clock, prompt, keys, running, 0.25)
            result["tool_stalls"] = monitor.stalls(0.05, since)
            result["tool_worst"] = monitor.worst(since)
            while pane.streaming:
                await asyncio.sleep(0.01)
            monitor.stop()
            await pilot.pause()
    finally:
        store.close()
        server.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=8, help="keys typed in each phase")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.keys))
    print(f"# keys while a tool runs and while thinking streams, headless 120x40 ({machine()})")
    for phase, label in (("thinking", "while the answer's thinking streams"),
                         ("text", "while its text streams (for comparison)"), ("tool", "while a tool runs")):
        taken = result[phase] or [0.0]
        print(f"key {label:38} {median(taken) * 1000:6.1f} ms median, {max(taken) * 1000:.1f} ms worst "
              f"({len(taken)} keys)   target < 50 ms; loop stalls > 50 ms: {result[phase + '_stalls']}, "
              f"worst {result[phase + '_worst'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
