"""Resident memory of the real `agentterm` in tmux: after start, and after opening the big conversation.

    python -m bench.memory [--runs 3]

With the big store: start (the first full screen, then one second), then enter on the sidebar's
top row, which is the 10,000-message conversation (pinned, newest), and wait until the screen
has not changed for 1.5 s. VmRSS and VmHWM (the peak) are read from /proc/PID/status. The same
start with an empty store is measured too (its target is in bench/startup.py's output).
"""

from __future__ import annotations

import argparse
import time

from bench.common import (
    BIG_DB,
    TmuxRun,
    big_store,
    clean_env,
    empty_store,
    ensure_tmux,
    machine,
    median,
    real_binary,
    status_mb,
)
from bench.startup import FOOTER, HOME_TEXTS


def wait_still(run: TmuxRun, quiet: float = 1.5, timeout: float = 60.0) -> float:
    """Seconds until the screen last changed, once it has stayed the same for `quiet` seconds."""
    deadline = time.perf_counter() + timeout
    last, changed = run.screen(), time.perf_counter()
    while time.perf_counter() < deadline:
        time.sleep(0.05)
        screen = run.screen()
        if screen != last:
            last, changed = screen, time.perf_counter()
        elif time.perf_counter() - changed >= quiet:
            return changed - run.started
    raise TimeoutError("the screen never settled")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    ensure_tmux()
    agentterm = real_binary("agentterm")
    big_store()
    figures: dict[str, list[float]] = {"empty: start": [], "big: start": [], "big: open 10,000": [],
                                       "big: peak": []}
    for _ in range(args.runs):
        run = TmuxRun([agentterm, "--db", str(empty_store())], clean_env())
        try:
            run.start()
            run.wait_for("No conversations yet", *HOME_TEXTS, FOOTER)
            time.sleep(1.0)
            figures["empty: start"].append(run.rss_mb())
        finally:
            run.close()
        run = TmuxRun([agentterm, "--db", str(BIG_DB)], clean_env())
        try:
            run.start()
            run.wait_for("Bench: 10,000 messages", *HOME_TEXTS, FOOTER)
            time.sleep(1.0)
            figures["big: start"].append(run.rss_mb())
            run.started = time.perf_counter()
            run.send("enter")
            run.wait_for("Type a prompt")
            wait_still(run)
            figures["big: open 10,000"].append(run.rss_mb())
            figures["big: peak"].append(status_mb(run.pid, "VmHWM"))
        finally:
            run.close()
    print(f"# resident memory of agentterm in tmux 120x40, median of {args.runs} ({machine()})")
    for name, values in figures.items():
        print(f"{name:22} {median(values):6.1f} MB  (min {min(values):.1f}, max {max(values):.1f})")
    print("targets: empty store after start <= 60 MB; big store with the 10,000-message conversation open <= 150 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
