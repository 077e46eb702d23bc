"""The store's messages: appended, updated while streaming (with a heartbeat), paged, recovered."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from agentterm.models import (
    MESSAGE_STATUSES,
    ROLES,
    STALE_AFTER,
    TOOL_CALL_OPEN,
    Message,
    from_iso,
    to_iso,
)
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import GoneError
from agentterm.store.port import Dialect
from agentterm.store.tool_calls import tool_call

# The context: the rows shown and sent. Matches the partial index messages_context term for term.
CONTEXT = "conversation_id = ? AND superseded = 0"
# The columns by name: PostgreSQL's rows also hold their search vector, never read back.
_MESSAGE_COLUMNS = ", ".join(f"m.{column}" for column in (
    "id", "conversation_id", "role", "content", "status", "tool_call_id", "tool_name", "extra",
    "model", "agent_version", "prompt_tokens", "completion_tokens", "created_at", "edited_at",
    "stream_owner", "thinking", "heartbeat_at", "reply_to", "variant", "superseded",
))  # fmt: skip
_CALL_FIELDS = """
        'id', t.id, 'message_id', t.message_id, 'call_id', t.call_id,
        'call_index', t.call_index, 'name', t.name, 'server', t.server, 'tool', t.tool,
        'arguments', t.arguments, 'status', t.status, 'result', t.result, 'error', t.error,
        'reason', t.reason, 'started_at', t.started_at, 'ended_at', t.ended_at"""


@cache
def message_select(dialect: Dialect) -> str:
    """A message row with its tool calls as a JSON array, so a window is one statement: each
    assistant row costs one seek in tool_calls_message, and other rows none."""
    return f"""SELECT {_MESSAGE_COLUMNS}, CASE WHEN m.role = 'assistant' THEN (
    SELECT {dialect.array(dialect.object(_CALL_FIELDS))}
      FROM (SELECT * FROM tool_calls t WHERE t.message_id = m.id ORDER BY t.call_index, t.id) t
    ) END AS tool_calls_json FROM messages m"""


_OPEN_CALLS = ", ".join(f"'{status}'" for status in TOOL_CALL_OPEN)


class MessagesMixin(StoreConnection):
    """Messages: written and read in windows; answers whose writer went quiet recovered."""

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
        thinking: str = "",
        reply_to: int | None = None,
        variant: int | None = None,
    ) -> Message:
        """Append a message and mark the conversation active now.

        An answer (assistant or tool) answers `reply_to`, by default the last user message,
        as `variant`, by default the variant shown for it (1 for a first answer). A variant
        other than the one shown (a retry, from `new_variant`) is stored superseded, and
        becomes the one shown at its first text, thinking or tool call (see variants.py).
        """
        _check_message(role=role, status=status, content=content, extra=extra)
        _check_text("thinking", thinking)
        now = self._now_iso()
        with self._write():
            self._touch_conversation(cid, now)
            superseded = 0
            if role in ("assistant", "tool"):
                if reply_to is None:
                    reply_to = self._last_prompt_id(cid)
                if reply_to is not None:
                    shown = self._shown_variant(reply_to)
                    if variant is None:
                        variant = shown or 1
                    superseded = int(shown is not None and variant != shown)
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
                "thinking": thinking,
                "heartbeat_at": now if status == "streaming" else None,
                "reply_to": reply_to,
                "variant": variant or 1,
                "superseded": superseded,
            }
            mid = self._insert("messages", row)
        return self._require_message(mid)

    def _touch_conversation(self, cid: int, now: str) -> None:
        changed = self._run(
            "UPDATE conversations SET last_activity_at = ? WHERE id = ?", [now, cid]
        )
        if changed == 0:
            raise GoneError(
                f"There is no conversation with id {cid}: it was deleted (perhaps by another "
                "agentterm), so nothing more can be saved in it.",
                conversation_id=cid,
            )

    def _last_prompt_id(self, cid: int) -> int | None:
        row = self._one(
            f"SELECT id FROM messages WHERE {CONTEXT} AND role = 'user' ORDER BY id DESC LIMIT 1",
            [cid],
        )
        return row["id"] if row else None

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
        thinking: str | None = None,
        edited: bool = False,
    ) -> Message:
        """Change the given fields (None leaves one as it is).

        Any update of a streaming row is also its heartbeat. A status change or an edit counts
        as activity in the conversation; a streaming flush does not, so it stays one small write.
        """
        _check_message(status=status, content=content, extra=extra)
        if thinking is not None:
            _check_text("thinking", thinking)
        changes: dict[str, Any] = {
            "content": content,
            "status": status,
            "extra": None if extra is None else json.dumps(extra),
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "thinking": thinking,
        }
        changes = {key: value for key, value in changes.items() if value is not None}
        now = self._now_iso()
        if edited:
            changes["edited_at"] = now
        with self._write():
            row = self._message_row(mid)
            streaming = (status or row["status"]) == "streaming"
            changes["heartbeat_at"] = now if streaming else None
            if status is not None and status != "streaming":
                changes["stream_owner"] = None
            assignments = ", ".join(f"{key} = ?" for key in changes)
            self._run(f"UPDATE messages SET {assignments} WHERE id = ?", [*changes.values(), mid])
            if row["superseded"] and row["status"] == "streaming" and (content or thinking):
                self._select_variant(row["reply_to"], row["variant"])
            if status is not None or edited:
                self._run(
                    "UPDATE conversations SET last_activity_at = ? WHERE id = ?",
                    [now, row["conversation_id"]],
                )
        return self._require_message(mid)

    def heartbeat(self, mid: int) -> None:
        """The writer of a streaming answer is alive (see STALE_AFTER); no-op once it ended."""
        with self._write():
            self._message_row(mid)
            self._run(
                "UPDATE messages SET heartbeat_at = ? WHERE id = ? AND status = 'streaming'",
                [self._now_iso(), mid],
            )

    def _message_row(self, mid: int) -> dict:
        """The row's bookkeeping columns; GoneError when it is not there (any more)."""
        row = self._one(
            "SELECT conversation_id, status, reply_to, variant, superseded FROM messages"
            " WHERE id = ?",
            [mid],
        )
        if row is None:
            raise GoneError(
                f"There is no message with id {mid}: it was deleted, or its conversation was "
                "(perhaps by another agentterm), so nothing more can be saved to it.",
                message_id=mid,
            )
        return row

    def delete_message(self, mid: int) -> None:
        """Delete one message (with its tool calls). Deleting the last row of the answer shown
        shows the newest other variant of it, if there is one."""
        with self._write():
            row = self._one("SELECT reply_to, variant, superseded FROM messages WHERE id = ?", [mid])
            if row is None:
                raise GoneError(f"There is no message with id {mid}.", message_id=mid)
            self._run("DELETE FROM messages WHERE id = ?", [mid])
            if row["reply_to"] is not None and not row["superseded"]:
                if self._shown_variant(row["reply_to"]) is None:
                    others = self.variants(row["reply_to"])
                    if others:
                        self._select_variant(row["reply_to"], others[-1])

    def get_message(self, mid: int) -> Message | None:
        rows = self._query(f"{message_select(self._dialect)} WHERE id = ?", [mid])
        return _message(rows[0]) if rows else None

    def _require_message(self, mid: int) -> Message:
        message = self.get_message(mid)
        if message is None:
            raise GoneError(f"There is no message with id {mid}.", message_id=mid)
        return message

    def count_messages(self, cid: int) -> int:
        row = self._one("SELECT message_count FROM conversations WHERE id = ?", [cid])
        return row["message_count"] if row else 0

    def latest_messages(self, cid: int, n: int = 50) -> list[Message]:
        """The newest n messages of the context, oldest first: a walk down messages_context."""
        rows = self._query(
            f"{message_select(self._dialect)} WHERE {CONTEXT} ORDER BY id DESC LIMIT ?", [cid, n]
        )
        return self._messages(rows[::-1])

    def messages_before(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """The n context messages before message_id, oldest first: the next page up."""
        rows = self._query(
            f"{message_select(self._dialect)} WHERE {CONTEXT} AND id < ? ORDER BY id DESC LIMIT ?",
            [cid, message_id, n],
        )
        return self._messages(rows[::-1])

    def messages_around(self, cid: int, message_id: int, n: int = 50) -> list[Message]:
        """About n context messages with message_id in the middle, oldest first (a search jump)."""
        before = self._query(
            f"{message_select(self._dialect)} WHERE {CONTEXT} AND id < ? ORDER BY id DESC LIMIT ?",
            [cid, message_id, n // 2],
        )
        after = self._query(
            f"{message_select(self._dialect)} WHERE {CONTEXT} AND id >= ? ORDER BY id LIMIT ?",
            [cid, message_id, max(n - len(before), 1)],
        )
        return self._messages(before[::-1] + after)

    def all_messages(self, cid: int) -> list[Message]:
        """The whole context, oldest first (superseded variants left out)."""
        return self._messages(
            self._query(f"{message_select(self._dialect)} WHERE {CONTEXT} ORDER BY id", [cid])
        )

    def _messages(self, rows: list[dict]) -> list[Message]:
        return [_message(row) for row in rows]

    def live_answer(self, cid: int) -> int | None:
        """The id of an answer in `cid` still streaming whose writer is alive (its heartbeat is
        fresh, see STALE_AFTER): this process's or another agentterm's. None when there is none."""
        row = self._one(
            "SELECT id FROM messages WHERE status = 'streaming' AND conversation_id = ?"
            " AND heartbeat_at >= ? ORDER BY id DESC LIMIT 1",
            [cid, to_iso(self._now() - STALE_AFTER)],
        )
        return row["id"] if row else None

    def recover_interrupted(self) -> int:
        """Mark answers whose writer is dead (no heartbeat for STALE_AFTER) interrupted.

        The heartbeat is the only rule: an answer another process streams right now beats at
        least every half second, wherever that process runs. Tool calls still pending, awaiting
        approval or running are interrupted with their answer, or whenever their answer is not
        a live stream. Returns the number of answers marked.
        """
        now = self._now()
        cutoff, ended = to_iso(now - STALE_AFTER), to_iso(now)
        with self._write():
            dead = self._run(
                "UPDATE messages SET status = 'interrupted', heartbeat_at = NULL,"
                " stream_owner = NULL WHERE status = 'streaming'"
                " AND (heartbeat_at IS NULL OR heartbeat_at < ?)",
                [cutoff],
            )
            self._run(
                f"UPDATE tool_calls SET status = 'interrupted', ended_at = coalesce(ended_at, ?)"
                f" WHERE status IN ({_OPEN_CALLS}) AND message_id NOT IN"
                f" (SELECT id FROM messages WHERE status = 'streaming')",
                [ended],
            )
        return dead


def _message(row: dict) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        extra=_json_object(row["extra"]),
        model=row["model"],
        agent_version=row["agent_version"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=from_iso(row["created_at"]),
        edited_at=from_iso(row["edited_at"]),
        thinking=row["thinking"],
        heartbeat_at=from_iso(row["heartbeat_at"]),
        reply_to=row["reply_to"],
        variant=row["variant"],
        superseded=bool(row["superseded"]),
        tool_calls=_tool_calls(row["tool_calls_json"]),
    )


# A long conversation is mostly empty extras and assistant rows without calls: skip parsing those.
def _json_object(text: str | None) -> dict[str, Any]:
    return {} if not text or text == "{}" else json.loads(text)


def _tool_calls(text: str | None) -> list:
    return [] if not text or text == "[]" else [tool_call(call) for call in json.loads(text)]


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")


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
