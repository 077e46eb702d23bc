"""What every subcommand shares: the settings, store and client, opened once and lazily."""

from __future__ import annotations

import argparse
import json
import sys
from functools import cached_property
from typing import Any


class CliError(Exception):
    """A failure the command line reports as one line, with what to do about it."""

    def __init__(self, message: str, hint: str = "", code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


def fail(message: str, hint: str = "", code: int = 1) -> int:
    from agentterm.sanitize import one_line

    line = f"agentterm: error: {one_line(message)}"
    if hint:
        line += f" {one_line(hint)}"
    print(line, file=sys.stderr)
    return code


def warn(message: str) -> None:
    """A line on stderr about something skipped or changed, when the command still did its job."""
    from agentterm.sanitize import one_line

    print(f"agentterm: warning: {one_line(message)}", file=sys.stderr)


def out(text: str = "", end: str = "\n") -> None:
    """Print untrusted text: no escape sequence from a model or a file reaches the terminal."""
    from agentterm.sanitize import for_terminal

    sys.stdout.write(for_terminal(text) + end)


def out_json(data: Any) -> None:
    # json.dumps escapes every control character, so this is safe for the terminal as it is.
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._opened: list[Any] = []

    @cached_property
    def config_path(self):
        from agentterm.paths import resolve_config_path

        return resolve_config_path(getattr(self.args, "config", None))

    @cached_property
    def db_path(self):
        """The store: a SQLite file's Path or a postgresql:// URL (shown only through `shown_db`)."""
        import os

        from agentterm.paths import DB_ENV, resolve_store

        flag = getattr(self.args, "db", None)
        # The config is read only when neither the flag nor the environment names the store.
        configured = None if flag or os.environ.get(DB_ENV) else self.settings.store
        return resolve_store(flag, configured)

    @property
    def shown_db(self) -> str:
        from agentterm.store.target import mask

        return mask(self.db_path)

    @cached_property
    def settings(self):
        from agentterm.config import load_settings

        # A config named by flag must exist; the default location may be absent (defaults apply).
        return load_settings(self.config_path, required=bool(getattr(self.args, "config", None)))

    @cached_property
    def store(self):
        from agentterm.store.opening import open_store
        from agentterm.store.target import is_postgres

        target = self.db_path
        # password_cmd is run only for a server that needs a password; None: libpq's own sources.
        password = self.settings.store.resolve_password() if is_postgres(target) else None
        store = open_store(target, password=password)
        if is_postgres(target) and not self.settings.user:
            # Under row-level security the rows are the role's: the local user is that role.
            from agentterm.store.row_security import member_name

            self.settings.user = member_name(store)
        self._opened.append(store)
        return store

    @cached_property
    def client(self):
        from agentterm.llm import LLMClient

        return LLMClient(self.settings)

    def close(self) -> None:
        for store in self._opened:
            store.close()
        self._opened.clear()

    def scrub(self, text: str) -> str:
        """Remove any API key the settings can resolve from text about to be shown."""
        if "settings" not in self.__dict__:
            return text
        for provider in self.settings.providers.values():
            try:
                key = provider.resolve_api_key()
            except Exception:  # noqa: BLE001 - a broken key command has nothing to scrub
                continue
            if key:
                text = text.replace(key, "[key hidden]")
        from agentterm.redact import scrub  # api_key_cmd values and outputs too (issue 8.12)

        return scrub(text)

    def explain(self, error: Exception) -> tuple[str, str, int] | None:
        """Our own error types, as (message, hint, exit code); None for anything else."""
        from agentterm.config import ConfigError
        from agentterm.engine import EngineError
        from agentterm.store import StoreError

        if isinstance(error, ConfigError):
            return str(error), "", 2
        if isinstance(error, StoreError):
            return str(error), "", 1
        if isinstance(error, EngineError):
            return error.message, error.hint, 1
        if type(error).__module__.startswith("agentterm.llm"):
            return self.scrub(getattr(error, "message", str(error))), self.scrub(getattr(error, "hint", "")), 1
        if type(error).__name__ == "AgentFileError":
            return str(error), "", 1
        return None
