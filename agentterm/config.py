"""The TOML config as typed settings; every fault names the file, the line and the key."""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PROVIDER = "openai"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 60.0
DEFAULT_TRASH_DAYS = 30
DEFAULT_THEME = "textual-dark"
KEY_CMD_TIMEOUT = 10.0

_TOP_KEYS = ("default_provider", "default_agent", "trash_days", "theme", "providers", "keymap")
_PROVIDER_KEYS = ("base_url", "api_key_env", "api_key_cmd", "model", "title_model", "timeout")
_NO_KEYS_HERE = (
    "API keys are never stored in the config: use api_key_env (the name of an environment "
    'variable holding the key, e.g. "OPENAI_API_KEY") or api_key_cmd (a command that prints '
    'the key, e.g. "pass show openai")'
)
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UTF8_BOM = b"\xef\xbb\xbf"

# Output of api_key_cmd, by argv: running `pass` (and its gpg prompt) once per process is enough.
_command_keys: dict[tuple[str, ...], str] = {}


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

    def __repr__(self) -> str:
        # Crash screens and logs print reprs; a command line may embed a secret, so show its program only.
        cmd = self.command()
        shown_cmd = f"<{cmd[0]!r} ...>" if cmd else None
        return (
            f"ProviderConfig(name={self.name!r}, base_url={self.base_url!r}, "
            f"api_key_env={self.api_key_env!r}, api_key_cmd={shown_cmd}, model={self.model!r}, "
            f"title_model={self.title_model!r}, timeout={self.timeout!r})"
        )

    def command(self) -> list[str]:
        """`api_key_cmd` as an argument list (empty when there is none)."""
        if not self.api_key_cmd:
            return []
        if isinstance(self.api_key_cmd, str):
            return shlex.split(self.api_key_cmd)
        return list(self.api_key_cmd)

    def resolve_api_key(self, *, timeout: float = KEY_CMD_TIMEOUT, refresh: bool = False) -> str | None:
        """The key: $api_key_env when set and non-empty, else api_key_cmd's first line, else None.

        The command's result is remembered for the process; `refresh=True` runs it again
        (after the server refused the key, say). Failures raise ConfigError naming the program,
        never its output.
        """
        if self.api_key_env:
            value = os.environ.get(self.api_key_env, "").strip()
            if value:
                return value
        argv = self.command()
        if not argv:
            return None
        cache_key = tuple(argv)
        if not refresh and cache_key in _command_keys:
            return _command_keys[cache_key]
        key = _run_key_command(self.name, argv, timeout)
        _command_keys[cache_key] = key
        return key


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


def default_settings() -> Settings:
    """The settings with no config file: one "openai" provider honouring $OPENAI_BASE_URL."""
    return Settings(
        path=None,
        default_provider=DEFAULT_PROVIDER,
        default_agent=None,
        providers={DEFAULT_PROVIDER: _fallback_provider()},
        keymap={},
    )


