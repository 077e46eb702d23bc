"""CPU time from process start to the first frame, headless: what a start-up change buys.

    python -m bench.first_frame [--runs 9] [--big]

Each run is a fresh interpreter that builds the app as the command line does (settings, store,
client, make_app), runs it headless at 120x40 and stops at the first frame the compositor
renders; it reports time.process_time() then (the CPU the process has used since it started,
imports included) and the wall time since the interpreter started. The minimal Textual app of
bench/startup.py runs the same way, round-robin with the agentterm cases. CPU time is what
changes in the code move; on a loaded machine it varies far less than wall time, so a change
can be measured here when bench/startup.py's wall-clock figures are lost in the noise (the
target is still read on bench/startup.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import BIG_DB, ROOT, WORK, big_store, machine, median

PROBE = r"""
import json, sys, time
started = time.perf_counter()
kind, db = sys.argv[1], sys.argv[2]
if kind == "minimal":
    sys.path.insert(0, "bench")
    from minimal_app import MinimalApp
    app = MinimalApp()
else:
    from pathlib import Path
    from agentterm.cli import make_app
    from agentterm.config import load_settings
    from agentterm.llm import LLMClient
    from agentterm.store import Store
    settings = load_settings(Path("/nonexistent/agentterm/config.toml"))
    store = Store(Path(db))
    app = make_app(settings, store, LLMClient(settings))
result = {}
display = app._display

def first_frame(screen, renderable):
    display(screen, renderable)
    if renderable is not None and not result:
        result["cpu"] = time.process_time()
        result["wall"] = time.perf_counter() - started
        result["widgets"] = sum(1 for _ in screen.walk_children(with_self=False))
        result["modules"] = len(sys.modules)
        app.exit()

app._display = first_frame
app.run(headless=True, size=(120, 40))
print(json.dumps(result))
"""


def run_once(kind: str, db: Path | None, tree: Path | None = None) -> dict:
    # Bytecode is written and used, as after `pip install`: compiling our modules from source on
    # every start would be charged to agentterm alone (Textual's are compiled already).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if tree is not None:  # another checkout's agentterm, found before the installed one
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, "-c", PROBE, kind, str(db or "")], cwd=tree or ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"{kind}: {out.stderr[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--big", action="store_true", help="also the big store (generated on first use)")
    parser.add_argument("--also", metavar="NAME=PATH", action="append", default=[],
                        help="also agentterm from another checkout (a change's before and after, same run)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[str, Path | None, Path | None]] = {
        "minimal Textual app": ("minimal", None, None), "agentterm, empty store": ("agentterm", None, None)}
    for other in args.also:
        name, _, path = other.partition("=")
        cases[f"{name}, empty store"] = ("agentterm", None, Path(path).resolve())
    if args.big:
        cases["agentterm, big store"] = ("agentterm", big_store(), None)
        for other in args.also:
            name, _, path = other.partition("=")
            cases[f"{name}, big store"] = ("agentterm", BIG_DB, Path(path).resolve())
    print(f"# first frame, headless 120x40, median of {args.runs} ({machine()})")
    seen: dict[str, list[dict]] = {name: [] for name in cases}
    for round_ in range(args.runs + 1):
        for name, (kind, db, tree) in cases.items():
            if kind == "agentterm" and db is None:  # a first start: the store is created
                db = Path(tempfile.mkdtemp(prefix="empty-", dir=WORK)) / "agentterm.db"
            result = run_once(kind, db, tree)
            if round_:
                seen[name].append(result)
    base = median([r["cpu"] for r in seen["minimal Textual app"]])
    width = max(map(len, cases)) + 1
    print(f"{'case':{width}} {'CPU':>7} {'ratio':>6} {'wall':>7} {'widgets':>8} {'modules':>8}")
    for name, results in seen.items():
        cpu = median([r["cpu"] for r in results])
        print(f"{name:{width}} {cpu * 1000:5.0f}ms {cpu / base:6.2f} {median([r['wall'] for r in results]) * 1000:5.0f}ms "
              f"{results[0]['widgets']:8d} {results[0]['modules']:8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
