"""Injection: untrusted text is shown as text everywhere; no markup runs, no escape reaches the terminal."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.tui.screens.agent_picker import AgentPickerScreen
from agentterm.tui.screens.agents import AgentsScreen
from agentterm.tui.screens.confirm import ConfirmScreen
from agentterm.store import Store
from agentterm.tui.widgets.fields import TextField
from tests.app_helpers import NOW, make_app, set_times, settle, until
from tests.openai_server import Error, Stream
from tests.reliability_helpers import (
    AGENTTERM,
    PtyProcess,
    cli_env,
    run_cli,
    write_config,
)

# Rich markup that would run an action, restyle, break rendering (a stray closing tag) or link.
MARKUP = "[@click=app.screenshot('pwned.svg','/tmp')]clickme[/] [b]bold[/b] [/b] [link=https://evil.example/m]m[/link]"
# Terminal sequences that would set the clipboard, plant a hidden link, clear the screen, set the
# title, recolour (7777: no terminal program emits it), and their C1 twins; a bidi override.
ESCAPES = ("\x1b]52;c;cHduZWQ=\x07 \x1b]8;;https://evil.example/o\x1b\\osc8\x1b]8;;\x1b\\ \x1b[2J"
           "\x1b[31;7777m \x1b]0;pwned-title\x07 \x9b7777m \x9d52;c;cHduZWQ=\x9c \u202eevil")
PAYLOAD = f"{MARKUP} {ESCAPES} tail"
MD_LINK = "[docs](https://evil.example/doc)"
NAME = "Agent [@click=app.quit]quit[/] [/b]"
BAD_CLICK = re.compile(r"screenshot|quit|pwned|evil")
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def seed(store: Store) -> tuple[int, int]:
    """A conversation whose title, agent, model, prompt and answer all carry the payload."""
    agent = store.create_agent(NAME, description=PAYLOAD, instructions=PAYLOAD, model="m [/b]")
    conversation = store.create_conversation(agent_id=agent.id, title="Title")
    store.add_message(conversation.id, "user", PAYLOAD)
    answer = store.add_message(conversation.id, "assistant", f"{PAYLOAD}\n\n{MD_LINK}",
                               model=f"model {ESCAPES}")
    store.set_tags(conversation.id, ["tag[/b]"])
    # Written by another program (the store is the user's file): escapes in a title and a name.
    store.db.execute("UPDATE conversations SET title = ?, agent_name = ? WHERE id = ?",
                     [f"Title {PAYLOAD}", f"{NAME} {ESCAPES}", conversation.id])
    store.db.execute("UPDATE agents SET name = ? WHERE id = ?", [f"{NAME} \x1b]52;c;eA==\x07", agent.id])
    set_times(store, conversation.id, NOW - timedelta(minutes=5))
    return conversation.id, answer.id


def screen_report(app) -> tuple[str, list[str], list[str]]:
    """The screen's text, the actions its clicks would run, and the links it would emit."""
    text, clicks, links = [], [], []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            text.append(segment.text)
            style = segment.style
            if style is None:
                continue
            if style.link:
                links.append(style.link)
            if style._meta and "@click" in style.meta:
                clicks.append(str(style.meta["@click"]))
        text.append("\n")
    return "".join(text), clicks, links


def assert_shown_as_text(app, *, expect: tuple[str, ...] = (), editable: bool = False) -> str:
    text, clicks, links = screen_report(app)
    # A Markdown link's own action only asks to open it (behind the confirmation tested below).
    assert not [c for c in clicks if BAD_CLICK.search(c) and not c.startswith("link(")], clicks
    assert not [link for link in links if "evil" in link], links
    assert not CONTROLS.search(text), repr(CONTROLS.search(text))
    # Whole sequences are dropped, not just their ESC: no "[31;7777m" or "]52;c;" litter. An
    # editor keeps what it edits instead, showing ESC as the symbol ␛.
    assert editable or "7777" not in text and "52;c;" not in text and "pwned-title" not in text
    for literal in expect:
        assert literal in text, f"{literal!r} is not shown as text on {type(app.screen).__name__}"
    return text


