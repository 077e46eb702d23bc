"""Helpers for the store tests: moving a conversation's last activity into the past."""

from __future__ import annotations

from datetime import timedelta

from agentterm.models import to_iso, utcnow
from agentterm.store import Store


def age(store: Store, cid: int, **delta: float) -> None:
    """Move a conversation's last activity into the past."""
    moment = to_iso(utcnow() - timedelta(**delta))
    store.db.execute("UPDATE conversations SET last_activity_at = ? WHERE id = ?", [moment, cid])


def stale(store: Store, mid: int, seconds: float = 11) -> None:
    """Move a streaming answer's heartbeat into the past, as if its writer died that long ago."""
    moment = to_iso(utcnow() - timedelta(seconds=seconds))
    store.db.execute("UPDATE messages SET heartbeat_at = ? WHERE id = ?", [moment, mid])
