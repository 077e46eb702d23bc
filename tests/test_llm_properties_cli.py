"""Property tests: `agentterm ask` (a real process) against hostile event streams from tests/hostile.py.

Every case: the command exits 0 with the answer, or non-zero with exactly one line on stderr;
no traceback; what it printed is what the store holds; no row is left `streaming`; the key is
in nothing printed or written. Black-box: it holds whatever carries the reply flow.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given

from tests.hostile import examples, streams
from tests.reliability_helpers import MARKER_KEY, cli_env, one_error_line, read_rows, run_cli, write_config

_runs = itertools.count()


def stored_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def ask_through(server, tmp_path: Path, drawn):
    """Run `ask` against the drawn stream; (result, answers rows, db)."""
    run = tmp_path / f"run{next(_runs)}"
    db = run / "agentterm.db"
    config = write_config(run / "config.toml", server.base_url, timeout=3)
    server.script(drawn.events)
    result = run_cli("ask", "--no-title", "the question", env=cli_env(db, config), timeout=60)
    rows = read_rows(db, "SELECT status, content FROM messages WHERE role = 'assistant'") if db.exists() else []
    return result, rows, db


def check_ask(result, rows, db) -> None:
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "Traceback" not in out + err, err
    assert MARKER_KEY not in out + err
    assert MARKER_KEY.encode() not in stored_bytes(db)
    assert len(rows) <= 1 and all(status != "streaming" for status, _ in rows), rows
    shown = out.removesuffix("\n")
    if result.returncode == 0:
        assert err.strip() == "", err
        assert rows and rows[0][0] == "complete", rows
    else:
        one_error_line(result)
    assert shown == (rows[0][1] if rows else ""), (shown, rows)


@examples(8, 200)
@given(drawn=streams(tools=False, huge=False))
def test_ask_shows_and_stores_the_same_answer_or_one_clear_line(server, tmp_path, drawn):
    check_ask(*ask_through(server, tmp_path, drawn))


def test_ask_on_an_answer_of_tool_calls_only_is_one_clear_line(server, tmp_path):
    """Issue 8.19: a stream holding only tool calls made `ask` print nothing and exit 0."""
    from tests.hostile import TOOL_CALLS_ONLY

    result, rows, db = ask_through(server, tmp_path, TOOL_CALLS_ONLY)
    check_ask(result, rows, db)
    assert result.returncode != 0 or rows[0][1]


def test_ask_never_prints_nor_stores_a_key_the_server_echoes(server, tmp_path):
    from tests.hostile import Piece, drawn_of
    from tests.openai_responses import chunk

    echo = drawn_of([Piece(chunk({"content": f"your key is {MARKER_KEY}."}), "", True)])
    check_ask(*ask_through(server, tmp_path, echo))
