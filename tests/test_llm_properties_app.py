"""Property tests: the app (App.run_test) against hostile event streams from tests/hostile.py.

Every case: the app is still running; no traceback is shown; the answer shown is the answer
stored; no row is left `streaming` once the reply ended; the key is in nothing written.
Black-box: it holds whatever carries the reply flow.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import given

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.store import Store
from tests.app_helpers import make_app, settle, until
from tests.hostile import examples, streams
from tests.reliability_helpers import KEY_ENV, MARKER_KEY, read_rows, write_config
from tests.test_llm_properties_cli import stored_bytes

_runs = itertools.count()


async def send_in_app(settings, db: Path) -> None:
    store = Store(db)
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press(*"the question", "enter")
            pane = app.main_screen.chat_pane
            await until(pilot, lambda: len(store.list_conversations()) == 1 and not pane.streaming,
                        attempts=1500)
            await settle(pilot)
            assert app.is_running and app.return_code is None
            assert not any("Traceback" in str(n.message) for n in app._notifications)
            rows = read_rows(db, "SELECT id, status, content FROM messages WHERE role = 'assistant'")
            assert all(status != "streaming" for _, status, _ in rows), rows
            for message_id, _, content in rows:
                view = pane.chat_view.view_for(message_id)
                assert view is not None and view.source == content, (view and view.source, content)
    finally:
        store.close()


@examples(5, 150)
@given(drawn=streams(tools=False, huge=False))
def test_the_app_shows_what_it_stores_and_keeps_running(server, tmp_path, monkeypatch, drawn):
    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    run = tmp_path / f"run{next(_runs)}"
    settings = load_settings(write_config(run / "config.toml", server.base_url, timeout=3))
    server.script(drawn.events)
    db = run / "agentterm.db"
    asyncio.run(send_in_app(settings, db))
    assert MARKER_KEY.encode() not in stored_bytes(db)


def test_the_app_never_stores_a_key_the_server_echoes(server, tmp_path, monkeypatch):
    from tests.hostile import Piece, drawn_of
    from tests.openai_responses import chunk

    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url, timeout=3))
    server.script(drawn_of([Piece(chunk({"content": f"your key is {MARKER_KEY}."}), "", True)]).events)
    db = tmp_path / "agentterm.db"
    asyncio.run(send_in_app(settings, db))
    assert MARKER_KEY.encode() not in stored_bytes(db)