def load_settings(path: Path | str, *, required: bool = False) -> Settings:
    """Read and check the config at `path`; no file gives the defaults unless `required`."""
    path = Path(path)
    data = _read_bytes(path, required)
    if data is None:
        return default_settings()
    text = _decode(data, path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    return _Checker(raw, text, path).settings()


def write_default_config(path: Path | str, *, overwrite: bool = False) -> Path:
    """Write a commented starter config (file 0600; a directory it creates is 0700)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError("is a directory, not a config file", path=path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
            os.chmod(path.parent, 0o700)  # mkdir's mode is filtered by the umask
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError("already exists; it was left as it is", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot be written: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        if hasattr(os, "fchmod"):  # an existing file being overwritten keeps no looser mode
            os.fchmod(handle.fileno(), 0o600)
        handle.write(STARTER_CONFIG)
    return path


STARTER_CONFIG = """\
# agentterm's configuration. Every key is described in docs/configuration.md.
#
# API keys are never written here: give the name of an environment variable that holds the key
# (api_key_env) or a command that prints it (api_key_cmd).

# default_provider = "openai"   # unset: the first [providers.*] table below
# default_agent = "Assistant"   # preselected when you start a new conversation
# trash_days = 30               # purge conversations trashed longer ago than this; 0 = never
# theme = "textual-dark"

[providers.openai]
api_key_env = "OPENAI_API_KEY"
model = "gpt-4o-mini"
# title_model = "gpt-4o-mini"                 # the model that writes titles; unset: model
# base_url = "https://api.openai.com/v1"      # unset: OpenAI, or $OPENAI_BASE_URL
# api_key_cmd = "pass show openai"            # instead of api_key_env; run without a shell
# timeout = 60                                # seconds

# [providers.ollama]
# base_url = "http://localhost:11434/v1"
# model = "llama3.2"

# [providers.llamacpp]                        # llama.cpp's llama-server
# base_url = "http://localhost:8080/v1"
# model = "local"

# [providers.openrouter]
# base_url = "https://openrouter.ai/api/v1"
# api_key_env = "OPENROUTER_API_KEY"
# model = "openai/gpt-4o-mini"

# [keymap]                                    # binding id = key(s); the ids are in docs/keys.md
# "app.new_conversation" = "ctrl+t"
"""


def _fallback_provider() -> ProviderConfig:
    return ProviderConfig(
        name=DEFAULT_PROVIDER,
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        api_key_env="OPENAI_API_KEY",
        model=DEFAULT_OPENAI_MODEL,
    )


def _run_key_command(provider: str, argv: list[str], timeout: float) -> str:
    program = argv[0]

    def fail(why: str) -> ConfigError:
        return ConfigError(f'api_key_cmd: "{program}" {why}', key=f"providers.{provider}")

    try:
        # No shell, no stdin (the app owns the terminal), output captured and never shown.
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise fail("was not found (is it installed and on PATH?)") from None
    except subprocess.TimeoutExpired:
        raise fail(f"did not finish within {timeout:g} seconds") from None
    except OSError as exc:
        raise fail(f"could not be run: {exc.strerror}") from None
    if done.returncode != 0:
        raise fail(
            f"failed with exit status {done.returncode} "
            "(its output is not shown, since it may hold the key; run it yourself to see why)"
        )
    try:
        out = done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("printed something that is not UTF-8 text") from None
    lines = out.splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise fail("printed nothing on its first line; it should print the key")
    return key


def _read_bytes(path: Path, required: bool) -> bytes | None:
    if path.is_dir():
        raise ConfigError(
            "is a directory, not a config file (point --config or AGENTTERM_CONFIG at a .toml file)",
            path=path,
        )
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError("no such file", path=path) from None
        return None
    except PermissionError:
        raise ConfigError("cannot be read: permission denied", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", path=path) from None


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("is saved as UTF-16; save it as UTF-8", path=path)
    bom = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0  # Notepad writes one: accept it
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start + bom
        line_start = max(data.rfind(b"\n", 0, start) + 1, bom)
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        raise ConfigError(
            f"not valid UTF-8 (byte 0x{data[start]:02x} at byte offset {start}); save the file as UTF-8",
            path=path,
            line=line,
            column=column,
        ) from None


_TOML_POSITION = re.compile(
    r"^(?P<what>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$", re.DOTALL
)
_TOML_HINTS = {
    "Invalid value": 'invalid value (text needs quotes, e.g. model = "gpt-4o")',
    "Cannot overwrite a value": "a key is set twice",
    "Illegal character '\\n'": "a quoted string is not closed before the end of its line",
}


_TOML_TABLE = re.compile(r"\((?:'[^']*',\s*)*'[^']*',?\)")


def _dotted_table(match: re.Match[str]) -> str:
    # tomllib names a table as a Python tuple, ('providers', 'a'); a user wrote [providers.a].
    return "[" + ".".join(re.findall(r"'([^']*)'", match[0])) + "]"


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: Path) -> ConfigError:
    # Python 3.11's TOMLDecodeError keeps the position only in its message.
    match = _TOML_POSITION.match(str(exc))
    if not match:
        return ConfigError(f"not valid TOML: {exc}", path=path)
    what = _TOML_TABLE.sub(_dotted_table, match["what"])
    what = _TOML_HINTS.get(what, what[:1].lower() + what[1:])
    if match["line"]:
        return ConfigError(
            f"not valid TOML: {what}", path=path, line=int(match["line"]), column=int(match["col"])
        )
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return ConfigError(
        f"not valid TOML: {what} (at the end of the file)", path=path, line=line, column=column
    )


def _show(value: Any) -> str:
    """A value as it would read in TOML, short, with control characters escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        shown = json.dumps(shown, ensure_ascii=False)
        return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in shown)
    return str(value)


