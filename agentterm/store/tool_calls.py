"""The store's tool calls: each call an assistant message asked for, its arguments and outcome."""

from __future__ import annotations

from agentterm.models import TOOL_CALL_STATUSES, ToolCall, from_iso
from agentterm.store.connection import StoreConnection


class ToolCallsMixin(StoreConnection):
    """Tool calls: added as the model asks, updated as they are approved, run and answered."""

    def add_tool_call(
        self,
        message_id: int,
        call_id: str,
        index: int,
        name: str,
        server: str = "",
        tool: str = "",
        arguments: str = "",
        status: str = "pending",
    ) -> ToolCall:
        """Record a call the assistant message `message_id` asked for.

        It is also the message's heartbeat, and a retry's first tool call makes its variant
        the one shown (see variants.py).
        """
        _check_status(status)
        for label, value in (("call_id", call_id), ("name", name), ("server", server),
                             ("tool", tool), ("arguments", arguments)):
            if not isinstance(value, str):
                raise ValueError(f"{label} must be text")
        now = self._now_iso()
        with self._write():
            message = self._message_row(message_id)
            row = {
                "message_id": message_id,
                "call_id": call_id,
                "call_index": int(index),
                "name": name,
                "server": server,
                "tool": tool,
                "arguments": arguments,
                "status": status,
                "created_at": now,
                "started_at": now if status == "running" else None,
            }
            call_id = self._insert("tool_calls", row)
            if message["status"] == "streaming":
                self._run("UPDATE messages SET heartbeat_at = ? WHERE id = ?", [now, message_id])
                if message["superseded"]:
                    self._select_variant(message["reply_to"], message["variant"])
        return self._require_tool_call(call_id)

    def update_tool_call(
        self,
        id: int,
        *,
        status: str | None = None,
        result: str | None = None,
        error: str | None = None,
        reason: str | None = None,
        arguments: str | None = None,
        started: bool = False,
        ended: bool = False,
    ) -> ToolCall:
        """Change the given fields (None leaves one as it is); started/ended stamp the time now.

        Also the heartbeat of the message that asked, while it streams.
        """
        if status is not None:
            _check_status(status)
        changes = {"status": status, "result": result, "error": error, "reason": reason,
                   "arguments": arguments}
        changes = {key: value for key, value in changes.items() if value is not None}
        for key, value in changes.items():
            if not isinstance(value, str):
                raise ValueError(f"{key} must be text")
        now = self._now_iso()
        if started:
            changes["started_at"] = now
        if ended:
            changes["ended_at"] = now
        with self._write():
            row = self._one("SELECT message_id FROM tool_calls WHERE id = ?", [id])
            if row is None:
                self._gone_call(id)
            if changes:
                assignments = ", ".join(f"{key} = ?" for key in changes)
                self._run(f"UPDATE tool_calls SET {assignments} WHERE id = ?",
                          [*changes.values(), id])
            self._run(
                "UPDATE messages SET heartbeat_at = ? WHERE id = ? AND status = 'streaming'",
                [now, row["message_id"]],
            )
        return self._require_tool_call(id)

    def get_tool_call(self, id: int) -> ToolCall | None:
        row = self._one("SELECT * FROM tool_calls WHERE id = ?", [id])
        return tool_call(row) if row else None

    def _require_tool_call(self, id: int) -> ToolCall:
        call = self.get_tool_call(id)
        if call is None:
            self._gone_call(id)
        return call

    def _gone_call(self, id: int) -> None:
        from agentterm.store.errors import GoneError

        raise GoneError(
            f"There is no tool call with id {id}: its message was deleted, or its conversation "
            "was (perhaps by another agentterm), so nothing more can be saved to it."
        )


def tool_call(row: dict) -> ToolCall:
    return ToolCall(
        id=row["id"],
        message_id=row["message_id"],
        call_id=row["call_id"],
        index=row["call_index"],
        name=row["name"],
        server=row["server"],
        tool=row["tool"],
        arguments=row["arguments"],
        status=row["status"],
        result=row["result"],
        error=row["error"],
        reason=row["reason"],
        started_at=from_iso(row["started_at"]),
        ended_at=from_iso(row["ended_at"]),
    )


def _check_status(status: str) -> None:
    if status not in TOOL_CALL_STATUSES:
        raise ValueError(
            f"status must be one of {', '.join(TOOL_CALL_STATUSES)}, not {status!r}"
        )
