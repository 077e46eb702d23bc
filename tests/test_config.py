"""The config: defaults, a full file, and every fault named with its file, line and key."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

import pytest

from agentterm.config import (
    ConfigError,
    ProviderConfig,
    Settings,
    load_settings,
    write_default_config,
)
from agentterm.config import check as config_check
from agentterm.config import settings as config_settings

SECRET = "sk-secret-DO-NOT-SHOW-42"
PY = sys.executable


@pytest.fixture(autouse=True)
def forget_command_keys():
    config_settings._command_keys.clear()
    yield
    config_settings._command_keys.clear()


@pytest.fixture
def cfg(tmp_path) -> Path:
    return tmp_path / "agentterm" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path, text: str) -> ConfigError:
    write(path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value


def py_cmd(code: str, *args: str) -> list[str]:
    return [PY, "-c", code, *args]


# --- no file ----------------------------------------------------------------------------------


def test_no_file_gives_the_openai_defaults(cfg):
    settings = load_settings(cfg)
    assert settings.path is None
    assert settings.default_provider == "openai"
    assert list(settings.providers) == ["openai"]
    openai = settings.provider(None)
    assert openai.api_key_env == "OPENAI_API_KEY"
    assert openai.base_url is None
    assert openai.model == "gpt-4o-mini"
    assert openai.timeout == 60.0
    assert settings.keymap == {}
    assert settings.trash_days == 30
    assert settings.theme == "textual-dark"
    assert settings.default_agent is None


def test_no_file_honours_openai_environment(cfg, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    provider = load_settings(cfg).provider(None)
    assert provider.base_url == "http://localhost:11434/v1"
    assert provider.resolve_api_key() == SECRET


def test_no_key_anywhere_resolves_to_none(cfg):
    assert load_settings(cfg).provider(None).resolve_api_key() is None


def test_a_required_file_that_is_missing_is_an_error(cfg):
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg, required=True)
    assert str(cfg) in str(caught.value)
    assert "no such file" in str(caught.value)


# --- a full file --------------------------------------------------------------------------------

FULL = """\
default_provider = "local"
default_agent = "Reviewer"
trash_days = 0
theme = "gruvbox"

[providers.openrouter]
base_url = "https://openrouter.ai/api/v1"
api_key_env = "OPENROUTER_API_KEY"
model = "openai/gpt-4o-mini"
title_model = "openai/gpt-4o-mini"
timeout = 30

[providers.local]
base_url = "http://localhost:11434/v1"
api_key_cmd = "pass show 'ollama key'"
model = "llama3.2"
timeout = 2.5

[providers.listed]
api_key_cmd = ["op", "read", "op://vault/openai/key"]