@pytest.fixture
def app_parts(tmp_path, server, monkeypatch):
    monkeypatch.setenv("AGENTTERM_RELIABILITY_KEY", "sk-unused-0000")
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
    store = Store(tmp_path / "store.db")
    yield settings, store, LLMClient(settings)
    store.close()


async def test_untrusted_text_is_text_on_every_screen(app_parts, server, tmp_path):
    settings, store, client = app_parts
    cid, _ = seed(store)
    server.script(Error(500, PAYLOAD))
    app = make_app(settings, store, client)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:  # notices drawn too
        await settle(pilot)
        assert_shown_as_text(app, expect=("Title [@click=app.screenshot",))  # sidebar and home
        await app.main_screen.open_conversation(cid)
        await settle(pilot)
        assert_shown_as_text(app, expect=("[@click=app.screenshot('pwned.svg','/tmp')]clickme[/]",
                                          "Agent [@click=app.quit]quit[/] [/b]", "[b]bold[/b]"))
        # Rename: the title in an editable field (inline over its sidebar row, or in a dialog).
        app.main_screen.chat_pane.prompt_input.focus()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.focused, TextField) and "Title" in app.focused.value)
        await settle(pilot)
        assert_shown_as_text(app, editable=True)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main_screen)

        for key, screen_type in (("ctrl+n", AgentPickerScreen), ("ctrl+g", AgentsScreen),
                                 ("ctrl+d", ConfirmScreen), ("ctrl+e", AgentEditorScreen)):
            app.main_screen.chat_pane.prompt_input.focus()
            await pilot.press(key)
            await until(pilot, lambda kind=screen_type: isinstance(app.screen, kind))
            await settle(pilot)
            assert_shown_as_text(app, expect=("Agent [@click=app.quit]",) if key in ("ctrl+n", "ctrl+g") else (),
                                 editable=screen_type is AgentEditorScreen)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen)

        # A paused agent: the dialog names it, the notice after resuming names it, and the
        # server's error (the same payload) shows under the answer.
        # (A name holding an escape cannot be saved, so resuming needs one that is only markup.)
        store.db.execute("UPDATE agents SET name = ?, status = 'paused' WHERE name LIKE 'Agent%'", [NAME])
        app.main_screen.chat_pane.prompt_input.focus()
        await pilot.press(*"go", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
        assert_shown_as_text(app, expect=("Agent [@click=app.quit]quit[/] [/b]",))
        await pilot.press("y")
        await until(pilot, lambda: store.all_messages(cid)[-1].status == "error")
        await settle(pilot)
        assert_shown_as_text(app, expect=("[@click=app.screenshot",))
        toasts = " ".join(str(toast.render()) for toast in app.screen.query("Toast"))
        assert "Resumed Agent [@click=app.quit]quit[/] [/b]" in toasts  # the notice, as text
        assert app.is_running
    assert not (tmp_path / "pwned.svg").exists()


async def test_a_click_on_untrusted_text_runs_nothing(app_parts, tmp_path, monkeypatch):
    settings, store, client = app_parts
    monkeypatch.chdir(tmp_path)
    evil = "[@click=app.screenshot('p.svg','shots')]CLICK HERE[/]"
    conversation = store.create_conversation(agent_id=store.default_agent().id, title=evil)
    store.add_message(conversation.id, "user", evil)
    store.add_message(conversation.id, "assistant", evil)
    app = make_app(settings, store, client)
    async with app.run_test(size=(140, 45)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        text, _, _ = screen_report(app)
        # Were the markup read, its clickable words would start where the literal tag starts.
        spots = [(row.index("[@click"), y) for y, row in enumerate(text.splitlines()) if "[@click" in row]
        assert len(spots) >= 3  # the sidebar title, the prompt and the answer
        for x, y in spots:
            await pilot.click(offset=(x + 2, y))
            await pilot.pause()
        await settle(pilot)
        assert app.is_running
    assert not (tmp_path / "shots").exists()


async def test_a_link_opens_only_after_a_confirmation_showing_the_whole_url(app_parts, monkeypatch):
    settings, store, client = app_parts
    url = "https://evil.example/" + "a" * 150 + "/end?token=x"
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="Links")
    store.add_message(conversation.id, "user", "a link please")
    store.add_message(conversation.id, "assistant", f"See [innocent docs]({url}).")
    opened: list[str] = []
    app = make_app(settings, store, client)
    monkeypatch.setattr(app, "open_url", lambda u, **kw: opened.append(u))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main_screen.open_conversation(conversation.id)
        await settle(pilot)
        text, _, _ = screen_report(app)
        y = next(i for i, row in enumerate(text.splitlines()) if "innocent docs" in row)
        x = text.splitlines()[y].index("innocent docs")
        await pilot.click(offset=(x + 2, y))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown, _, _ = screen_report(app)
        assert url in shown.replace("\n", "").replace(" ", "") or url in " ".join(
            str(w.render()) for w in app.screen.query("Static"))
        assert opened == []
        await pilot.press("escape")
        await pilot.pause()
        assert opened == []
        await pilot.click(offset=(x + 2, y))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.screen.dismiss(True)
        await pilot.pause()
        assert opened == [url]


# --- the real terminal: every byte the app and the command line write -------------------------

DANGER = [
    (rb"\x1b\]52", "sets the clipboard (OSC 52)"),
    (rb"\x1b\]8;[^\x07\x1b]*evil", "plants a link (OSC 8)"),
    (rb"\x1b\]0;pwned|\x1b\]2;pwned", "sets the window title"),
    (rb"\x1b\[2J", "clears the screen"),
    (rb"\x1b\[31;7777m|\x1b\[7777m", "a raw escape from the payload"),
    (rb"\x1b[P^_X]", "a device control or private string"),
    (rb"\xc2[\x80-\x9f]", "a C1 control"),
    (rb"\xe2\x80\xae", "a bidi override"),
]


def assert_no_injected_bytes(data: bytes) -> None:
    for pattern, what in DANGER:
        found = re.search(pattern, data)
        assert found is None, f"{what}: {data[max(0, found.start() - 40):found.end() + 40]!r}"
    # The only operating system command Textual itself sends is 22, the pointer's shape.
    assert set(re.findall(rb"\x1b\]([0-9]*)", data)) <= {b"22"}


def test_the_app_writes_no_injected_sequence_to_a_real_terminal(tmp_path, server):
    db = tmp_path / "store.db"
    store = Store(db)
    seed(store)
    store.close()
    server.script(Error(500, PAYLOAD))
    env = cli_env(db, write_config(tmp_path / "config.toml", server.base_url))
    app = PtyProcess([*AGENTTERM], env)
    try:
        app.wait_for(b"Title", timeout=30)
        mark = len(app.output)
        app.send("\x1b[B")  # down: the conversation
        app.send("\r")
        app.wait_for(b"[edit]", start=mark, timeout=20)  # the last prompt's actions: the chat is open
        time.sleep(0.3)
        app.type("go")
        app.send("\r")
        app.wait_for(b"failed with error 500", start=mark, timeout=20)
        for key in (b"\x0e", b"\x07"):  # ctrl+n (the picker), ctrl+g (the agents)
            mark = len(app.output)
            app.send(key)
            app.wait_for(b"Agent [@click=app.quit]", start=mark, timeout=20)
            app.send(b"\x1b")
            time.sleep(0.3)
    finally:
        code = app.close()
    assert code == 0
    assert b"clickme" in app.output
    assert_no_injected_bytes(app.output)


def test_the_command_line_writes_no_injected_sequence(tmp_path, server):
    db = tmp_path / "store.db"
    store = Store(db)
    cid, _ = seed(store)
    store.close()
    env = cli_env(db, write_config(tmp_path / "config.toml", server.base_url))
    server.script(Stream(PAYLOAD, chunk_size=3), Error(500, PAYLOAD))
    outputs = [run_cli(*args, env=env) for args in (
        ["ask", "--no-title", "--conversation", str(cid), "hi"],
        ["ask", "--no-title", "--conversation", str(cid), "again"],
        ["chats", "list"], ["chats", "show", str(cid)], ["chats", "search", "clickme"],
        ["chats", "export", str(cid)], ["agents", "list"], ["agents", "show", "1"],
    )]
    for result in outputs:
        assert_no_injected_bytes(result.stdout + result.stderr)
        assert not re.search(rb"\x1b", result.stdout + result.stderr)
    assert b"[@click=app.screenshot('pwned.svg','/tmp')]clickme[/]" in outputs[0].stdout
