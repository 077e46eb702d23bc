"""Network faults: one clear message where it happened, the prompt and partial answer kept, retry works."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest

from agentterm.config import load_settings
from agentterm.llm import LLMClient
from agentterm.store import Store
from tests.app_helpers import make_app, settle, until
from tests.openai_server import Error, FakeOpenAIServer, Hang, Raw, Stream
from tests.reliability_helpers import (
    KEY_ENV,
    MARKER_KEY,
    cli_env,
    one_error_line,
    read_rows,
    run_cli,
    write_config,
)

TIMEOUT = 1.0  # the provider's timeout in these tests: ours, far below openai's 600 s
RECOVERED = "Recovered after the fault."


@dataclass
class Fault:
    words: str  # what the message must say
    script: list = field(default_factory=list)  # the failing request's response
    partial: str = ""  # the part of the answer that arrived before the fault
    key: bool = True  # whether the key is set while it fails
    server_key: str | None = None  # the key the server wants while it fails
    unreachable: bool = False


PART = Stream(chunks=["Part ", "one, ", "part two"])
FAULTS = {
    "no key": Fault("needs an API key", key=False, server_key=MARKER_KEY),
    "wrong key": Fault("refused the API key (401)", server_key="sk-the-right-key-0000"),
    "unreachable": Fault("Cannot reach", unreachable=True),
    "unknown model": Fault("Model 'test-model' was not found",
                           [Error(404, "The model `test-model` does not exist", code="model_not_found")]),
    "429": Fault("Retry in 7 s", [Error(429, "Slow down", headers={"Retry-After": "7"})]),
    "500": Fault("failed with error 500", [Error(500, "upstream exploded")]),
    "timeout": Fault("No answer from 127.0.0.1", [Hang(seconds=8)]),
    "stalled stream": Fault("The answer stalled", [Stream(chunks=PART.chunks, stall_after=2, stall_seconds=8)],
                            partial="Part one, "),
    "stream cut": Fault("dropped mid-answer", [Stream(chunks=PART.chunks, drop_after=2)], partial="Part one, "),
    "error event": Fault("reported an error mid-answer: The model crashed mid-answer.",
                         [Stream(chunks=PART.chunks, error_event_after=2)], partial="Part one, "),
    "no [DONE]": Fault("ended before it was finished",
                       [Stream(chunks=PART.chunks, done=False, finish_reason=None, usage=None)],
                       partial="Part one, part two"),
    "HTML page": Fault("sent a web page, not an answer", [Raw()]),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Scene:
    """The server (or the dead port), the config and the store for one fault, and how to clear it."""

    def __init__(self, fault: Fault, server: FakeOpenAIServer, tmp_path) -> None:
        self.fault = fault
        self.server = server
        self.port = free_port() if fault.unreachable else server.port
        self.db = tmp_path / "store.db"
        self.config = write_config(tmp_path / "config.toml", f"http://127.0.0.1:{self.port}/v1",
                                   timeout=TIMEOUT)
        server.api_key = fault.server_key
        server.script(*fault.script)
        self.late_server: FakeOpenAIServer | None = None

    def clear(self) -> None:
        self.server.api_key = None
        if self.fault.unreachable:
            self.late_server = FakeOpenAIServer(port=self.port).start()
            self.late_server.script(Stream(RECOVERED))
        else:
            self.server.script(Stream(RECOVERED))

    def close(self) -> None:
        if self.late_server is not None:
            self.late_server.close()

    def check_stored_failure(self) -> tuple[str, str]:
        rows = read_rows(self.db, "SELECT role, status, content, extra FROM messages ORDER BY id")
        assert [r[:3] for r in rows] == [("user", "complete", "the question"),
                                          ("assistant", "error", self.fault.partial)]
        import json

        extra = json.loads(rows[1][3])
        assert self.fault.words in extra["error"] and extra["hint"]
        return extra["error"], extra["hint"]

    def check_recovered(self, *, old_kept: bool = False) -> None:
        """The retry's answer is stored; with `old_kept`, the failed one is still there (a variant)."""
        rows = read_rows(self.db, "SELECT role, status, content FROM messages ORDER BY id")
        old = ("assistant", "error", self.fault.partial)
        assert [r for r in rows if r != old] == [("user", "complete", "the question"),
                                                 ("assistant", "complete", RECOVERED)]
        if old_kept:
            assert rows[1] == old, "a retry never deletes the answer it replaces"


@pytest.fixture(params=list(FAULTS))
def scene(request, server, tmp_path):
    made = Scene(FAULTS[request.param], server, tmp_path)
    yield made
    made.close()


def test_a_fault_on_the_command_line(scene):
    env = cli_env(scene.db, scene.config)
    if not scene.fault.key:
        del env[KEY_ENV]
    failed = run_cli("ask", "--no-title", "the question", env=env)
    line = one_error_line(failed)
    error, hint = scene.check_stored_failure()
    assert error in line and hint in line
    assert failed.stdout.decode().strip() == scene.fault.partial.strip()
    assert MARKER_KEY.encode() not in failed.stdout + failed.stderr

    scene.clear()
    env[KEY_ENV] = MARKER_KEY
    retried = run_cli("ask", "--retry", env=env)
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.decode().strip() == RECOVERED
    scene.check_recovered(old_kept=True)


async def test_a_fault_in_the_app(scene, monkeypatch):
    if scene.fault.key:
        monkeypatch.setenv(KEY_ENV, MARKER_KEY)
    else:
        monkeypatch.delenv(KEY_ENV, raising=False)
    settings = load_settings(scene.config)
    store = Store(scene.db)
    app = make_app(settings, store, LLMClient(settings))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press(*"the question", "enter")
            pane = app.main_screen.chat_pane
            await until(pilot, lambda: len(store.list_conversations()) == 1
                        and not pane.streaming, attempts=500)
            await settle(pilot)
            error, hint = scene.check_stored_failure()
            failed = store.all_messages(store.list_conversations()[0].id)[-1]
            view = pane.chat_view.view_for(failed.id)
            status = str(view.query_one(".message-status").render())
            assert view.has_class("-error")
            assert error in status and hint in status and "[retry]" in status
            shown = view.source
            assert shown == scene.fault.partial
            assert app.is_running and app.return_code is None
            assert not any("Traceback" in str(n.message) for n in app._notifications)

            scene.clear()
            monkeypatch.setenv(KEY_ENV, MARKER_KEY)
            view.focus()
            await pilot.pause()
            view._letters_armed = True  # the user is working the chat (tests/test_app_focus.py)
            await pilot.press("r")
            await until(pilot, lambda: [m.status for m in store.all_messages(failed.conversation_id)]
                        == ["complete", "complete"], attempts=500)
            await settle(pilot)
            scene.check_recovered()
            answer = store.all_messages(failed.conversation_id)[-1]
            assert pane.chat_view.view_for(answer.id).source == RECOVERED
    finally:
        store.close()


async def test_our_timeout_is_far_below_openais_600_seconds(monkeypatch):
    from agentterm.config import default_settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused-0000")
    settings = default_settings()
    client = LLMClient(settings)
    connection = await client._connection(settings.provider(None))
    timeout = connection.client.timeout
    assert settings.provider(None).timeout == 60
    assert timeout.read == timeout.connect == 60  # openai's own default would be 600
    await client.aclose()
