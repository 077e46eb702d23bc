"""Where the config and the store live: platformdirs, overridden by flag, then by environment."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "agentterm"
DB_ENV = "AGENTTERM_DB"
CONFIG_ENV = "AGENTTERM_CONFIG"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "agentterm.db"


def default_log_dir() -> Path:
    """Where logs go (an MCP server's stderr, say): `logs` in the platform's data dir."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "logs"


def default_state_dir() -> Path:
    """What the app remembers between runs that is neither config nor data (the recent stores):
    the platform's state dir (~/.local/state/agentterm on Linux)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def resolve_db_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """The store's path: the --db flag, else $AGENTTERM_DB, else the platform's data dir."""
    chosen = flag or os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else default_db_path()


def resolve_store(flag: str | os.PathLike[str] | None = None, configured=None):
    """The store: --db, else $AGENTTERM_DB, else the config's `store`, else the data dir's file.

    A file's Path or a postgresql:// URL (agentterm.store.target); `configured` is the
    settings' StoreSettings, whose relative path is taken from the config's directory.
    """
    from agentterm.store.target import parse_target

    chosen = flag or os.environ.get(DB_ENV)
    if chosen:
        return parse_target(chosen)
    if configured is not None and configured.location:
        return parse_target(configured.location, base=configured.base)
    return default_db_path()


def resolve_config_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """The config's path: the --config flag, else $AGENTTERM_CONFIG, else the platform's config dir."""
    chosen = flag or os.environ.get(CONFIG_ENV)
    return Path(chosen).expanduser() if chosen else default_config_path()
