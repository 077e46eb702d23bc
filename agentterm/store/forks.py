"""Forking a conversation: a new one holding the context up to a message, linked to its parent."""

from __future__ import annotations

from agentterm.models import Conversation
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import StoreError
from agentterm.store.validation import clean_title

_COPIED = (
    "role, content, status, tool_call_id, tool_name, extra, model, agent_version,"
    " prompt_tokens, completion_tokens, created_at, edited_at, thinking"
)
_CALL_COLUMNS = (
    "call_id, call_index, name, server, tool, arguments, status, result, error, reason,"
    " created_at, started_at, ended_at"
)
_OPEN = ("pending", "approval", "running")
# The copied context: in id order straight off messages_context, no sort.
_CONTEXT = "conversation_id = :cid AND superseded = 0 AND id <= :at"


class ForksMixin(StoreConnection):
    """A fork copies the shown context with INSERT ... SELECT: 10,000 messages in one statement."""

    def fork_conversation(self, cid: int, at_message_id: int) -> Conversation:
        """A new conversation holding `cid`'s context up to and including `at_message_id`.

        It keeps the agent, its overrides and tags, is titled "<title> (fork)", and records
        `parent_id` and `forked_from_message_id`. Only the variants shown are copied, each as
        its prompt's only answer; a copy of an answer still streaming is interrupted.
        """
        now = self._now_iso()
        with self._write():
            source = self._require_conversation(cid)
            row = self._one(
                "SELECT conversation_id, superseded FROM messages WHERE id = ?", [at_message_id]
            )
            if row is None or row["conversation_id"] != cid:
                raise StoreError(f"Conversation {cid} has no message with id {at_message_id}.")
            if row["superseded"]:
                raise StoreError(
                    f"Message {at_message_id} is an answer variant not shown: select it first."
                )
            title = clean_title(f"{source.title} (fork)") if source.title else ""
            new = self._insert("conversations", {
                "title": title, "title_source": "auto" if title else None,
                "agent_id": source.agent_id, "agent_name": source.agent_name,
                "created_at": now, "last_activity_at": now, "parent_id": cid,
                "forked_from_message_id": at_message_id, "model": source.model,
                "provider": source.provider,
                "instructions_override": source.instructions_override,
            })  # fmt: skip
            params = {"cid": cid, "at": at_message_id, "new": new}
            self._run(
                f"INSERT INTO messages (conversation_id, {_COPIED})"
                f" SELECT :new, role, content,"
                f" CASE status WHEN 'streaming' THEN 'interrupted' ELSE status END,"
                f" tool_call_id, tool_name, extra, model, agent_version, prompt_tokens,"
                f" completion_tokens, created_at, edited_at, thinking"
                f" FROM messages WHERE {_CONTEXT} ORDER BY id",
                params,
            )
            # Each copied answer answers the copied prompt before it (as the originals do).
            self._run(
                "UPDATE messages SET reply_to = (SELECT max(u.id) FROM messages u"
                " WHERE u.conversation_id = :new AND u.role = 'user' AND u.id < messages.id)"
                " WHERE conversation_id = :new AND role IN ('assistant', 'tool')",
                params,
            )
            self._copy_tool_calls(params)
            self._copy_context_cut(source.context_from, source.context_cut_at, params)
            self.set_tags(new, source.tags)
        return self._require_conversation(new)

    def _copy_context_cut(self, start: int | None, cut_at: int | None, params: dict) -> None:
        """A fork of a compacted conversation sends what its parent sent: the cut is moved onto
        the copies (the nth copied row is the nth original). A fork made before the cut holds
        only turns that were all sent at that point, so it starts from its first row."""
        if not start or start > params["at"]:
            return
        before = self._one(
            f"SELECT count(*) AS n FROM messages WHERE {_CONTEXT} AND id < :start",
            {**params, "start": start},
        )
        copies = [row["id"] for row in self._query(
            "SELECT id FROM messages WHERE conversation_id = :new ORDER BY id", params)]
        skipped = (before or {}).get("n") or 0
        if skipped >= len(copies):
            return
        copied_cut = max(copies) if (cut_at or 0) >= params["at"] else None
        if copied_cut is None:
            kept = self._one(
                f"SELECT count(*) AS n FROM messages WHERE {_CONTEXT} AND id <= :cut",
                {**params, "cut": cut_at or 0},
            )
            copied_cut = copies[max(0, ((kept or {}).get("n") or 1) - 1)]
        self._update_conversation(  # type: ignore[attr-defined]
            params["new"], "context_from = ?, context_cut_at = ?", [copies[skipped], copied_cut])

    def _copy_tool_calls(self, params: dict) -> None:
        """The copied answers' tool calls, each on the copy of its message (copies were
        inserted in the originals' order, so the nth original maps to the nth copy)."""
        asked = self._query(
            f"SELECT id FROM messages WHERE {_CONTEXT} AND role = 'assistant'"
            " AND EXISTS (SELECT 1 FROM tool_calls t WHERE t.message_id = messages.id)"
            " ORDER BY id",
            params,
        )
        if not asked:
            return
        old = [row["id"] for row in self._query(
            f"SELECT id FROM messages WHERE {_CONTEXT} ORDER BY id", params)]
        copies = [row["id"] for row in self._query(
            "SELECT id FROM messages WHERE conversation_id = :new ORDER BY id", params)]
        copy_of = dict(zip(old, copies, strict=True))
        calls = self._query(
            f"SELECT message_id, {_CALL_COLUMNS} FROM tool_calls WHERE message_id IN"
            f" (SELECT id FROM messages WHERE {_CONTEXT} AND role = 'assistant') ORDER BY id",
            params,
        )
        for call in calls:
            call["message_id"] = copy_of[call["message_id"]]
            if call["status"] in _OPEN:
                call["status"] = "interrupted"
        self._run_many(
            f"INSERT INTO tool_calls (message_id, {_CALL_COLUMNS})"
            f" VALUES ({', '.join('?' * (len(calls[0])))})",
            [list(call.values()) for call in calls],
        )