[keymap]
"app.new_conversation" = "ctrl+t"
chat.send = "ctrl+enter"
app.quit = "ctrl+q,ctrl+c"
"""


def test_a_full_file_is_read_into_typed_settings(cfg):
    settings = load_settings(write(cfg, FULL))
    assert settings.path == cfg
    assert settings.default_provider == "local"
    assert settings.default_agent == "Reviewer"
    assert settings.trash_days == 0
    assert settings.theme == "gruvbox"
    assert list(settings.providers) == ["openrouter", "local", "listed"]

    router = settings.provider("openrouter")
    assert router.base_url == "https://openrouter.ai/api/v1"
    assert router.api_key_env == "OPENROUTER_API_KEY"
    assert router.model == router.title_model == "openai/gpt-4o-mini"
    assert router.timeout == 30.0 and isinstance(router.timeout, float)

    local = settings.provider(None)
    assert local.name == "local"
    assert local.api_key_cmd == ["pass", "show", "ollama key"]
    assert local.timeout == 2.5
    assert local.api_key is None

    assert settings.provider("listed").api_key_cmd == ["op", "read", "op://vault/openai/key"]
    assert settings.provider("listed").timeout == 60.0

    # Quoted ids and bare dotted ids (nested tables in TOML) both name a binding.
    assert settings.keymap == {
        "app.new_conversation": "ctrl+t",
        "chat.send": "ctrl+enter",
        "app.quit": "ctrl+q,ctrl+c",
    }


def test_the_first_provider_is_the_default_when_none_is_named(cfg):
    settings = load_settings(write(cfg, '[providers.b]\nmodel = "x"\n[providers.a]\nmodel = "y"\n'))
    assert settings.default_provider == "b"


def test_a_file_without_providers_keeps_the_openai_fallback(cfg, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(write(cfg, 'theme = "nord"\n'))
    assert settings.theme == "nord"
    assert settings.path == cfg
    assert settings.provider(None).name == "openai"
    assert settings.provider(None).base_url == "http://127.0.0.1:9/v1"


def test_the_shared_fixture_config_loads(settings):
    provider = settings.provider(None)
    assert provider.name == "local"
    assert provider.model == "test-model"
    assert provider.timeout == 5.0


def test_unknown_provider_is_a_config_error_naming_it(cfg):
    settings = load_settings(write(cfg, FULL))
    with pytest.raises(ConfigError) as caught:
        settings.provider("nope")
    message = str(caught.value)
    assert '"nope"' in message and "openrouter, local, listed" in message and str(cfg) in message


# --- malformed TOML -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('theme = "x"\n\n[providers.a]\nmodel = gpt-4\n', 4, 9, "text needs quotes"),
        ('theme = "x"\n[keymap\n', 2, 8, "not valid TOML"),
        ("[providers.a]\n[providers.a]\n", 2, 13, "[providers.a] twice"),
        ('theme = "unterminated\n', 1, 22, "string is not closed"),
    ],
)
def test_malformed_toml_names_file_line_and_column(cfg, text, line, column, words):
    error = error_for(cfg, text)
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"{cfg}, line {line}, column {column}: not valid TOML")
    assert words in str(error)


def test_an_error_at_the_end_of_the_file_gets_its_position(cfg):
    error = error_for(cfg, 'theme = "x"\nmodel = "abc')
    assert (error.line, error.column) == (2, 13)
    assert "at the end of the file" in str(error)


# --- invalid values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line", "shown"),
    [
        ('[providers.local]\nmodel = "m"\ntimeout = "abc"\n', "providers.local.timeout", 3, 'got "abc"'),
        ("[providers.local]\ntimeout = nan\n", "providers.local.timeout", 2, "got nan"),
        ("[providers.local]\ntimeout = inf\n", "providers.local.timeout", 2, "got inf"),
        ("[providers.local]\ntimeout = true\n", "providers.local.timeout", 2, "got true"),
        ("[providers.local]\ntimeout = 0\n", "providers.local.timeout", 2, "got 0"),
        ("[providers.local]\ntimeout = -5\n", "providers.local.timeout", 2, "got -5"),
        ("providers.local.timeout = []\n", "providers.local.timeout", 1, "got an array"),
        ("[providers]\nlocal = { timeout = false }\n", "providers.local.timeout", 2, "got false"),
        ("trash_days = -1\n", "trash_days", 1, "got -1"),
        ('trash_days = "7"\n', "trash_days", 1, 'got "7"'),
        ("trash_days = 1.5\n", "trash_days", 1, "got 1.5"),
        ("trash_days = true\n", "trash_days", 1, "got true"),
        ('theme = ""\n', "theme", 1, 'got ""'),
        ("default_agent = 3\n", "default_agent", 1, "got 3"),
        ("[providers.local]\nmodel = 4\n", "providers.local.model", 2, "got 4"),
        ('[providers.local]\nbase_url = "localhost:11434/v1"\n', "providers.local.base_url", 2, "http://"),
        ("[providers.local]\napi_key_cmd = 5\n", "providers.local.api_key_cmd", 2, "array of strings"),
        ('[providers.local]\napi_key_cmd = "pass \'open"\n', "providers.local.api_key_cmd", 2, "split"),
        ("[providers.local]\napi_key_cmd = []\n", "providers.local.api_key_cmd", 2, "program"),
        ('[providers]\nlocal = "x"\n', "providers.local", 2, "must be a table"),
        ('[providers."my local"]\n', "providers.my local", 1, "letters, digits"),
        ('[keymap]\n"chat.send" = ""\n', "keymap.chat.send", 2, 'got ""'),
        ("[keymap]\nchat.send = 5\n", "keymap.chat.send", 2, "got 5"),
        ('keymap = "ctrl+x"\n', "keymap", 1, 'got "ctrl+x"'),
    ],
)
def test_an_invalid_value_names_the_dotted_key_and_its_line(cfg, text, key, line, shown):
    error = error_for(cfg, text)
    assert error.key == key
    assert error.line == line
    assert str(error).startswith(f"{cfg}, line {line}: {key}: ")
    assert shown in str(error)


def test_a_value_shown_in_an_error_has_its_controls_escaped(cfg):
    error = error_for(cfg, "theme = 7\n")
    assert "got 7" in str(error)
    error = error_for(cfg, '[providers.a]\nmodel = 1\ntitle_model = "\\u001b]52;c;x\\u0007"\n')
    assert "\x1b" not in str(error)
    error = error_for(cfg, '[providers.a]\ntimeout = "\\u001b[2Jboom"\n')
    assert "\x1b" not in str(error) and "\\u001b[2Jboom" in str(error)


def test_default_provider_naming_no_provider_is_refused(cfg):
    error = error_for(cfg, 'default_provider = "remote"\n\n[providers.local]\nmodel = "m"\n')
    assert error.key == "default_provider" and error.line == 1
    assert '"remote" is not a provider' in str(error) and "local" in str(error)


# --- unknown keys and keys in the file ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ('themes = "x"\n', "themes", 'did you mean "theme"'),
        ('[providers.local]\nmodle = "x"\n', "providers.local.modle", 'did you mean "model"'),
        ('[providers.local]\nbase-url = "http://x"\n', "providers.local.base-url", 'did you mean "base_url"'),
        ("[colors]\nx = 1\n", "colors", "known keys"),
    ],
)
def test_an_unknown_key_is_named_not_ignored(cfg, text, key, hint):
    error = error_for(cfg, text)
    assert error.key == key
    assert f"{key}: unknown key" in str(error) and hint in str(error) and str(cfg) in str(error)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'api_key = "{SECRET}"\n', "api_key"),
        (f'[providers.openai]\nmodel = "m"\napi_key = "{SECRET}"\n', "providers.openai.api_key"),
    ],
)
def test_a_key_in_the_file_is_refused_without_echoing_it(cfg, text, key):
    error = error_for(cfg, text)
    assert error.key == key
    assert "api_key_env" in str(error) and "api_key_cmd" in str(error)
    assert SECRET not in str(error) and SECRET not in repr(error)


def test_a_key_pasted_into_api_key_env_is_not_echoed(cfg):
    error = error_for(cfg, f'[providers.openai]\napi_key_env = "{SECRET}"\n')
    assert error.key == "providers.openai.api_key_env"
    assert "name of an environment variable" in str(error)
    assert SECRET not in str(error)


def test_a_provider_cannot_be_built_holding_a_key():
    with pytest.raises(TypeError):
        ProviderConfig(name="x", api_key=SECRET)  # type: ignore[call-arg]


def test_repr_shows_no_key_and_only_the_command_program(monkeypatch):
    monkeypatch.setenv("SOME_KEY", SECRET)
    provider = ProviderConfig(name="x", api_key_env="SOME_KEY", api_key_cmd=["echo", SECRET])
    assert provider.resolve_api_key() == SECRET
    assert SECRET not in repr(provider)
    assert "'echo'" in repr(provider)
    settings = Settings(
        path=None, default_provider="x", default_agent=None, providers={"x": provider}, keymap={}
    )
    assert SECRET not in repr(settings)


# --- encodings and paths ------------------------------------------------------------------------


def test_a_byte_order_mark_is_accepted(cfg):
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'\xef\xbb\xbftheme = "nord"\n[providers.local]\nmodel = "m"\n')
    settings = load_settings(cfg)
    assert settings.theme == "nord" and settings.default_provider == "local"


def test_invalid_utf8_names_line_column_and_byte(cfg):
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'theme = "nord"\nmodel_x = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    error = caught.value
    assert (error.line, error.column) == (2, 15)
    assert str(error).startswith(f"{cfg}, line 2, column 15: not valid UTF-8")
    assert "0xe9" in str(error) and "byte offset 29" in str(error)


def test_invalid_utf8_after_a_bom_counts_the_bom_in_the_offset(cfg):
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'\xef\xbb\xbftheme = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    assert (caught.value.line, caught.value.column) == (1, 10)
    assert "byte offset 12" in str(caught.value)


def test_a_utf16_file_is_named_as_such(cfg):
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes('theme = "nord"\n'.encode("utf-16"))
    error = pytest.raises(ConfigError, load_settings, cfg).value
    assert "UTF-16" in str(error) and str(cfg) in str(error)


def test_a_directory_at_the_config_path_is_an_error(cfg):
    cfg.mkdir(parents=True)
    error = pytest.raises(ConfigError, load_settings, cfg).value
    assert str(error).startswith(f"{cfg}: is a directory")


def test_an_unreadable_file_is_an_error(cfg, monkeypatch):
    write(cfg, 'theme = "x"\n')

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if Path(path) == cfg:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    # Root reads a mode-000 file anyway, so the refusal is simulated where the file is opened.
    monkeypatch.setattr(os, "open", refuse)
    error = pytest.raises(ConfigError, load_settings, cfg).value
    assert str(error) == f"{cfg}: cannot be read: permission denied"


# --- api_key_cmd --------------------------------------------------------------------------------


def test_api_key_cmd_prints_the_key(tmp_path):
    provider = ProviderConfig(name="p", api_key_cmd=py_cmd(f"print('  {SECRET}  '); print('second line')"))
    assert provider.resolve_api_key() == SECRET


def test_api_key_cmd_runs_without_a_shell(cfg):
    # Through a shell, $(...) would run and the key would be "pwned".
    command = shlex.join(py_cmd("import sys; print(sys.argv[1])", "$(echo pwned)"))
    settings = load_settings(write(cfg, "[providers.p]\napi_key_cmd = '''" + command + "'''\n"))
    assert settings.provider("p").resolve_api_key() == "$(echo pwned)"


def test_the_environment_variable_wins_over_the_command(monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    monkeypatch.setenv("P_KEY", "from-env")
    provider = ProviderConfig(
        name="p", api_key_env="P_KEY", api_key_cmd=py_cmd(f"open({str(marker)!r}, 'w'); print('from-cmd')")
    )
    assert provider.resolve_api_key() == "from-env"
    assert not marker.exists()
    monkeypatch.setenv("P_KEY", "")
    assert provider.resolve_api_key() == "from-cmd"


def test_the_command_runs_once_unless_refreshed(tmp_path):
    counter = tmp_path / "count"
    code = (
        "import pathlib; p = pathlib.Path(__import__('sys').argv[1]); "
        "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); print(f'key-{n}')"
    )
    provider = ProviderConfig(name="p", api_key_cmd=py_cmd(code, str(counter)))
    assert provider.resolve_api_key() == "key-1"
    assert provider.resolve_api_key() == "key-1"
    assert provider.resolve_api_key(refresh=True) == "key-2"


@pytest.mark.parametrize(
    ("command", "why"),
    [
        (
            py_cmd(f"import sys; print('{SECRET}'); print('{SECRET}', file=sys.stderr); sys.exit(3)"),
            "exit status 3",
        ),
        (py_cmd("print()"), "printed nothing"),
        (py_cmd("import sys; sys.stdout.buffer.write(b'\\xff\\xfe\\n')"), "not UTF-8"),
        (["agentterm-no-such-program-xyz", SECRET], "was not found"),
    ],
)
def test_a_failing_command_names_the_program_but_not_its_output(command, why):
    provider = ProviderConfig(name="p", api_key_cmd=command)
    with pytest.raises(ConfigError) as caught:
        provider.resolve_api_key()
    message = str(caught.value)
    assert why in message
    assert f'"{command[0]}"' in message and "providers.p" in message
    assert SECRET not in message and SECRET not in repr(caught.value)
    # No chained exception carries the output into a traceback either.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_hanging_command_times_out():
    provider = ProviderConfig(
        name="p", api_key_cmd=py_cmd(f"import time; print('{SECRET}', flush=True); time.sleep(30)")
    )
    with pytest.raises(ConfigError) as caught:
        provider.resolve_api_key(timeout=0.5)
    assert "did not finish within 0.5 seconds" in str(caught.value)
    assert SECRET not in str(caught.value)


# --- the starter config -------------------------------------------------------------------------


def test_the_starter_config_is_private_and_loads_like_the_defaults(tmp_path):
    path = tmp_path / "new" / "agentterm" / "config.toml"
    assert write_default_config(path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text(encoding="utf-8")
    assert "# [providers.ollama]" in text and "http://localhost:11434/v1" in text
    settings = load_settings(path)
    assert settings.path == path
    assert settings.default_provider == "openai"
    assert settings.provider(None).api_key_env == "OPENAI_API_KEY"
    assert settings.provider(None).model == "gpt-4o-mini"


def test_the_starter_config_never_overwrites_unless_asked(tmp_path):
    path = write(tmp_path / "config.toml", 'theme = "mine"\n')
    error = pytest.raises(ConfigError, write_default_config, path).value
    assert str(path) in str(error) and "already exists" in str(error)
    assert path.read_text() == 'theme = "mine"\n'
    write_default_config(path, overwrite=True)
    assert "[providers.openai]" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_starter_config_reports_a_place_it_cannot_write(tmp_path):
    blocker = write(tmp_path / "not-a-dir", "x")
    error = pytest.raises(ConfigError, write_default_config, blocker / "config.toml").value
    assert str(error).startswith(f"{blocker / 'config.toml'}: cannot be written")


# --- the documentation --------------------------------------------------------------------------


def test_every_key_is_documented():
    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in (*config_check._TOP_KEYS, *config_check._PROVIDER_KEYS):
        assert f"`{key}`" in doc, key
