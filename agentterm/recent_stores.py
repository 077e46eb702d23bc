"""The stores opened lately, newest first, for the app's "Open another store": a small JSON file
in the state dir (not the config: the app writes it, the user does not)."""

from __future__ import annotations

import json
import os
from pathlib import Path

KEPT = 10
FILE = "recent_stores.json"


def _file() -> Path:
    from agentterm.paths import default_state_dir

    return default_state_dir() / FILE


def recent_stores() -> list[str]:
    """The stores opened lately, newest first; an unreadable file is an empty list."""
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, str) and item][:KEPT]


def shown_name(target: object) -> str | None:
    """How a store is kept in the list: a file's absolute path, a URL without any password
    (one with a password is not kept at all: the file would hold it); None when not kept."""
    from agentterm.store.target import is_postgres, mask, password_in

    if isinstance(target, str) and is_postgres(target):
        return None if password_in(target) or mask(target) != target else target
    if str(target) == ":memory:":
        return None
    return str(Path(target).expanduser().absolute())


def remember_store(target: object) -> list[str]:
    """Put the store first in the list (written whole, or left as it was); the list now.
    Best effort: a state dir that cannot be written costs the list, never the app."""
    name = shown_name(target)
    stores = recent_stores()
    if name is None:
        return stores
    stores = [name] + [item for item in stores if item != name][: KEPT - 1]
    path = _file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(stores, indent=1) + "\n", encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        pass
    return stores
