"""The new-conversation prompt's draft, kept across runs: a small JSON file in the state dir,
one text per store (the store's name as the recent-stores list shows it). The other drafts live
in their conversation's row; this one has no row until its first send makes the conversation.
A conversation's draft that its store would not take at quit (a server away) waits here too,
until the conversation is opened again and the store takes it."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

FILE = "new_drafts.json"
# A draft is for typing, not for storing documents: a longer text is not kept here.
LIMIT = 200_000
KEPT = 20
# Held around a write: the app's writes come from worker threads.
WRITING = threading.Lock()


def _file() -> Path:
    from agentterm.paths import default_state_dir

    return default_state_dir() / FILE


def _all() -> dict[str, str]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _key(target: object, conversation_id: int | None) -> str | None:
    from agentterm.recent_stores import shown_name

    name = shown_name(target)
    if name is None or conversation_id is None:
        return name
    return f"{name}\x00{conversation_id}"  # no store's name holds a NUL


def read_new_draft(target: object, conversation_id: int | None = None) -> str:
    """The text left in the new prompt for this store (or, with an id, the draft of that
    conversation its store would not take); "" when none (or the file is unreadable)."""
    name = _key(target, conversation_id)
    return _all().get(name, "") if name is not None else ""


def unsaved_drafts(target: object) -> dict[int, str]:
    """Every conversation's draft its store would not take, by conversation id: read once a run."""
    name = _key(target, None)
    if name is None:
        return {}
    prefix = f"{name}\x00"
    return {int(key[len(prefix):]): text for key, text in _all().items()
            if key.startswith(prefix) and key[len(prefix):].isdigit()}


def write_new_draft(target: object, text: str, conversation_id: int | None = None) -> None:
    """Keep (or with "" forget) the new prompt's text for this store, or a conversation's draft
    the store would not take. Best effort: a state dir that cannot be written costs the draft's
    copy on disk, never the app; the file is 0600."""
    name = _key(target, conversation_id)
    if name is None or len(text) > LIMIT:
        return
    drafts = _all()
    if drafts.get(name, "") == text:
        return
    drafts.pop(name, None)
    if text:
        drafts[name] = text
    drafts = dict(list(drafts.items())[-KEPT:])
    path = _file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(drafts, out)
        os.replace(temp, path)
    except OSError:
        pass
