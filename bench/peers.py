"""elia and oterm, measured as agentterm is: start in tmux 120x40, RSS, and opening a conversation.

    python -m bench.peers [--runs 7] [--sizes 10,1000]

Each peer is installed from PyPI into its own venv under /tmp/agentterm-peers (`pip install
elia-chat`, `pip install oterm`) on first use. A peer that cannot be installed or run here is
reported as such, never given a number.

- start: the same FIFO-released tmux session as bench/startup.py, stopping at the first capture
  showing the peer's complete home screen (elia: its history list and footer; oterm: its welcome
  text, after its splash animation); RSS one second later.
- open (elia only): a conversation of N messages is imported with `elia import` (ChatGPT's export
  format, the same Markdown as bench/generate.py, the last message a plain marker sentence); elia
  starts with it alone in its history, then `tab` to the list and `enter`, timed from the key to
  the first capture showing the marker. oterm keeps chats only with a live Ollama model (there
  is none offline), so its open figure is not measured.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import WORK, TmuxRun, clean_env, ensure_tmux, machine, median
from bench.generate import TOPICS, Writer

PEERS = Path("/tmp/agentterm-peers")
PACKAGES = {"elia": "elia-chat", "oterm": "oterm", "llm": "llm"}  # llm: for bench/ask.py
READY = {"elia": ("History (", "Send message"), "oterm": ("Welcome to oterm!",)}


def install(name: str) -> Path | None:
    """The peer's program, installing it into its own venv if needed; None when that fails."""
    venv = PEERS / name
    program = venv / "bin" / name
    if program.exists():
        return program
    PEERS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", PACKAGES[name]],
                            capture_output=True, text=True)
    if result.returncode != 0 or not program.exists():
        print(f"{name}: `pip install {PACKAGES[name]}` failed: {result.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return program


def version(name: str) -> str:
    pip = PEERS / name / "bin" / "pip"
    out = subprocess.run([str(pip), "show", PACKAGES[name]], capture_output=True, text=True).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Version")), "?")


def start_once(program: Path, name: str, home: Path | None = None, timeout: float = 90.0) -> tuple[float, float]:
    run = TmuxRun([str(program)], clean_env(home))
    try:
        run.start()
        seconds = run.wait_for(*READY[name], timeout=timeout, interval=0.01)
        time.sleep(1.0)
        return seconds, run.rss_mb()
    finally:
        run.close()


def chatgpt_export(size: int, marker: str, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    writer = Writer(rng)
    topic = rng.choice(TOPICS)
    mapping: dict[str, dict] = {}
    parent = None
    for i in range(size):
        role = "user" if i % 2 == 0 else "assistant"
        text = writer.prompt(topic) if role == "user" else writer.answer(topic)
        if i == size - 1:
            text = marker
        node = f"n{i}"
        mapping[node] = {"id": node, "parent": parent, "children": [],
                         "message": {"id": node, "author": {"role": role}, "create_time": 1_700_000_000 + i,
                                     "content": {"content_type": "text", "parts": [text]}, "metadata": {}}}
        if parent:
            mapping[parent]["children"].append(node)
        parent = node
    return [{"title": f"Bench: {size:,} messages", "create_time": 1_700_000_000, "mapping": mapping}]


def elia_open(program: Path, size: int, runs: int) -> list[float]:
    home = Path(tempfile.mkdtemp(prefix=f"elia-{size}-", dir=WORK))
    marker = f"Marker sentence closing the {size} message chat."
    export = home / "conversations.json"
    export.write_text(json.dumps(chatgpt_export(size, marker)))
    env = clean_env(home)
    start_once(program, "elia", home)  # elia creates its database at its first start only
    subprocess.run([str(program), "import", str(export)], env=env, capture_output=True, check=True, timeout=600)
    times = []
    for _ in range(runs):
        run = TmuxRun([str(program)], env)
        try:
            run.start()
            run.wait_for("History (1)", "Send message", timeout=60)
            time.sleep(0.5)
            run.send("tab")
            time.sleep(0.3)
            run.started = time.perf_counter()
            run.send("enter")
            times.append(run.wait_for(marker[:30], timeout=300, interval=0.01))
        except TimeoutError as error:
            print(f"elia open {size}: {str(error).splitlines()[0]}", file=sys.stderr)
            break
        finally:
            run.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--oterm-runs", type=int, default=3)
    parser.add_argument("--sizes", default="10,1000", help="conversation sizes to open in elia")
    args = parser.parse_args(argv)
    ensure_tmux()
    print(f"# peers, tmux 120x40 ({machine()})")
    for name, runs in (("elia", args.runs), ("oterm", args.oterm_runs)):
        program = install(name)
        if program is None:
            print(f"{name}: not installable here; no figures")
            continue
        times, rss = [], []
        try:
            for round_ in range(runs + 1):
                seconds, mb = start_once(program, name)
                if round_:
                    times.append(seconds)
                    rss.append(mb)
        except TimeoutError as error:
            print(f"{name} {version(name)}: did not show its home screen: {str(error).splitlines()[0]}")
            continue
        print(f"{name} {version(name)}: start {median(times) * 1000:.0f} ms (median of {len(times)}, "
              f"min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), RSS {median(rss):.0f} MB")
    program = install("elia")
    if program is not None:
        for size in (int(s) for s in args.sizes.split(",") if s):
            times = elia_open(program, size, min(args.runs, 3))
            if times:
                print(f"elia: open a {size:,}-message conversation: {median(times) * 1000:.0f} ms "
                      f"(median of {len(times)})")
            else:
                print(f"elia: open a {size:,}-message conversation: not measured (see above)")
    print("oterm: open a conversation: not measured (its chats need a live Ollama model; none offline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
