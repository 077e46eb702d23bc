"""The config's typed settings: providers, how each gets its key, and the defaults."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentterm.redact import register_command, register_secret, scrub

if TYPE_CHECKING:
    from agentterm.config.store_settings import StoreSettings

DEFAULT_PROVIDER = "openai"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 60.0
DEFAULT_TITLE_TIMEOUT = 10.0
DEFAULT_TRASH_DAYS = 30
# [serve] (agentterm serve): per-token limits (0: none) and the idle cleanup of id-less sessions.
DEFAULT_SERVE = {"max_body_bytes": 4_000_000, "requests_per_minute": 600, "streams_per_token": 20,
                 "idle_timeout": 86_400}
DEFAULT_THEME = "textual-dark"
KEY_CMD_TIMEOUT = 10.0
DEFAULT_MAX_STEPS = 20
DEFAULT_TOOL_TIMEOUT = 60.0
DEFAULT_STARTUP_TIMEOUT = 30.0
DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000
DEFAULT_MAX_ATTACHMENT_BYTES = 256 * 1024
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024

# What api_key_cmd gave, by argv: its key, or the ConfigError it failed with. Once per process:
# `pass` (and its gpg prompt) or a command that hangs for its whole timeout costs that only once.
_command_keys: dict[tuple[str, ...], str | ConfigError] = {}


class ConfigError(Exception):
    """A config fault; str() names the file, the line and column when known, and the key."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [str(self.path)] if self.path is not None else []
        if self.line is not None:
            where.append(f"line {self.line}")
            if self.column is not None:
                where.append(f"column {self.column}")
        text = f"{self.key}: {self.message}" if self.key else self.message
        return f"{', '.join(where)}: {text}" if where else text


