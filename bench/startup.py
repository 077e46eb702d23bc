"""Start to the first full screen in tmux (120x40), against a minimal Textual app in the same run.

    python -m bench.startup [--runs 7]

Runs the real `agentterm` command (past any pyenv shim) with an empty store and with the big
store, and `python bench/minimal_app.py`, round-robin, after one unmeasured warm-up each. The
clock starts when the waiting shell execs the program and stops at the first `tmux capture-pane`
(polled every 5 ms) showing the texts of that program's complete first screen: for agentterm the
sidebar's rows (filled from the store) and the dashboard. RSS is read from /proc/PID/status one
second after that screen.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.common import (
    ROOT,
    TmuxRun,
    big_store,
    clean_env,
    empty_store,
    ensure_tmux,
    machine,
    median,
    real_binary,
)

# The dashboard's heading; the footer's "Quit" comes a frame or more later (Textual composes the
# footer's keys after the first refresh), so it is timed on its own.
HOME_TEXTS = ("Recent conversations",)
FOOTER = "Quit"


def cases(python: str, agentterm: str) -> dict[str, tuple[list[str] | None, tuple[str, ...], str | None]]:
    big = big_store()
    return {
        "minimal Textual app": ([python, str(ROOT / "bench" / "minimal_app.py")], ("Minimal conversation 20",), None),
        "agentterm, empty store": (None, ("No conversations yet", *HOME_TEXTS), FOOTER),
        "agentterm, big store": ([agentterm, "--db", str(big)], ("Bench: 10,000 messages", *HOME_TEXTS), FOOTER),
    }


def run_once(command: list[str], texts: tuple[str, ...], footer: str | None,
             settle: float) -> tuple[float, float, float]:
    """(seconds to the content, seconds to the footer too, RSS in MB `settle` s after)."""
    run = TmuxRun(command, clean_env())
    try:
        run.start()
        seconds = run.wait_for(*texts)
        full = run.wait_for(*texts, footer) if footer else seconds
        time.sleep(settle)
        return seconds, full, run.rss_mb()
    finally:
        run.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds after the screen before reading RSS")
    args = parser.parse_args(argv)
    ensure_tmux()
    python, agentterm = real_binary("python"), real_binary("agentterm")
    table = cases(python, agentterm)
    print(f"# start-up, tmux 120x40, median of {args.runs} ({machine()})")
    print(f"# agentterm = {agentterm}; python = {python}")
    times: dict[str, list[float]] = {name: [] for name in table}
    fulls: dict[str, list[float]] = {name: [] for name in table}
    rss: dict[str, list[float]] = {name: [] for name in table}
    for round_ in range(args.runs + 1):
        for name, (command, texts, footer) in table.items():
            if command is None:  # a fresh, empty store each time: created by this start
                command = [agentterm, "--db", str(empty_store())]
            seconds, full, mb = run_once(command, texts, footer, args.settle)
            if round_ == 0:
                continue  # warm-up: page cache, .pyc files, the big store's pages
            times[name].append(seconds)
            fulls[name].append(full)
            rss[name].append(mb)
            print(f"  round {round_}: {name}: {seconds * 1000:.0f} ms, with footer {full * 1000:.0f} ms, "
                  f"{mb:.1f} MB", file=sys.stderr)
    base = median(times["minimal Textual app"])
    print(f"{'case':28} {'content':>8} {'min':>6} {'max':>6} {'ratio':>6} {'+footer':>8} {'ratio':>6} {'RSS MB':>7}")
    for name in table:
        values, full = times[name], fulls[name]
        print(f"{name:28} {median(values) * 1000:6.0f}ms {min(values) * 1000:4.0f}ms {max(values) * 1000:4.0f}ms "
              f"{median(values) / base:6.2f} {median(full) * 1000:6.0f}ms {median(full) / base:6.2f} "
              f"{median(rss[name]):7.1f}")
    print("content: the sidebar's rows and the dashboard; +footer: the footer's keys drawn too")
    print("targets: agentterm start <= 1.3x the minimal app (issue 13.2; 1.15x after it), both stores; "
          "RSS <= 60 MB with the empty store")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
