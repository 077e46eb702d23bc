"""Forking a conversation: a new one holding the context up to a message, linked to its parent."""

from __future__ import annotations

from agentterm.models import Conversation
from agentterm.store.connection import StoreConnection, now_iso
from agentterm.store.errors import StoreError
from agentterm.store.validation import clean_title

# The copied context, numbered 1, 2, ... in id order; `last_user` numbers the prompt each row
# answers (the user message before it), so copies can point at the copied prompt.
_NUMBERED = """
    SELECT m.*, max(CASE WHEN m.role = 'user' THEN m.n END)
                    OVER (ORDER BY m.id ROWS UNBOUNDED PRECEDING) AS last_user
      FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM messages
             WHERE conversation_id = :cid AND superseded = 0 AND id <= :at) m
"""
_COPIED = (
    "role, content, status, tool_call_id, tool_name, extra, model, agent_version,"
    " prompt_tokens, completion_tokens, created_at, edited_at, thinking"
)
_OPEN = "('pending', 'approval', 'running')"


class ForksMixin(StoreConnection):
    """A fork copies the shown context with INSERT ... SELECT: 10,000 messages in one statement."""

    def fork_conversation(self, cid: int, at_message_id: int) -> Conversation:
        """A new conversation holding `cid`'s context up to and including `at_message_id`.

        It keeps the agent, its overrides and tags, is titled "<title> (fork)", and records
        `parent_id` and `forked_from_message_id`. Only the variants shown are copied, each as
        its prompt's only answer; a copy of an answer still streaming is interrupted.
        """
        now = now_iso()
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
            new = self._run(
                "INSERT INTO conversations (title, title_source, agent_id, agent_name, created_at,"
                " last_activity_at, parent_id, forked_from_message_id, model, provider,"
                " instructions_override) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [title, "auto" if title else None, source.agent_id, source.agent_name, now, now,
                 cid, at_message_id, source.model, source.provider,
                 source.instructions_override],
            ).lastrowid
            base = self._one("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")
            base = base["seq"] if base else 0
            params = {"cid": cid, "at": at_message_id, "new": new, "base": base}
            # Rows inserted in order under the write lock take ids base+1, base+2 ... (checked
            # below), so row n's copy is base+n, and its prompt's copy base+last_user.
            self._run(
                f"INSERT INTO messages (conversation_id, {_COPIED}, reply_to, variant, superseded)"
                f" SELECT :new, role, content,"
                f" CASE status WHEN 'streaming' THEN 'interrupted' ELSE status END,"
                f" tool_call_id, tool_name, extra, model, agent_version, prompt_tokens,"
                f" completion_tokens, created_at, edited_at, thinking,"
                f" CASE WHEN role IN ('assistant', 'tool') AND last_user IS NOT NULL"
                f" THEN :base + last_user END, 1, 0"
                f" FROM ({_NUMBERED}) ORDER BY id",
                params,
            )
            check = self._one(
                "SELECT min(id) AS first, max(id) AS last, count(*) AS n FROM messages"
                " WHERE conversation_id = ?",
                [new],
            )
            if check["n"] and (check["first"] != base + 1 or check["last"] != base + check["n"]):
                raise StoreError("The fork could not number its messages; nothing was forked.")
            self._run(
                "INSERT INTO tool_calls (message_id, call_id, call_index, name, server, tool,"
                " arguments, status, result, error, reason, created_at, started_at, ended_at)"
                f" SELECT :base + src.n, t.call_id, t.call_index, t.name, t.server, t.tool,"
                f" t.arguments, CASE WHEN t.status IN {_OPEN} THEN 'interrupted' ELSE t.status END,"
                " t.result, t.error, t.reason, t.created_at, t.started_at, t.ended_at"
                f" FROM ({_NUMBERED}) src JOIN tool_calls t ON t.message_id = src.id"
                " ORDER BY t.id",
                params,
            )
            self.set_tags(new, source.tags)
        return self._require_conversation(new)