class _Checker:
    """Turns the parsed TOML into Settings, raising ConfigError at the first fault."""

    def __init__(self, raw: dict[str, Any], text: str, path: Path) -> None:
        self.raw = raw
        self.text = text
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, line=_locate(self.text, key), key=key)

    def settings(self) -> Settings:
        raw = self.raw
        self.check_keys(raw, _TOP_KEYS, prefix="")
        providers = self.providers(raw.get("providers", {}))
        default = self.string(raw, "default_provider", "default_provider")
        if default is None:
            default = next(iter(providers))
        elif default not in providers:
            raise self.fail(
                "default_provider",
                f"{_show(default)} is not a provider (the config defines: {', '.join(providers)})",
            )
        return Settings(
            path=self.path,
            default_provider=default,
            default_agent=self.string(raw, "default_agent", "default_agent"),
            providers=providers,
            keymap=self.keymap(raw.get("keymap", {})),
            trash_days=self.trash_days(raw.get("trash_days", DEFAULT_TRASH_DAYS)),
            theme=self.string(raw, "theme", "theme") or DEFAULT_THEME,
        )

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            dotted = f"{prefix}{key}"
            if key == "api_key":
                raise self.fail(dotted, _NO_KEYS_HERE)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else f" (known keys: {', '.join(allowed)})"
                raise self.fail(dotted, f"unknown key{hint}")

    def string(self, table: Mapping[str, Any], name: str, dotted: str) -> str | None:
        if name not in table:
            return None
        value = table[name]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, f"must be a non-empty string, got {_show(value)}")
        return value.strip()

    def trash_days(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail("trash_days", f"must be a whole number of days, 0 or more, got {_show(value)}")
        return value

    def providers(self, table: Any) -> dict[str, ProviderConfig]:
        if not isinstance(table, dict):
            raise self.fail("providers", f"must be a table of [providers.NAME] tables, got {_show(table)}")
        if not table:
            return {DEFAULT_PROVIDER: _fallback_provider()}
        return {name: self.provider(name, body) for name, body in table.items()}

    def provider(self, name: str, body: Any) -> ProviderConfig:
        prefix = f"providers.{name}"
        if not _PROVIDER_NAME.fullmatch(name):
            raise self.fail(prefix, "a provider's name may hold only letters, digits, _ and -")
        if not isinstance(body, dict):
            raise self.fail(prefix, f"must be a table ([{prefix}]), got {_show(body)}")
        self.check_keys(body, _PROVIDER_KEYS, prefix=f"{prefix}.")
        return ProviderConfig(
            name=name,
            base_url=self.base_url(body, prefix),
            api_key_env=self.api_key_env(body, prefix),
            api_key_cmd=self.api_key_cmd(body, prefix),
            model=self.string(body, "model", f"{prefix}.model"),
            title_model=self.string(body, "title_model", f"{prefix}.title_model"),
            timeout=self.timeout(body, prefix),
        )

    def base_url(self, body: dict[str, Any], prefix: str) -> str | None:
        url = self.string(body, "base_url", f"{prefix}.base_url")
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(
                f"{prefix}.base_url",
                f'must be an http:// or https:// URL such as "http://localhost:11434/v1", got {_show(url)}',
            )
        return url

    def api_key_env(self, body: dict[str, Any], prefix: str) -> str | None:
        if "api_key_env" not in body:
            return None
        value = body["api_key_env"]
        # The value is not echoed: a common slip is to paste the key itself here.
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value.strip()):
            raise self.fail(
                f"{prefix}.api_key_env",
                'must be the name of an environment variable (letters, digits and _, such as "OPENAI_API_KEY"), '
                "not the key itself",
            )
        return value.strip()

    def api_key_cmd(self, body: dict[str, Any], prefix: str) -> list[str] | None:
        if "api_key_cmd" not in body:
            return None
        value = body["api_key_cmd"]
        dotted = f"{prefix}.api_key_cmd"
        # Like api_key_env, never echoed: a command line may carry a secret.
        if isinstance(value, str):
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                raise self.fail(dotted, f"cannot be split into words: {exc}") from None
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            argv = list(value)
        else:
            raise self.fail(dotted, 'must be a string ("pass show openai") or an array of strings')
        if not argv or not argv[0]:
            raise self.fail(dotted, "must name a program to run")
        return argv

    def timeout(self, body: dict[str, Any], prefix: str) -> float:
        value = body.get("timeout", DEFAULT_TIMEOUT)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise self.fail(f"{prefix}.timeout", f"must be a positive number of seconds, got {_show(value)}")
        return float(value)

    def keymap(self, table: Any) -> dict[str, str]:
        if not isinstance(table, dict):
            raise self.fail("keymap", f"must be a table of binding id = key, got {_show(table)}")
        keymap: dict[str, str] = {}
        self.flatten_keymap(table, "", keymap)
        return keymap

    def flatten_keymap(self, table: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
        # A bare `chat.send = "enter"` is a dotted key in TOML and parses as nested tables.
        for key, value in table.items():
            binding = f"{prefix}{key}"
            if isinstance(value, dict):
                self.flatten_keymap(value, f"{binding}.", out)
            elif isinstance(value, str) and value.strip():
                out[binding] = value.strip()
            else:
                raise self.fail(f"keymap.{binding}", f'must be a key such as "ctrl+n", got {_show(value)}')


_TABLE_HEADER = re.compile(r"\s*\[(?!\[)\s*(?P<path>[^\]]+?)\s*\]")
_KEY_LINE = re.compile(
    r"""\s*(?P<path>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"([^"]*)"|'([^']*)'""")


def _key_parts(path: str) -> list[str]:
    # Quoted parts are split on dots too: "chat.send" and chat.send name one binding to us.
    return [bit for m in _KEY_PART.finditer(path) for bit in (m[1] or m[2] or m[0]).split(".")]


def _locate(text: str, dotted: str) -> int | None:
    """The line where a dotted key is set, found by reading table headers and keys; None if unsure."""
    target = dotted.split(".")
    table: list[str] = []
    fallback: tuple[int, int] | None = None  # (depth, line) of the deepest enclosing key
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_HEADER.match(line)
        if header:
            table = _key_parts(header["path"])
            full, is_key = table, False
        else:
            key = _KEY_LINE.match(line)
            if not key:
                continue
            full, is_key = table + _key_parts(key["path"]), True
        if full[: len(target)] == target:
            return number
        if is_key and target[: len(full)] == full and (fallback is None or len(full) > fallback[0]):
            fallback = (len(full), number)
    return fallback[1] if fallback else None
