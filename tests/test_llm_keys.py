"""Keys and api_key_cmd: a key that cannot be sent, a redirect loop, secrets hidden, the command run once."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from agentterm.config import ProviderConfig
from agentterm.config import settings as config_settings
from agentterm.llm import LLMClient, NoAPIKey, StreamCut, Unreachable, scrub
from tests.llm_helpers import collect
from tests.openai_server import Raw

PY = sys.executable


@pytest.fixture(autouse=True)
def forget_command_keys():
    config_settings._command_keys.clear()
    yield
    config_settings._command_keys.clear()


@pytest.mark.parametrize("key,what", [
    ("sk-abc\u200bdef0123", "U+200B (zero width space) at position 7"),
    ("sk-abc\ndef0123", "a line break at position 7"),
    ("sk-caf\u00e9-0123456", "U+00E9 (latin small letter e with acute) at position 7"),
    ("sk-tab\tin0123", "a control character (U+0009) at position 7"),
])
async def test_a_key_with_a_character_that_cannot_be_sent_is_one_clear_line(settings, server, monkeypatch,
                                                                           key, what):
    monkeypatch.setenv("AGENTTERM_TEST_KEY", key)
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, NoAPIKey)
    assert error.message == ("The API key from the variable $AGENTTERM_TEST_KEY has a character that "
                             f"cannot be sent: {what}; check the variable.")
    assert "bug" not in error.message + error.hint and server.requests == []
    assert key not in str(error.to_dict()) and key.split()[0] not in str(error.to_dict())


async def test_a_bad_character_from_the_command_names_the_command(settings, server, monkeypatch):
    monkeypatch.delenv("AGENTTERM_TEST_KEY")
    settings.providers["local"].api_key_cmd = [PY, "-c", "print('sk-from-cmd-\\u200b-0123456789')"]
    _, error = await collect(LLMClient(settings))
    assert isinstance(error, NoAPIKey)
    assert "The API key from api_key_cmd has a character that cannot be sent: U+200B" in error.message
    assert error.message.endswith("; check the command's output.")


async def test_a_redirect_loop_is_reported_as_one(client, server):
    loop = Raw(307, "", "text/plain", headers={"Location": f"{server.base_url}/chat/completions"})
    server.script(*[loop] * 30)
    events, error = await collect(client)
    assert events == [] and isinstance(error, Unreachable) and not isinstance(error, StreamCut)
    assert error.message == f"127.0.0.1:{server.port} redirects in a loop: the request was redirected too many times."
    assert "partial answer" not in error.message + error.hint and "base_url" in error.hint


def test_the_command_value_and_its_output_are_secrets(tmp_path):
    pasted = "gsk_pasted0123456789abcdef"  # a key pasted where the command should be
    provider = ProviderConfig(name="p", api_key_cmd=pasted)
    assert pasted not in scrub(f"config says {pasted}")
    argument = "hunter2-the-passphrase"
    ProviderConfig(name="q", api_key_cmd=[PY, "-c", "print('x')", argument])
    assert argument not in scrub(f"ran with {argument}")
    output = "token-from-the-vault-0042"
    other = "second-line-secret-77"
    provider = ProviderConfig(name="r", api_key_cmd=[PY, "-c", f"print('{output}'); print('{other}')"])
    assert provider.resolve_api_key() == output
    assert scrub(f"{output} and {other}") == "[key hidden] and [key hidden]"
    assert scrub("pass show openai") == "pass show openai"  # plain words are not hidden


def test_a_pasted_key_as_the_command_is_not_named_when_it_fails():
    pasted = "gsk_pasted9876543210zyxwvu"
    provider = ProviderConfig(name="p", api_key_cmd=pasted)
    assert pasted not in repr(provider)  # crash screens print reprs
    with pytest.raises(Exception) as caught:
        provider.resolve_api_key()
    assert pasted not in str(caught.value) and "it may be a key" in str(caught.value)


def test_the_command_runs_once_per_process_even_when_it_fails(tmp_path):
    counter = tmp_path / "count"
    code = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
            "p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1)); sys.exit(3)")
    provider = ProviderConfig(name="p", api_key_cmd=[PY, "-c", code, str(counter)])
    for _ in range(3):
        with pytest.raises(Exception) as caught:
            provider.resolve_api_key()
        assert "exit status 3" in str(caught.value)
    assert counter.read_text() == "1"


async def test_a_failed_ask_runs_the_command_once(settings, server, monkeypatch, tmp_path):
    counter = tmp_path / "count"
    code = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
            "p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1)); print('sk-wrong-key-000000')")
    monkeypatch.delenv("AGENTTERM_TEST_KEY")
    server.api_key = "sk-the-right-one-000000"
    settings.providers["local"].api_key_cmd = [PY, "-c", code, str(counter)]
    client = LLMClient(settings)
    for _ in range(3):
        _, error = await collect(client)
        assert error is not None
    with pytest.raises(Exception):
        await client.generate_title("hi", "there")
    assert counter.read_text() == "1"


def test_a_command_that_hangs_is_killed_with_everything_it_started(tmp_path):
    pid_file = tmp_path / "child"
    code = ("import subprocess, sys, time; "
            f"c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pid_file)!r}, 'w').write(str(c.pid)); time.sleep(60)")
    provider = ProviderConfig(name="p", api_key_cmd=[PY, "-c", code])
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        provider.resolve_api_key(timeout=1.5)
    assert "did not finish within 1.5 seconds" in str(caught.value)
    assert time.monotonic() - started < 10
    child = int(pid_file.read_text())
    for _ in range(100):
        if not _alive(child):
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the command's child outlived the timeout")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"  # a zombie is dead, only not yet reaped
    except FileNotFoundError:
        return False


def test_doctor_and_ask_never_print_a_key_pasted_as_the_command_nor_store_it(tmp_path, server):
    from tests.reliability_helpers import cli_env, read_rows, run_cli, write_config

    secret = "pasted_key_0123456789abcdefXYZ"
    config = write_config(tmp_path / "config.toml", server.base_url, key_env=None,
                          extra=f'api_key_cmd = "{secret}"\n')
    db = tmp_path / "data" / "agentterm.db"
    env = cli_env(db, config)
    for args in (["doctor"], ["ask", "hello"]):
        result = run_cli(*args, env=env)
        shown = (result.stdout + result.stderr).decode()
        assert result.returncode != 0 and "Traceback" not in shown, shown
        assert secret not in shown, shown
    rows = read_rows(db, "SELECT content, extra FROM messages") if db.exists() else []
    assert rows and secret not in repr(rows)
