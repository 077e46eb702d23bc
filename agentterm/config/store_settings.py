"""The config's `store`: where the store is, and the command that gives its password."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from agentterm.config.settings import KEY_CMD_TIMEOUT, ConfigError, _command_keys, _run_key_command
from agentterm.redact import register_command, scrub


@dataclass
class StoreSettings:
    """`store`: where the store is (a SQLite file or a postgresql:// URL) and its password command."""

    location: str | None = None
    """A file's path (relative: from the config's directory) or a URL; None: the data dir's file."""

    password_cmd: list[str] | str | None = None
    """PostgreSQL only: a command whose first line is the password, run like api_key_cmd."""

    base: Path | None = field(default=None, repr=False)
    """The config file's directory, which a relative `location` is taken from."""

    def __post_init__(self) -> None:
        self.command()  # registered as a secret before anything can print it

    def __repr__(self) -> str:
        cmd = self.command()
        shown_cmd = f"<{scrub(cmd[0])!r} ...>" if cmd else None
        # The checker refuses a location holding a password, so it may be shown as it is.
        shown = scrub(self.location) if self.location else None
        return f"StoreSettings(location={shown!r}, password_cmd={shown_cmd})"

    def command(self) -> list[str]:
        if not self.password_cmd:
            return []
        if isinstance(self.password_cmd, str):
            try:
                argv = shlex.split(self.password_cmd)
            except ValueError:
                argv = [self.password_cmd]
        else:
            argv = [str(part) for part in self.password_cmd]
        register_command(self.password_cmd, argv)
        return argv

    def resolve_password(self, *, timeout: float = KEY_CMD_TIMEOUT) -> str | None:
        """password_cmd's first line (once per process), or None: libpq's own sources then."""
        argv = self.command()
        if not argv:
            return None
        cache_key = ("store.password_cmd", *argv)
        result = _command_keys.get(cache_key)
        if result is None:
            try:
                result = _run_key_command("", argv, timeout, key="store",
                                          option="password_cmd", what="the password")
            except ConfigError as error:
                result = error
            _command_keys[cache_key] = result
        if isinstance(result, ConfigError):
            raise ConfigError(result.message, key=result.key) from None
        return result
