"""Checking the parsed TOML into Settings, naming the line and key of the first fault."""

from __future__ import annotations

import difflib
import json
import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentterm.config.mcp_check import MCPChecks
from agentterm.config.store_settings import StoreSettings
from agentterm.config.settings import (
    DEFAULT_MAX_STEPS,
    DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_MAX_IMAGE_BYTES,
    DEFAULT_MAX_TOOL_RESULT_CHARS,
    DEFAULT_PROVIDER,
    DEFAULT_THEME,
    DEFAULT_TIMEOUT,
    DEFAULT_TITLE_TIMEOUT,
    DEFAULT_TRASH_DAYS,
    ConfigError,
    ProviderConfig,
    Settings,
    fallback_provider,
)

_TOP_KEYS = (
    "default_provider",
    "default_agent",
    "trash_days",
    "theme",
    "max_steps",
    "max_tool_result_chars",
    "max_attachment_bytes",
    "max_image_bytes",
    "providers",
    "mcp_servers",
    "keymap",
    "user",
    "serve",
    "store",
)
_STORE_KEYS = ("location", "password_cmd")
_SERVE_KEYS = ("allowed_hosts", "cors_origins", "max_body_bytes", "idle_timeout", "requests_per_minute",
               "streams_per_token", "titles")
SERVE_TITLES = ("sessions", "all", "prompt")  # docs/api.md, Titles
_PROVIDER_KEYS = ("base_url", "api_key_env", "api_key_cmd", "model", "title_model", "timeout", "title_timeout",
                  "vision", "context_window", "input_price", "output_price", "models")
_MODEL_KEYS = ("context_window", "input_price", "output_price")
_NO_KEYS_HERE = (
    "API keys are never stored in the config: use api_key_env (the name of an environment "
    'variable holding the key, e.g. "OPENAI_API_KEY") or api_key_cmd (a command that prints '
    'the key, e.g. "pass show openai")'
)
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


class Checker(MCPChecks):
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
            mcp_servers=self.mcp_servers(raw.get("mcp_servers", {})),
            max_steps=self.whole(raw, "max_steps", DEFAULT_MAX_STEPS, 1),
            max_tool_result_chars=self.whole(raw, "max_tool_result_chars", DEFAULT_MAX_TOOL_RESULT_CHARS, 1000),
            max_attachment_bytes=self.whole(raw, "max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES, 1),
            max_image_bytes=self.whole(raw, "max_image_bytes", DEFAULT_MAX_IMAGE_BYTES, 1),
            user=self.string(raw, "user", "user"),
            serve=self.serve(raw.get("serve", {})),
            store=self.store(raw.get("store")),
        )

    def store(self, value: Any) -> StoreSettings:
        """`store = "path or URL"`, or [store] with location and password_cmd (docs/configuration.md)."""
        base = self.path.parent
        if value is None:
            return StoreSettings(base=base)
        if isinstance(value, str):
            table: dict[str, Any] = {"location": value}
        elif isinstance(value, dict):
            self.check_keys(value, _STORE_KEYS, prefix="store.")
            table = value
        else:
            raise self.fail("store", 'must be a file\'s path or a URL such as "postgresql://me@db.example/agentterm", '
                                     "or a [store] table")
        location = table.get("location")
        # Not echoed: a URL may carry a password.
        if location is not None and (not isinstance(location, str) or not location.strip()):
            raise self.fail("store" if isinstance(value, str) else "store.location",
                            "must be a non-empty string: a file's path or a postgresql:// URL")
        if location and "://" in location and _has_password(location):
            raise self.fail("store" if isinstance(value, str) else "store.location",
                            "holds a password: passwords are never kept in the config; use password_cmd, "
                            "$PGPASSWORD or ~/.pgpass")
        password_cmd = self.command_value(table["password_cmd"], "store.password_cmd") \
            if "password_cmd" in table else None
        return StoreSettings(location=location.strip() if location else None, password_cmd=password_cmd, base=base)

    def serve(self, table: Any) -> dict[str, Any]:
        """[serve]: the server's doors (agentterm serve); lists of strings and whole numbers."""
        if not isinstance(table, dict):
            raise self.fail("serve", f"must be a table, not {_show(table)}")
        self.check_keys(table, _SERVE_KEYS, prefix="serve.")
        for key in ("allowed_hosts", "cors_origins"):
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"serve.{key}", "must be an array of strings")
        # Limits may be 0 (none); a body limit or an idle timeout of 0 would refuse or drop everything.
        for key, low in (("max_body_bytes", 1), ("idle_timeout", 1), ("requests_per_minute", 0),
                         ("streams_per_token", 0)):
            value = table.get(key, low)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise self.fail(f"serve.{key}", f"must be a whole number, {low} or more")
        if table.get("titles", "sessions") not in SERVE_TITLES:
            raise self.fail("serve.titles", 'must be "sessions" (a model-made title for a session with an id,'
                            ' the prompt\'s first line for one without), "all" or "prompt"')
        return dict(table)

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
            return {DEFAULT_PROVIDER: fallback_provider()}
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
            title_timeout=self.timeout(body, prefix, "title_timeout", DEFAULT_TITLE_TIMEOUT),
            vision=self.flag(body, "vision", f"{prefix}.vision"),
            **self.model_figures(body, prefix),
            models=self.models(body.get("models", {}), prefix),
        )

    def flag(self, table: Mapping[str, Any], name: str, dotted: str) -> bool | None:
        if name not in table:
            return None
        if not isinstance(table[name], bool):
            raise self.fail(dotted, f"must be true or false, got {_show(table[name])}")
        return table[name]

    def model_figures(self, body: dict[str, Any], prefix: str) -> dict[str, Any]:
        """context_window (a whole number of tokens, 256 or more) and the prices (0 or more)."""
        figures: dict[str, Any] = {}
        if "context_window" in body:
            value = body["context_window"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 256:
                raise self.fail(f"{prefix}.context_window",
                                f"must be a whole number of tokens, 256 or more, got {_show(value)}")
            figures["context_window"] = value
        for key in ("input_price", "output_price"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                        or value < 0:
                    raise self.fail(f"{prefix}.{key}",
                                    f"must be a price per million tokens, 0 or more, got {_show(value)}")
                figures[key] = float(value)
        return figures

    def models(self, table: Any, prefix: str) -> dict[str, dict[str, Any]]:
        if not isinstance(table, dict):
            raise self.fail(f"{prefix}.models", f'must be a table of [{prefix}.models."NAME"] tables, got {_show(table)}')
        models: dict[str, dict[str, Any]] = {}
        for name, body in table.items():
            dotted = f"{prefix}.models.{name}"
            if not isinstance(body, dict):
                raise self.fail(dotted, f"must be a table (context_window, input_price, output_price), got {_show(body)}")
            self.check_keys(body, _MODEL_KEYS, prefix=f"{dotted}.")
            models[name] = self.model_figures(body, dotted)
        return models

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
        return self.command_value(body["api_key_cmd"], f"{prefix}.api_key_cmd")

    def command_value(self, value: Any, dotted: str) -> list[str]:
        """A command (api_key_cmd, password_cmd): a string split like a shell, or an array of strings."""
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

    def timeout(self, body: dict[str, Any], prefix: str, key: str = "timeout",
                default: float = DEFAULT_TIMEOUT) -> float:
        value = body.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise self.fail(f"{prefix}.{key}", f"must be a positive number of seconds, got {_show(value)}")
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


def _has_password(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return bool(parts.password) or "password=" in parts.query.lower()
    except ValueError:
        return False


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
