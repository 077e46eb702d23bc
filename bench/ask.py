"""`agentterm ask` against simonw/llm: process start to the answer's first byte, and to exit.

    python -m bench.ask [--runs 9]

Both ask the tests' loopback OpenAI server (tests/openai_server.py, in this process) for the same
one-line streamed answer; llm is installed into its own venv by bench/peers.py (`pip install
llm`) and pointed at the server with an `extra-openai-models.yaml`. Cases run round-robin, one
unmeasured warm-up round first: `agentterm ask` (a new conversation, so a title is asked for
after the answer), `agentterm ask --no-title` (what the title's round trip costs at exit), and
`llm -m bench`. Each keeps what it does on disk: agentterm its store, llm its logs.db. The
clock starts before the process is spawned; "first byte" is the first byte of the answer on
its stdout (a pipe), "exit" the process's end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, WORK, machine, median
from bench.peers import PEERS, install, version

sys.path.insert(0, str(ROOT))
from tests.openai_server import DEFAULT_TEXT, FakeOpenAIServer  # noqa: E402

KEY = "sk-bench-0123456789"
PROMPT = "Say hello in one line."


def own_agentterm() -> str:
    """agentterm in a venv of its own, as llm has: the machine's packages (trio, say, which
    httpcore imports when it is there) would otherwise weigh on one side only."""
    # One per checkout: the install is editable, so it runs the code of the tree that made it.
    venv = PEERS / f"agentterm-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"
    program = venv / "bin" / "agentterm"
    if not program.exists():
        PEERS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], check=True)
    return str(program)


def agentterm_case(program: str, folder: Path, base_url: str) -> tuple[list[str], dict[str, str]]:
    config = folder / "config.toml"
    config.write_text(
        'default_provider = "local"\n\n[providers.local]\n'
        f'base_url = "{base_url}"\napi_key_env = "AGENTTERM_BENCH_KEY"\n'
        'model = "test-model"\ntitle_model = "test-title-model"\ntimeout = 10\n'
    )
    command = [program, "--db", str(folder / "agentterm.db"), "--config", str(config), "ask"]
    return command, {"AGENTTERM_BENCH_KEY": KEY}


def llm_case(program: Path, folder: Path, base_url: str) -> tuple[list[str], dict[str, str]]:
    (folder / "extra-openai-models.yaml").write_text(
        f"- model_id: bench\n  model_name: test-model\n  api_base: \"{base_url}\"\n"
    )
    return [str(program), "-m", "bench"], {"LLM_USER_PATH": str(folder)}


def environment(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"), **extra}


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to the answer's first byte on stdout, seconds to exit, CPU seconds used)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               cwd=env.get("PYTHONPATH"))
    assert process.stdout is not None and process.stderr is not None
    first = os.read(process.stdout.fileno(), 1)
    first_byte = time.perf_counter() - started
    rest = first + process.stdout.read()
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    exited = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or DEFAULT_TEXT.encode() not in rest:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {rest[:200]!r} {errors[-400:]!r}")
    return first_byte, exited, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--also", metavar="NAME=PATH", action="append", default=[],
                        help="also agentterm from another checkout, run by the same venv's python "
                             "(a change's before and after, same run)")
    parser.add_argument("--agentterm", default=None,
                        help="the agentterm program (default: a venv of its own, like llm's, made by "
                             "`pip install -e .` on first use, so neither sees the other's packages)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    program = install("llm")
    with FakeOpenAIServer() as server:
        folder = Path(tempfile.mkdtemp(prefix="ask-", dir=WORK))
        home = folder / "home"
        home.mkdir()
        ours, ours_env = agentterm_case(args.agentterm or own_agentterm(), folder, server.base_url)
        table = {
            "agentterm ask": (ours + [PROMPT], environment(home, ours_env)),
            "agentterm ask --no-title": (ours + ["--no-title", PROMPT], environment(home, ours_env)),
        }
        python = str(Path(ours[0]).with_name("python"))
        for other in args.also:
            name, _, tree = other.partition("=")
            # python -m runs the checkout's agentterm: its folder comes first on sys.path.
            command = [python, "-m", "agentterm", *ours[1:], PROMPT]
            table[f"{name} ask"] = (command, environment(home, {**ours_env, "PYTHONPATH": tree}))
        if program is not None:
            (folder / "llm").mkdir()
            theirs, theirs_env = llm_case(program, folder / "llm", server.base_url)
            table[f"llm {version('llm')}"] = (theirs + [PROMPT], environment(home, theirs_env))
        print(f"# ask, a one-line streamed answer from a loopback server, median of {args.runs} ({machine()})")
        first: dict[str, list[float]] = {name: [] for name in table}
        exit_: dict[str, list[float]] = {name: [] for name in table}
        cpu: dict[str, list[float]] = {name: [] for name in table}
        for round_ in range(args.runs + 1):
            for name, (command, env) in table.items():
                a, b, c = run_once(command, env)
                if round_:
                    first[name].append(a)
                    exit_[name].append(b)
                    cpu[name].append(c)
                    print(f"  round {round_}: {name}: first byte {a * 1000:.0f} ms, exit {b * 1000:.0f} ms, "
                          f"CPU {c * 1000:.0f} ms", file=sys.stderr)
    peer = next((name for name in table if name.startswith("llm")), None)
    print(f"{'case':26} {'first byte':>10} {'ratio':>6} {'exit':>8} {'ratio':>6} {'min exit':>9} "
          f"{'CPU':>7} {'ratio':>6}")
    for name in table:
        f, e, c = median(first[name]), median(exit_[name]), median(cpu[name])
        ratios = ((f / median(first[peer]), e / median(exit_[peer]), c / median(cpu[peer])) if peer
                  else (float("nan"),) * 3)
        print(f"{name:26} {f * 1000:8.0f}ms {ratios[0]:6.2f} {e * 1000:6.0f}ms {ratios[1]:6.2f} "
              f"{min(exit_[name]) * 1000:7.0f}ms {c * 1000:5.0f}ms {ratios[2]:6.2f}")
    print("CPU: user + system time of the process, less sensitive than wall time to a loaded machine")
    print("target: agentterm ask <= 0.8x llm's, to the first byte and to exit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