@dataclass
class ProviderConfig:
    """One OpenAI-compatible endpoint: where it is, how to get its key, which models to use."""

    name: str
    """The profile's name: the `NAME` in `[providers.NAME]`, what agents refer to."""

    base_url: str | None = None
    """The API's base URL, e.g. `http://localhost:11434/v1`; None: the OpenAI default (or $OPENAI_BASE_URL)."""

    api_key_env: str | None = None
    """The name of an environment variable holding the key (never the key itself)."""

    api_key_cmd: list[str] | str | None = None
    """A command whose first line of output is the key, run without a shell; a string is split like a shell would."""

    api_key: None = field(default=None, init=False, repr=False, compare=False)
    """Always None: keys are never read from the config file; use `resolve_api_key()`."""

    model: str | None = None
    """The model used when neither the agent nor the command line names one."""

    title_model: str | None = None
    """The model that writes conversation titles; None: `model`."""

    timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait to connect and between streamed chunks (far below openai's own 600)."""

    title_timeout: float = DEFAULT_TITLE_TIMEOUT
    """Seconds a title request may take in all before the prompt's first line is the title instead."""

    vision: bool | None = None
    """Whether its models take images (content parts); None: known by the model's name
    (agentterm/engine/attachments.py VISION_MODELS, docs/attachments.md)."""

    context_window: int | None = None
    """Tokens its models take in one request (the header's meter, the fitting rule); None: a
    table of known models (agentterm/engine/context.py), else no limit is known."""

    input_price: float | None = None
    """Price of a million prompt tokens, for the cost the header shows; None: not shown."""

    output_price: float | None = None
    """Price of a million answer tokens."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per model name: its own `context_window`, `input_price`, `output_price` over the above."""

    def __post_init__(self) -> None:
        self.command()  # registers the command's value as a secret before anything can print it

    def __repr__(self) -> str:
        # Crash screens and logs print reprs; a command line may embed a secret, so show its program only.
        cmd = self.command()
        shown_cmd = f"<{scrub(cmd[0])!r} ...>" if cmd else None
        return (
            f"ProviderConfig(name={self.name!r}, base_url={self.base_url!r}, "
            f"api_key_env={self.api_key_env!r}, api_key_cmd={shown_cmd}, model={self.model!r}, "
            f"title_model={self.title_model!r}, timeout={self.timeout!r}, title_timeout={self.title_timeout!r})"
        )

    def command(self) -> list[str]:
        """`api_key_cmd` as an argument list (empty when there is none)."""
        if not self.api_key_cmd:
            return []
        if isinstance(self.api_key_cmd, str):
            try:
                argv = shlex.split(self.api_key_cmd)
            except ValueError:  # an unclosed quote: one word, refused by the run as not found
                argv = [self.api_key_cmd]
        else:
            argv = [str(part) for part in self.api_key_cmd]
        register_command(self.api_key_cmd, argv)
        return argv

    def key_source(self) -> str:
        """Where `resolve_api_key()` takes the key from, for messages: "$VAR", "api_key_cmd" or ""."""
        if self.api_key_env and os.environ.get(self.api_key_env, "").strip():
            return f"${self.api_key_env}"
        return "api_key_cmd" if self.command() else ""

    def resolve_api_key(self, *, timeout: float = KEY_CMD_TIMEOUT, refresh: bool = False) -> str | None:
        """The key: $api_key_env when set and non-empty, else api_key_cmd's first line, else None.

        The command runs once per process: its key, or its failure, is remembered
        (`refresh=True` runs it again). Failures raise ConfigError naming the program, never
        its output. The key, the command's value and its output are registered as secrets.
        """
        if self.api_key_env:
            value = os.environ.get(self.api_key_env, "").strip()
            if value:
                register_secret(value)
                return value
        argv = self.command()
        if not argv:
            return None
        cache_key = tuple(argv)
        result = None if refresh else _command_keys.get(cache_key)
        if result is None:
            try:
                result = _run_key_command(self.name, argv, timeout)
            except ConfigError as error:
                result = error
            _command_keys[cache_key] = result
        if isinstance(result, ConfigError):
            # A new exception each time: re-raising the cached one would grow its traceback.
            raise ConfigError(result.message, key=result.key) from None
        return result


@dataclass
class MCPServerConfig:
    """One MCP server: a program spoken to over stdio, or a streamable-HTTP URL."""

    name: str
    """The server's name: the `NAME` in `[mcp_servers.NAME]`, what agents list in `mcp_servers`."""

    command: str | None = None
    """stdio: the program to run (looked up on PATH); None for an HTTP server."""

    args: list[str] = field(default_factory=list)
    """stdio: the program's arguments."""

    env: dict[str, str] = field(default_factory=dict, repr=False)
    """stdio: variables added to the minimal environment the server gets (values may be secrets)."""

    cwd: Path | None = None
    """stdio: the working directory; a relative path is taken from the config file's directory."""

    url: str | None = None
    """HTTP: the streamable-HTTP endpoint, e.g. `http://127.0.0.1:8931/mcp`; None for a stdio server."""

    headers_env: dict[str, str] = field(default_factory=dict)
    """HTTP: header name -> the environment variable holding its value (values are never in the file)."""

    timeout: float = DEFAULT_TOOL_TIMEOUT
    """Seconds one tool call may take before it is given up as failed."""

    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    """Seconds the server may take to start and list its tools."""

    @property
    def transport(self) -> str:
        """"stdio" or "http"."""
        return "http" if self.url else "stdio"

    def headers(self) -> dict[str, str]:
        """The HTTP headers, read from the environment now; a variable unset raises ConfigError (no value shown)."""
        headers: dict[str, str] = {}
        for header, variable in self.headers_env.items():
            value = os.environ.get(variable, "")
            if not value:
                raise ConfigError(
                    f"headers_env: {header} comes from ${variable}, which is not set",
                    key=f"mcp_servers.{self.name}",
                )
            headers[header] = value
        return headers

    def secrets(self, *, with_env: bool = True) -> list[str]:
        """Values never to show: header values, and (with_env) env values long enough to be tokens."""
        values = [v for var in self.headers_env.values() if len(v := os.environ.get(var, "")) >= 4]
        if with_env:
            # TZ = "UTC" is no secret, and hiding "UTC" everywhere would garble what is shown.
            values += [v for v in self.env.values() if len(v) >= 8]
        return values


@dataclass
class Settings:
    """Everything the config file says, with defaults filled in."""

    path: Path | None
    """The config file that was read; None when there was none and the defaults apply."""

    default_provider: str
    """The provider used when an agent names none; a key of `providers`."""

    default_agent: str | None
    """The agent preselected in the new-conversation picker; None: the store's default agent."""

    providers: dict[str, ProviderConfig]
    """Every provider profile by name, in the file's order."""

    keymap: dict[str, str]
    """Binding id -> key(s), e.g. {"chat.send": "enter"}; the app checks the ids."""

    trash_days: int = DEFAULT_TRASH_DAYS
    """Purge conversations that have been in the trash longer than this many days; 0: never."""

    theme: str = DEFAULT_THEME
    """The Textual theme's name."""

    mcp_servers: dict[str, MCPServerConfig] = field(default_factory=dict)
    """Every MCP server by name, in the file's order; agents name the ones they may use."""

    max_steps: int = DEFAULT_MAX_STEPS
    """The most model requests one turn may make (each round of tool calls is one more)."""

    max_tool_result_chars: int = DEFAULT_MAX_TOOL_RESULT_CHARS
    """A tool result longer than this many characters is cut, with a marker saying how much was left out."""

    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    """The largest text file `@path` or `ask -f` attaches; a larger one is refused, nothing sent."""

    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    """The largest image attached (sent to a vision model as a data URL)."""

    user: str | None = None
    """The local user (the app's and the CLI's) for the server's ownership; None: the login name."""

    serve: dict[str, Any] = field(default_factory=dict)
    """[serve] for `agentterm serve`: allowed_hosts, cors_origins, and the numbers of DEFAULT_SERVE
    (max_body_bytes, requests_per_minute, streams_per_token, idle_timeout in seconds)."""

    def serve_number(self, key: str) -> int:
        """A whole-number [serve] setting, its default if the config leaves it out."""
        return int((self.serve or {}).get(key, DEFAULT_SERVE[key]))

    store: StoreSettings = field(default_factory=lambda: _store_settings())
    """`store = "..."` or [store]: the store when neither --db nor $AGENTTERM_DB names one."""

    def local_user(self) -> str:
        if self.user:
            return self.user
        import getpass

        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (a container): one stable fallback
            return "local"

    def provider(self, name: str | None = None) -> ProviderConfig:
        """The named provider; None: the default. An unknown name raises ConfigError."""
        chosen = name or self.default_provider
        try:
            return self.providers[chosen]
        except KeyError:
            known = ", ".join(self.providers) or "none"
            raise ConfigError(
                f'no provider named "{chosen}" (the config defines: {known})', path=self.path
            ) from None


def _store_settings() -> StoreSettings:
    from agentterm.config.store_settings import StoreSettings

    return StoreSettings()


def default_settings() -> Settings:
    """The settings with no config file: one "openai" provider honouring $OPENAI_BASE_URL."""
    return Settings(
        path=None,
        default_provider=DEFAULT_PROVIDER,
        default_agent=None,
        providers={DEFAULT_PROVIDER: fallback_provider()},
        keymap={},
    )

def fallback_provider() -> ProviderConfig:
    return ProviderConfig(
        name=DEFAULT_PROVIDER,
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        api_key_env="OPENAI_API_KEY",
        model=DEFAULT_OPENAI_MODEL,
    )


def _run_key_command(provider: str, argv: list[str], timeout: float, *, key: str | None = None,
                     option: str = "api_key_cmd", what: str = "the key") -> str:
    program = argv[0]
    # A key pasted as the command: name no program then, and say what api_key_cmd is for.
    shown = f'"{program}"' if scrub(program) == program else "its program (not shown: it may be a key)"

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{option}: {shown} {why}", key=key or f"providers.{provider}")

    try:
        # No shell, no stdin (the app owns the terminal), output captured and never shown. A
        # session of its own, so that on timeout its whole process group can be ended.
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError:
        raise fail("was not found (is it installed and on PATH?)") from None
    except OSError as exc:
        raise fail(f"could not be run: {exc.strerror}") from None
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(process)
        raise fail(f"did not finish within {timeout:g} seconds") from None
    except BaseException:  # Ctrl+C while it runs: leave nothing behind
        _end_group(process)
        raise
    try:
        out = stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("printed something that is not UTF-8 text") from None
    # Its output is secret whatever its exit status: a failing command may still print the key.
    register_secret(out)
    for line in out.splitlines():
        register_secret(line)
    if process.returncode != 0:
        raise fail(
            f"failed with exit status {process.returncode} "
            f"(its output is not shown, since it may hold {what}; run it yourself to see why)"
        )
    lines = out.splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise fail(f"printed nothing on its first line; it should print {what}")
    return key


def _end_group(process: subprocess.Popen) -> None:
    """Kill the command and everything it started (same process group), and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    try:
        process.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        # A descendant that left the group may still hold the pipes open: do not wait on it.
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
