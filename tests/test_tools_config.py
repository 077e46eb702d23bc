"""The config's MCP servers, max_steps and result cap; and config paths that are not files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentterm.config import ConfigError, MCPServerConfig, load_settings
from agentterm.config import check as config_check
from agentterm.config.mcp_check import MCP_SERVER_KEYS

TOKEN = "tok-SECRET-never-shown-77"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path, text: str) -> ConfigError:
    write(path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value


@pytest.fixture
def cfg(tmp_path) -> Path:
    return tmp_path / "conf" / "config.toml"


def test_stdio_and_http_servers_are_read_in_order(cfg):
    write(cfg, """
max_steps = 7
max_tool_result_chars = 5000

[mcp_servers.time]
command = "mcp-server-time"
args = ["--local-timezone", "UTC"]
env = { TZ = "UTC" }
cwd = "servers"
timeout = 5

[mcp_servers.docs]
url = "http://127.0.0.1:8931/mcp"
headers_env = { Authorization = "DOCS_TOKEN" }
startup_timeout = 3.5
""")
    settings = load_settings(cfg)
    assert list(settings.mcp_servers) == ["time", "docs"]
    assert settings.max_steps == 7 and settings.max_tool_result_chars == 5000
    time, docs = settings.mcp_servers.values()
    assert time == MCPServerConfig(name="time", command="mcp-server-time", args=["--local-timezone", "UTC"],
                                   env={"TZ": "UTC"}, cwd=cfg.parent / "servers", timeout=5.0)
    assert time.transport == "stdio" and docs.transport == "http"
    assert docs.url == "http://127.0.0.1:8931/mcp" and docs.startup_timeout == 3.5 and docs.timeout == 60.0


def test_defaults_without_the_new_keys(cfg):
    settings = load_settings(write(cfg, '[providers.a]\nmodel = "m"\n'))
    assert settings.mcp_servers == {} and settings.max_steps == 20 and settings.max_tool_result_chars == 20_000
    assert load_settings(cfg.parent / "none.toml").mcp_servers == {}


def test_header_values_come_from_the_environment_and_are_never_shown(cfg, monkeypatch):
    write(cfg, '[mcp_servers.docs]\nurl = "http://127.0.0.1:1/mcp"\nheaders_env = { Authorization = "DOCS_TOKEN" }\n')
    server = load_settings(cfg).mcp_servers["docs"]
    with pytest.raises(ConfigError) as caught:
        server.headers()
    assert "$DOCS_TOKEN, which is not set" in str(caught.value)
    monkeypatch.setenv("DOCS_TOKEN", TOKEN)
    assert server.headers() == {"Authorization": TOKEN}
    assert TOKEN not in repr(server) and TOKEN in server.secrets()


def test_env_values_are_not_in_the_repr(cfg):
    write(cfg, f'[mcp_servers.gh]\ncommand = "gh-mcp"\nenv = {{ GITHUB_TOKEN = "{TOKEN}" }}\n')
    server = load_settings(cfg).mcp_servers["gh"]
    assert server.env == {"GITHUB_TOKEN": TOKEN} and TOKEN not in repr(server)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[mcp_servers.t]\ncommand = "x"\nargz = []\n', "mcp_servers.t.argz", 'did you mean "args"'),
        ('[mcp_servers.t]\ncommand = "x"\ntimeot = 3\n', "mcp_servers.t.timeot", 'did you mean "timeout"'),
        ("[mcp_servers.t]\nargs = []\n", "mcp_servers.t", "needs a command (stdio) or a url (HTTP)"),
        ('[mcp_servers.t]\ncommand = "x"\nurl = "http://h/mcp"\n', "mcp_servers.t", "sets both command and url"),
        ('[mcp_servers.t]\ncommand = "x"\nheaders_env = {}\n', "mcp_servers.t.headers_env", "does not apply"),
        ('[mcp_servers.t]\nurl = "http://h/mcp"\nargs = ["a"]\n', "mcp_servers.t.args", "does not apply"),
        ('[mcp_servers.t]\ncommand = "x"\nargs = "a b"\n', "mcp_servers.t.args", "array of strings"),
        ('[mcp_servers.t]\ncommand = "x"\ntimeout = 0\n', "mcp_servers.t.timeout", "positive number"),
        ('[mcp_servers.t]\ncommand = "x"\nstartup_timeout = "5"\n', "mcp_servers.t.startup_timeout", "positive"),
        ('[mcp_servers.t]\nurl = "ftp://h/mcp"\n', "mcp_servers.t.url", "http:// or https://"),
        ('[mcp_servers.t]\nurl = "http://u:p@h/mcp"\n', "mcp_servers.t.url", "headers_env"),
        ('[mcp_servers."a b"]\ncommand = "x"\n', "mcp_servers.a b", "letters, digits"),
        ('[mcp_servers.t]\ncommand = "x"\nenv = { "1X" = "v" }\n', "mcp_servers.t.env.1X", "variable name"),
        ('mcp_servers = 3\n', "mcp_servers", "table of [mcp_servers.NAME]"),
        ("max_steps = 0\n", "max_steps", "1 or more"),
        ("max_steps = true\n", "max_steps", "whole number"),
        ("max_tool_result_chars = 10\n", "max_tool_result_chars", "1000 or more"),
        ('mcp_server = {}\n', "mcp_server", 'did you mean "mcp_servers"'),
    ],
)
def test_a_bad_server_names_its_key_and_line(cfg, text, key, words):
    error = error_for(cfg, text)
    assert error.key == key and words in str(error), str(error)
    assert str(cfg) in str(error) and error.line is not None


def test_a_token_pasted_into_headers_env_is_refused_without_echoing_it(cfg):
    error = error_for(cfg, f'[mcp_servers.d]\nurl = "http://h/mcp"\nheaders_env = {{ Authorization = "Bearer {TOKEN}" }}\n')
    assert error.key == "mcp_servers.d.headers_env.Authorization" and "not the value itself" in str(error)
    assert TOKEN not in str(error)


# --- issue 8.18: a config path that is not a regular file never hangs -------------------------

# Run in a child with a deadline: a regression here hangs instead of failing.
_LOAD = "import sys\nfrom agentterm.config import load_settings\ntry:\n    load_settings(sys.argv[1])\nexcept Exception as e:\n    print(e)\n"


def load_in_child(path: Path | str) -> str:
    done = subprocess.run([sys.executable, "-c", _LOAD, str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert load_in_child(fifo) == f"{fifo}: is a named pipe (FIFO), not a regular file; point --config at a .toml file"


def test_dev_zero_is_refused():
    assert load_in_child("/dev/zero") == "/dev/zero: is a device, not a regular file; point --config at a .toml file"


def test_a_file_over_a_megabyte_is_refused(cfg):
    write(cfg, "# " + "x" * 1_000_000 + "\n")
    error = error_for(cfg, cfg.read_text())
    assert str(error) == f"{cfg}: is larger than 1 MB; a config is a few lines of TOML"


def test_a_file_just_under_the_limit_is_read(cfg):
    write(cfg, "# " + "x" * 990_000 + "\ntheme = \"t\"\n")
    assert load_settings(cfg).theme == "t"


def test_the_cli_reports_a_fifo_config_in_one_line(tmp_path):
    fifo = tmp_path / "c.toml"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "agentterm", "--config", str(fifo), "agents", "list"],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "AGENTTERM_DB": str(tmp_path / "d.db")})
    assert done.returncode == 2
    assert done.stderr.strip() == f"agentterm: error: {fifo}: is a named pipe (FIFO), not a regular file; point --config at a .toml file"


def test_every_mcp_key_is_documented():
    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in (*config_check._TOP_KEYS, *MCP_SERVER_KEYS):
        assert f"`{key}`" in doc, key
