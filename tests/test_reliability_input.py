"""Bad input: configs, agent fields, huge and odd prompts, long titles; each refused clearly or kept exactly."""

from __future__ import annotations

import json

import pytest
from textual import events

from agentterm.engine import prompt as engine_prompt
from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.engine import MAX_PROMPT_CHARS
from agentterm.tui.screens.agent_editor import AgentEditorScreen
from agentterm.store import Store
from agentterm.store.exports import EXPORT_FORMAT
from agentterm.tui.widgets.prompt_input import PromptInput
from tests.app_helpers import make_app, settle, until
from tests.openai_server import Stream
from tests.reliability_helpers import (
    KEY_ENV,
    MARKER_KEY,
    cli_env,
    one_error_line,
    read_rows,
    run_cli,
    write_config,
)

BOM = b"\xef\xbb\xbf"
CONFIGS = {
    "syntax": (b'default_provider = "local"\n[providers.local]\nmodel = gpt-4o\n',
               ["line 3, column 9", "text needs quotes"]),
    "wrong type": (b'[providers.local]\ntimeout = "fast"\n', ["line 2", "providers.local.timeout"]),
    "NaN": (b"[providers.local]\ntimeout = nan\n", ["line 2", "providers.local.timeout", "nan"]),
    "boolean": (b"[providers.local]\ntimeout = true\n", ["line 2", "providers.local.timeout", "true"]),
    "typo": (b'[providers.local]\nmodle = "x"\n', ["line 2", "providers.local.modle", '"model"']),
    "a key in the file": (b'[providers.local]\napi_key = "sk-in-the-file"\n', ["line 2", "api_key_env"]),
    "BOM": (BOM + b"[providers.local]\ntimeout = -1\n", ["line 2", "providers.local.timeout"]),
    "invalid UTF-8": (b'[providers.local]\nmodel = "caf\xe9"\n', ["line 2, column 13", "UTF-8"]),
    "UTF-16": ('[providers.local]\nmodel = "m"\n'.encode("utf-16"), ["UTF-16"]),
    "a directory": (None, ["is a directory"]),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_a_malformed_config_is_one_line_naming_where_in_the_cli_and_at_app_start(case, tmp_path):
    content, words = CONFIGS[case]
    path = tmp_path / "config.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    env = cli_env(tmp_path / "store.db", path)
    for args in (["chats", "list"], []):  # [] starts the app
        result = run_cli(*args, env=env)
        line = one_error_line(result)
        assert result.returncode == 2
        assert line.startswith(f"agentterm: error: {path}")
        for word in words:
            assert word in line, line
        assert "sk-in-the-file" not in line


def test_a_config_with_a_bom_is_read(tmp_path, server):
    path = tmp_path / "config.toml"
    write_config(path, server.base_url)
    path.write_bytes(BOM + path.read_bytes())
    result = run_cli("ask", "--no-title", "hi", env=cli_env(tmp_path / "store.db", path))
    assert result.returncode == 0 and result.stdout.decode().strip() == "Hello from the test server."


BAD_AGENT = """\
name = "%s"
status = "sleeping"
temperature = nan
top_p = true
max_tokens = 0
extra = "seed"
""" % ("n" * 81)


def test_an_agent_file_with_many_bad_fields_names_every_one(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(BAD_AGENT)
    db = tmp_path / "store.db"
    line = one_error_line(run_cli("agents", "import", str(path), env=cli_env(db, tmp_path / "none.toml")))
    for number, field in enumerate(["name", "status", "temperature", "top_p", "max_tokens", "extra"], 1):
        assert f"line {number}: {field} " in line, line
    assert "temperature must be a number" in line and "top_p must be a number" in line
    assert read_rows(db, "SELECT name FROM agents") in ([], [("Assistant",)])  # nothing imported


async def test_the_editor_names_every_bad_field_and_saves_nothing(tmp_path, server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
    store = Store(tmp_path / "store.db")
    agent = store.default_agent()
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 50)) as pilot:
            app.push_screen(AgentEditorScreen(agent.id))
            await until(pilot, lambda: isinstance(app.screen, AgentEditorScreen))
            await settle(pilot)
            editor = app.screen
            for field, value in (("name", ""), ("temperature", "nan"), ("top_p", "true"),
                                 ("max_tokens", "0"), ("extra", "[1, 2]")):
                widget = editor.query_one(f"#{field}")
                if hasattr(widget, "load_text"):
                    widget.load_text(value)
                else:
                    widget.value = value
            await pilot.pause()
            await pilot.press("ctrl+s")
            await settle(pilot)
            shown = {f: str(editor.query_one(f"#{f}-error").render()) for f in
                     ("name", "temperature", "top_p", "max_tokens", "extra")}
            assert all(shown.values()), shown
            assert "number" in shown["temperature"] and "number" in shown["top_p"]
            assert isinstance(app.screen, AgentEditorScreen) and app.is_running
        assert store.get_agent(agent.id).version == agent.version
    finally:
        store.close()


# --- prompts: the limit, both sides of it, and exotic text kept exactly ---------------------------

ODD = ("nul\x00byte rtl\u202eoverride zero\u200bwidth e\u0301 combining 😀👩‍👩‍👧 emoji 漢字 wide "
       "tab\there crlf\r\nline\n")


def test_a_prompt_at_the_limit_is_kept_byte_for_byte_and_one_over_is_refused(tmp_path, server):
    db = tmp_path / "store.db"
    env = cli_env(db, write_config(tmp_path / "config.toml", server.base_url))
    prompt = (ODD * (MAX_PROMPT_CHARS // len(ODD) + 1))[:MAX_PROMPT_CHARS]
    result = run_cli("ask", "--no-title", "-", env=env, stdin=prompt.encode())
    assert result.returncode == 0, result.stderr
    assert server.requests[-1]["messages"][-1]["content"] == prompt
    assert read_rows(db, "SELECT content FROM messages WHERE role = 'user'") == [(prompt,)]
    assert b"\x00" not in result.stdout and b"\xe2\x80\xae" not in result.stdout

    requests = len(server.requests)
    over = run_cli("ask", "--no-title", "-", env=env, stdin=(prompt + "x").encode())
    line = one_error_line(over)
    assert f"{MAX_PROMPT_CHARS + 1:,} characters" in line and f"{MAX_PROMPT_CHARS:,}" in line
    assert len(server.requests) == requests
    assert read_rows(db, "SELECT count(*) FROM conversations") == [(1,)]

    ten_mb = run_cli("ask", "--no-title", "-", env=env, stdin=b"y" * 10_000_000)
    assert ten_mb.returncode == 2 and len(server.requests) == requests


async def test_a_paste_over_the_limit_is_refused_and_one_at_it_is_sent_exactly(tmp_path, server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
    store = Store(tmp_path / "store.db")
    # The box applies the same limit as the reply flow; a smaller one keeps this test quick.
    limit = 50_000
    monkeypatch.setattr(engine_prompt, "MAX_PROMPT_CHARS", limit)
    app = make_app(settings, store, LLMClient(settings))
    pasted = ("line of text 漢字 😀 e\u0301\u202e\n" * (limit // 20))[:limit - 2]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            prompt = app.screen.query_one(PromptInput)
            await pilot.press("a", "b")
            app.post_message(events.Paste("z" * 10_000_000))
            await until(pilot, lambda: any("not inserted" in str(n.message) for n in app._notifications))
            assert prompt.text == "ab"

            app.post_message(events.Paste(pasted + "!"))  # one over the limit, with "ab"
            await until(pilot, lambda: sum("not inserted" in str(n.message) for n in app._notifications) == 2)
            assert prompt.text == "ab"
            app.post_message(events.Paste(pasted))  # exactly at the limit
            await until(pilot, lambda: len(prompt.text) == limit)
            assert prompt.text == "ab" + pasted
            await pilot.press("enter")
            await until(pilot, lambda: store.list_conversations() and
                        store.all_messages(store.list_conversations()[0].id)[-1].status == "complete",
                        attempts=1000)
            sent = server.requests[0]["messages"][-1]["content"]
            assert sent == "ab" + pasted
            assert store.all_messages(store.list_conversations()[0].id)[0].content == sent
    finally:
        store.close()


async def test_keys_typed_just_before_enter_are_all_sent(tmp_path, server, monkeypatch):
    """A priority enter must not outrun the keys queued ahead of it (fast typists, tmux)."""
    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
    store = Store(tmp_path / "store.db")
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            for char in "quick":  # posted at once, as a terminal delivers a burst
                app.post_message(events.Key(char, char))
            app.post_message(events.Key("enter", "\r"))
            await until(pilot, lambda: server.requests)
            assert server.requests[0]["messages"][-1]["content"] == "quick"
    finally:
        store.close()


def test_odd_unicode_in_titles_and_names_is_kept_or_refused_clearly(tmp_path, server):
    db = tmp_path / "store.db"
    env = cli_env(db, write_config(tmp_path / "config.toml", server.base_url))
    agent = tmp_path / "agent.toml"
    agent.write_text('name = "Ünï e\u0301 😀 漢字"\n')
    assert run_cli("agents", "import", str(agent), env=env).returncode == 0
    agent.write_text('name = "evil\u202eeman"\n')
    assert "control characters" in one_error_line(run_cli("agents", "import", str(agent), env=env))
    export = {"format": EXPORT_FORMAT, "version": 1,
              "conversation": {"title": "rtl\u202e zero\u200b nul\x00 " + "t" * 5000},
              "messages": [{"role": "user", "content": ODD}]}
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(export))
    assert run_cli("chats", "import", str(source), env=env).returncode == 0
    [(title,)] = read_rows(db, "SELECT title FROM conversations")
    assert "\u202e" not in title and "\x00" not in title and title.endswith("t" * 5000)
    assert read_rows(db, "SELECT content FROM messages") == [(ODD,)]
    listed = run_cli("chats", "list", env=env)
    assert listed.returncode == 0 and b"\xe2\x80\xae" not in listed.stdout


async def test_a_5000_character_title_stays_on_one_line_everywhere(tmp_path, server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
    store = Store(tmp_path / "store.db")
    conversation = store.create_conversation(agent_id=store.default_agent().id, title="T" * 5000)
    store.add_message(conversation.id, "user", "hi")
    server.script(Stream("ok"))
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await app.main_screen.open_conversation(conversation.id)
            await settle(pilot)
            rows = app.export_screenshot()  # renders without error
            assert rows
            sidebar = app.main_screen.sidebar
            assert sidebar.options.option_count == 1
            assert sidebar.options.get_option_at_index(0).prompt.cell_length < 300
            await pilot.press("ctrl+d")  # the confirmation quotes the title, cut
            await pilot.pause()
            assert app.screen is not app.main_screen
            await pilot.press("escape")
            assert app.is_running
    finally:
        store.close()
