"""How big a conversation's context is, read as numbers in SQL, and where it starts.

Nothing here reads a message body into Python: sizes are SQLite's length() of the text and the
token counts the server reported, summed in the query. The engine turns them into tokens
(agentterm/engine/context.py) and decides what fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentterm.store.connection import StoreConnection

# The rows sent: the context (superseded variants are not) from where it starts now.
_SENT = "conversation_id = :cid AND superseded = 0 AND id >= :start"
# A summary of dropped turns (compaction): sent at the head of the context, not at its place.
# Its extra is exactly {"summary": {...}} (engine/fitting.py), matched as text on both backends.
_SUMMARY = """(m.role = 'system' AND m.extra LIKE '{"summary":%')"""
# The conversation's start and cut, the last usage report made since the cut (it measures the
# context up to its answer), and what came after it (everything from the start when none).
_SIZE = """
WITH c AS (SELECT coalesce(context_from, 0) AS start, coalesce(context_cut_at, 0) AS cut
             FROM conversations WHERE id = :cid),
     r AS (SELECT m.id, coalesce(m.prompt_tokens, 0) + coalesce(m.completion_tokens, 0) AS tokens
             FROM messages m, c
            WHERE m.conversation_id = :cid AND m.superseded = 0 AND m.id >= c.start
              AND m.role = 'assistant' AND m.prompt_tokens IS NOT NULL AND m.id > c.cut
            ORDER BY m.id DESC LIMIT 1)
SELECT c.start, r.id AS report_id, r.tokens,
       (SELECT count(*) FROM messages m WHERE m.conversation_id = :cid AND m.superseded = 0
           AND m.id >= c.start) AS n,
       (SELECT coalesce(sum(CHARS), 0) FROM messages m WHERE m.conversation_id = :cid
           AND m.superseded = 0 AND m.id >= c.start AND m.id > coalesce(r.id, -1)) AS chars,
       (SELECT max(m.id) FROM messages m WHERE m.conversation_id = :cid AND m.superseded = 0
           AND m.id >= c.start AND SUMMARY) AS summary_id
  FROM c LEFT JOIN r ON 1 = 1
"""
# What a row weighs in characters: its text, and a tool call's arguments (sent back with it).
_CHARS = """length(m.content) + CASE WHEN m.role = 'assistant' THEN coalesce(
    (SELECT sum(length(t.arguments) + length(t.name)) FROM tool_calls t WHERE t.message_id = m.id), 0)
    ELSE 0 END"""
_SIZE = _SIZE.replace("CHARS", _CHARS).replace("SUMMARY", _SUMMARY)


@dataclass
class ContextSize:
    """The context as the next request would send it, before instructions and the new prompt."""

    start: int
    """The first message id sent (0: from the first)."""
    messages: int
    """How many rows are sent."""
    chars: int
    """Characters of the rows sent after the last usage report (all of them when none counts)."""
    reported: int | None
    """prompt + completion tokens the server reported for the last answer, when that answer saw
    the context as it is now; None when there is no such report (then `chars` is everything)."""
    reported_at: int | None
    """The answer that report belongs to."""
    summary_id: int | None
    """The newest summary (compaction) message in the context, sent at its head."""


@dataclass
class TurnSize:
    """One turn: a prompt and its answers (tool rows included), as sent."""

    first_id: int
    chars: int


class ContextMixin(StoreConnection):
    """Context sizes for the header's meter and the engine's fitting rule, and the cut itself."""

    def context_size(self, cid: int) -> ContextSize:
        """One aggregate statement, a few integers back, whatever the conversation's length."""
        row = self._one(_SIZE, {"cid": cid}) or {}
        reported = row.get("report_id") is not None
        return ContextSize(
            start=row.get("start") or 0, messages=row.get("n") or 0, chars=row.get("chars") or 0,
            reported=row["tokens"] if reported else None,
            reported_at=row["report_id"] if reported else None,
            summary_id=row.get("summary_id"),
        )

    def turn_sizes(self, cid: int) -> list[TurnSize]:
        """The turns sent, oldest first, with their sizes: what the fitting rule drops from.

        A prompt and its answers share `coalesce(reply_to, id)`; rows before the first prompt (an
        import's) make turns of their own.
        """
        row = self._one("SELECT context_from FROM conversations WHERE id = ?", [cid])
        params = {"cid": cid, "start": (row or {}).get("context_from") or 0}
        rows = self._query(
            f"SELECT min(m.id) AS first_id, sum({_CHARS}) AS chars FROM messages m WHERE {_SENT}"
            f" AND NOT {_SUMMARY} GROUP BY coalesce(m.reply_to, m.id) ORDER BY first_id", params)
        return [TurnSize(r["first_id"], r["chars"] or 0) for r in rows]

    def usage_by_model(self, cid: int) -> list[dict]:
        """Tokens billed per model that wrote answers (every try counted): the header's cost."""
        return self._query(
            "SELECT model, coalesce(sum(prompt_tokens), 0) AS prompt,"
            " coalesce(sum(completion_tokens), 0) AS completion FROM messages"
            " WHERE conversation_id = ? AND prompt_tokens IS NOT NULL GROUP BY model", [cid])

    def cut_context(self, cid: int, start: int) -> None:
        """Send the conversation from message `start` on: nothing is deleted, older rows stay shown."""
        with self._write():
            newest = self._one("SELECT max(id) AS id FROM messages WHERE conversation_id = ?", [cid])
            self._update_conversation(  # type: ignore[attr-defined]
                cid, "context_from = ?, context_cut_at = ?", [start, (newest or {}).get("id") or 0])

    def restore_context(self, cid: int) -> None:
        """Send every turn again (undo a drop); a summary made meanwhile stays a message."""
        self._update_conversation(cid, "context_from = NULL, context_cut_at = NULL", [])  # type: ignore[attr-defined]
