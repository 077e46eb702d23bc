"""Prompt history: the prompts sent before, for up and down in the prompt (issue 12.5)."""

from __future__ import annotations

import json

from agentterm.store.connection import StoreConnection

# Recalled whole or not at all: a prompt longer than this (a pasted log) is left out of the
# history, so that a few of them cannot make reading it slow or big.
HISTORY_PROMPT_CHARS = 20_000
# A long body is not even read: the typed text of a prompt with attachments is in its extra.
COLUMNS = ("CASE WHEN length(m.content) <= ? THEN m.content ELSE '' END AS content, "
           "CASE WHEN m.edited_at IS NULL THEN m.extra END AS extra")  # an edit: its content is the prompt


class PromptHistoryMixin(StoreConnection):
    def prompt_history(self, conversation_id: int | None, limit: int = 200) -> list[str]:
        """Earlier prompts, newest first: this conversation's, then the other conversations'
        (not those in the trash), each text once, at most `limit` of them.

        A prompt sent with attachments is recalled as it was typed (`@path` and all), not with
        the files' text the model was sent (extra "prompt", see docs/attachments.md).
        """
        limit = max(0, int(limit))
        rows: list[dict] = []
        if conversation_id is not None:
            rows = self._query(
                f"SELECT {COLUMNS} FROM messages m WHERE m.conversation_id = ? AND m.role = 'user' "
                "ORDER BY m.id DESC LIMIT ?",
                [HISTORY_PROMPT_CHARS, conversation_id, limit],
            )
        if len(rows) < limit:
            rows += self._query(
                f"SELECT {COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                # ids start at 1: coalesce(?, 0) is "no conversation" in SQL both backends read
                "WHERE m.role = 'user' AND m.conversation_id <> coalesce(?, 0) AND c.deleted_at IS NULL "
                "ORDER BY m.id DESC LIMIT ?",
                [HISTORY_PROMPT_CHARS, conversation_id, limit],
            )
        seen: set[str] = set()
        prompts: list[str] = []
        for row in rows:
            text = _typed(row)
            if not text.strip() or len(text) > HISTORY_PROMPT_CHARS or text in seen:
                continue
            seen.add(text)
            prompts.append(text)
            if len(prompts) >= limit:
                break
        return prompts


def _typed(row: dict) -> str:
    extra = row.get("extra")
    if extra and '"prompt"' in extra:
        try:
            typed = json.loads(extra).get("prompt")
        except (ValueError, AttributeError):
            typed = None
        if isinstance(typed, str):
            return typed
    return row["content"] or ""
