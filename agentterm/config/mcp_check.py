"""Checking `[mcp_servers.NAME]` tables into MCPServerConfig, in the Checker's style."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentterm.config.settings import DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, MCPServerConfig

_STDIO_KEYS = ("command", "args", "env", "cwd")
_HTTP_KEYS = ("url", "headers_env")
MCP_SERVER_KEYS = (*_STDIO_KEYS, *_HTTP_KEYS, "timeout", "startup_timeout")
# Server names become part of the function names sent to the model: keep them to OpenAI's alphabet.
_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class MCPChecks:
    """The mcp_servers part of the Checker, which supplies path, fail, check_keys and string."""

    path: Path

    def mcp_servers(self, table: Any) -> dict[str, MCPServerConfig]:
        if not isinstance(table, dict):
            raise self.fail("mcp_servers", "must be a table of [mcp_servers.NAME] tables")
        return {name: self.mcp_server(name, body) for name, body in table.items()}

    def mcp_server(self, name: str, body: Any) -> MCPServerConfig:
        prefix = f"mcp_servers.{name}"
        if not _SERVER_NAME.fullmatch(name):
            raise self.fail(prefix, "a server's name may hold only letters, digits, _ and - (at most 32)")
        if not isinstance(body, dict):
            raise self.fail(prefix, f"must be a table ([{prefix}])")
        self.check_keys(body, MCP_SERVER_KEYS, prefix=f"{prefix}.")
        has_command, has_url = "command" in body, "url" in body
        if has_command == has_url:
            why = "sets both command and url" if has_command else "needs a command (stdio) or a url (HTTP)"
            raise self.fail(prefix, f'{why}: e.g. command = "mcp-server-time" or url = "http://127.0.0.1:8931/mcp"')
        wrong = _HTTP_KEYS if has_command else _STDIO_KEYS
        for key in wrong:
            if key in body:
                kind = "a stdio server (command)" if has_command else "an HTTP server (url)"
                raise self.fail(f"{prefix}.{key}", f"does not apply to {kind}")
        return MCPServerConfig(
            name=name,
            command=self.string(body, "command", f"{prefix}.command"),
            args=self.string_list(body, "args", prefix),
            env=self.env_table(body, prefix),
            cwd=self.server_cwd(body, prefix),
            url=self.server_url(body, prefix),
            headers_env=self.headers_env(body, prefix),
            timeout=self.seconds(body, "timeout", prefix, DEFAULT_TOOL_TIMEOUT),
            startup_timeout=self.seconds(body, "startup_timeout", prefix, DEFAULT_STARTUP_TIMEOUT),
        )

    def string_list(self, body: dict[str, Any], key: str, prefix: str) -> list[str]:
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(f"{prefix}.{key}", 'must be an array of strings, e.g. ["--port", "8080"]')
        return list(value)

    def env_table(self, body: dict[str, Any], prefix: str) -> dict[str, str]:
        value = body.get("env", {})
        dotted = f"{prefix}.env"
        # Values are never echoed: they are often tokens.
        if not isinstance(value, dict):
            raise self.fail(dotted, 'must be a table of NAME = "value", e.g. env = { TZ = "UTC" }')
        for var, text in value.items():
            if not _ENV_NAME.fullmatch(var):
                raise self.fail(f"{dotted}.{var}", "is not an environment variable name (letters, digits and _)")
            if not isinstance(text, str):
                raise self.fail(f"{dotted}.{var}", "must be a string")
        return dict(value)

    def server_cwd(self, body: dict[str, Any], prefix: str) -> Path | None:
        text = self.string(body, "cwd", f"{prefix}.cwd")
        if text is None:
            return None
        cwd = Path(text).expanduser()
        return cwd if cwd.is_absolute() else self.path.parent / cwd

    def server_url(self, body: dict[str, Any], prefix: str) -> str | None:
        url = self.string(body, "url", f"{prefix}.url")
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(f"{prefix}.url", 'must be an http:// or https:// URL such as "http://127.0.0.1:8931/mcp"')
        if parts.username or parts.password:
            raise self.fail(f"{prefix}.url", "must not hold a user or password: put a token in headers_env")
        return url

    def headers_env(self, body: dict[str, Any], prefix: str) -> dict[str, str]:
        value = body.get("headers_env", {})
        dotted = f"{prefix}.headers_env"
        if not isinstance(value, dict):
            raise self.fail(dotted, 'must be a table of Header = "ENV_VAR", e.g. { Authorization = "DOCS_TOKEN" }')
        for header, var in value.items():
            if not _HEADER_NAME.fullmatch(header):
                raise self.fail(dotted, "a header name may hold only letters, digits and - (and a few marks)")
            # The value is a variable's name; a pasted token is refused without repeating it.
            if not isinstance(var, str) or not _ENV_NAME.fullmatch(var):
                raise self.fail(
                    f"{dotted}.{header}",
                    'must be the name of an environment variable holding the value (e.g. "DOCS_TOKEN"), '
                    "not the value itself",
                )
        return dict(value)

    def seconds(self, body: dict[str, Any], key: str, prefix: str, default: float) -> float:
        value = body.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise self.fail(f"{prefix}.{key}", "must be a positive number of seconds")
        return float(value)

    def whole(self, raw: dict[str, Any], key: str, default: int, low: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"must be a whole number, {low} or more")
        return value
