"""Snapshot of attachment chips: in a sent prompt and under the prompt (issue 12.7). Fixed clock,
store times, file sizes, theme and size."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import Input, TextArea

from agentterm.tui.widgets.attachment_chips import AttachmentBar
from tests.app_helpers import NOW, make_app, seed_conversation, set_times, until


@pytest.fixture(autouse=True)
def fixed_zone(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    time.tzset()


def test_attachment_chips(snap_compare, settings, store, client, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "todo.md").write_text("- water the plants\n" * 10)  # 190 B
    monkeypatch.chdir(work)
    chat = seed_conversation(store, "Plants", [], age=timedelta(minutes=20))
    store.add_message(chat.id, "user", "What is left on this list?\n\nAttached file `todo.md` (190 B): ...",
                      extra={"prompt": "What is left on this list? @todo.md",
                             "attachments": [{"path": "todo.md", "kind": "text", "bytes": 190},
                                             {"path": "leaf.png", "kind": "image", "bytes": 48213}]})
    store.add_message(chat.id, "assistant", "Watering the plants, ten times over.", model="test-model")
    set_times(store, chat.id, NOW - timedelta(minutes=20))
    app = make_app(settings, store, client)

    async def run_before(pilot):
        await pilot.pause()
        await app.main_screen.open_conversation(chat.id)
        await pilot.press(*"And @todo.md and @gone.txt")
        bar = app.main_screen.chat_pane.query_one(AttachmentBar)
        await until(pilot, lambda: bar.display and "gone.txt · missing" in str(bar.render()))
        await pilot.pause()
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        for widget in pilot.app.screen.query(TextArea):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
