"""The store's messages: appended, updated while streaming, paged, and recovered after a crash."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from agentterm.models import MESSAGE_STATUSES, ROLES, Message, from_iso
from agentterm.store.connection import StoreConnection, insert_sql, now_iso
from agentterm.store.errors import StoreError


class MessagesMixin(StoreConnection):
    """Messages: written and read in windows; answers left streaming by a dead process recovered."""

    def add_message(
        self,
        cid: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        agent_version: int | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        extra: dict[str, Any] | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> Message:
        """Append a message and mark the conversation active now."""
        _check_message(role=role, status=status, content=content, extra=extra)
        now = now_iso()
        with self._write():
            self._update_conversation(cid, "last_activity_at = ?", [now])
            row = {
                "conversation_id": cid,
                "role": role,
                "content": content,
                "status": status,
                "tool_call_id": tool_call_id,
                "tool_name": tool_name,
                "extra": json.dumps(extra or {}),
                "model": model,
                "agent_version": agent_version,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "created_at": now,
                "stream_owner": _stream_owner() if status == "streaming" else None,
            }
            cursor = self._run(insert_sql("messages", row), list(row.values()))
        return self._require_message(cursor.lastrowid)

    def update_message(
        self,
        mid: int,
        *,
        content: str | None = None,
        status: str | None = None,
        extra: dict[str, Any] | None = None,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        edited: bool = False,
    ) -> Message:
        """Change the given fields (None leaves one as it is).

        A status change or an edit counts as activity in the conversation; a streaming flush
        (content only) does not, so it stays one small write.
        """
        _check_message(status=status, content=content, extra=extra)
        changes: dict[str, Any] = {
            "content": content,
            "status": status,
            "extra": None if extra is None else json.dumps(extra),
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
        changes = {key: value for key, value in changes.items() if value is not None}
        if status is not None:
            changes["stream_owner"] = _stream_owner() if status == "streaming" else None
        now = now_iso()
        if edited:
            changes["edited_at"] = now
        with self._write():
            row = self._one("SELECT conversation_id FROM messages WHERE id = ?", [mid])
            if row is None:
                raise StoreError(f"There is no message with id {mid}.")
            if changes:
                assignments = ", ".join(f"{key} = ?" for key in changes)
                self._run(
                    f"UPDATE messages SET {assignments} WHERE id = ?", [*changes.values(), mid]
                )
            if status is not None or edited:
                self._run(
                    "UPDATE conversations SET last_activity_at = ? WHERE id = ?",
                    [now, row["conversation_id"]],
                )
        return self._require_message(mid)

    def delete_message(self, mid: int) -> None:
        with self._write():
            if self._run("DELETE FROM messages WHERE id = ?", [mid]).rowcount == 0:
                raise StoreError(f"There is no message with id {mid}.")

    def get_message(self, mid: int) -> Message | None:
        row = self._one("SELECT * FROM messages WHERE id = ?", [mid])
        return _message(row) if row else None

    def _require_message(self, mid: int) -> Message:
        message = self.get_message(mid)
        if message is None:
            raise StoreError(f"There is no message with id {mid}.")
        return message

    def count_messages(self, cid: int) -> int:
        row = self._one("SELECT message_count FROM conversations WHERE id = ?", [cid])
        return row["message_count"] if row else 0

    def latest_messages(self, cid: int, n: int = 50) -> list[Message]:
        """The newest n messages, oldest first: a walk down the (conversation_id, id) index."""
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?", [cid, n]
        )
        return [_message(row) for row in reversed(rows)]

    def messages_before(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """The n messages before message_id, oldest first: the next page up."""
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            [cid, message_id, n],
        )
        return [_message(row) for row in reversed(rows)]

    def messages_around(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """About n messages with message_id in the middle, oldest first (for a search jump)."""
        before = self.messages_before(cid, message_id, n // 2)
        rows = self._query(
            "SELECT * FROM messages WHERE conversation_id = ? AND id >= ? ORDER BY id LIMIT ?",
            [cid, message_id, max(n - len(before), 1)],
        )
        return before + [_message(row) for row in rows]

    def all_messages(self, cid: int) -> list[Message]:
        rows = self._query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", [cid])
        return [_message(row) for row in rows]

    def recover_interrupted(self) -> int:
        """Mark answers left streaming by a process that is gone (a crash, a kill) interrupted.

        An answer another live process is streaming right now is left alone: its owner is
        recorded while it streams.
        """
        with self._write():
            rows = self._query("SELECT id, stream_owner FROM messages WHERE status = 'streaming'")
            orphans = [row["id"] for row in rows if not _owner_alive(row["stream_owner"])]
            self._conn.executemany(
                "UPDATE messages SET status = 'interrupted', stream_owner = NULL WHERE id = ?",
                [(mid,) for mid in orphans],
            )
        return len(orphans)


def _stream_owner() -> str:
    """Recorded on an answer while this process streams it (see recover_interrupted)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process named "host:pid" still runs; one on another host is presumed to."""
    host, _, pid_text = (owner or "").rpartition(":")
    if not host or not pid_text.isdigit():
        return False
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return False  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, under another user
    except OSError:
        return False
    return True


def _message(row: dict) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        extra=json.loads(row["extra"] or "{}"),
        model=row["model"],
        agent_version=row["agent_version"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=from_iso(row["created_at"]),
        edited_at=from_iso(row["edited_at"]),
    )


def _check_message(
    *, role: str | None = None, status: str | None = None, content: Any = None, extra: Any = None
) -> None:
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if status is not None and status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(MESSAGE_STATUSES)}, not {status!r}")
    if content is not None and not isinstance(content, str):
        raise ValueError("content must be text")
    if extra is not None and not isinstance(extra, dict):
        raise ValueError("extra must be a dict (a JSON object)")
