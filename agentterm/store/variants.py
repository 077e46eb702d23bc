"""Answer variants: a retry or a regenerate adds a variant of the answer; none is ever deleted."""

from __future__ import annotations

from agentterm.models import Message
from agentterm.store.connection import StoreConnection
from agentterm.store.errors import StoreError


class VariantsMixin(StoreConnection):
    """The variants of the answer to one user message; exactly one of them is the context.

    A retry: `n = new_variant(prompt_id)`, then add the answer's rows with `reply_to=prompt_id,
    variant=n`. They are stored superseded, so the old answer stays the context until the new
    one has its first text, thinking or tool call; then the new one is selected (by the store,
    in the same write) and the old one superseded. A retry that fails before that leaves the
    old answer shown and the failed try browsable.
    """

    def new_variant(self, reply_to: int) -> int:
        """The number for a new variant of the answer to `reply_to` (1 when it has none)."""
        row = self._one("SELECT max(variant) AS n FROM messages WHERE reply_to = ?", [reply_to])
        return (row["n"] or 0) + 1

    def variants(self, reply_to: int) -> list[int]:
        """The variant numbers of the answer to `reply_to`, in order."""
        rows = self._query(
            "SELECT DISTINCT variant FROM messages WHERE reply_to = ? ORDER BY variant",
            [reply_to],
        )
        return [row["variant"] for row in rows]

    def variants_of(self, reply_tos: list[int]) -> dict[int, list[int]]:
        """The variant numbers of each prompt's answer, for the prompts that have more than one:
        one query for a window of messages, through messages_reply_to (no body is read)."""
        if not reply_tos:
            return {}
        wanted = sorted(set(reply_tos))  # a window's prompts: a few dozen placeholders
        rows = self._query(
            f"SELECT reply_to, variant FROM messages WHERE reply_to IN ({', '.join('?' * len(wanted))})"
            " GROUP BY reply_to, variant ORDER BY reply_to, variant",
            wanted,
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row["reply_to"], []).append(row["variant"])
        return {prompt: numbers for prompt, numbers in found.items() if len(numbers) > 1}

    def shown_variant(self, reply_to: int) -> int | None:
        """The variant that is the context, or None when the prompt has no answer yet."""
        return self._shown_variant(reply_to)

    def _shown_variant(self, reply_to: int) -> int | None:
        row = self._one(
            "SELECT variant FROM messages WHERE reply_to = ? AND superseded = 0 LIMIT 1",
            [reply_to],
        )
        return row["variant"] if row else None

    def variant_messages(self, reply_to: int, variant: int) -> list[Message]:
        """The rows of one variant (assistant and tool messages), oldest first."""
        from agentterm.store.messages import message_select

        rows = self._query(
            f"{message_select(self._dialect)} WHERE reply_to = ? AND variant = ? ORDER BY id", [reply_to, variant]
        )
        return self._messages(rows)

    def select_variant(self, reply_to: int, variant: int) -> None:
        """Make `variant` the answer shown and sent from now on; the others are kept."""
        with self._write():
            self._select_variant(reply_to, variant)

    def _select_variant(self, reply_to: int | None, variant: int) -> None:
        if reply_to is None:
            return
        if variant not in self.variants(reply_to):
            raise StoreError(f"Message {reply_to} has no answer variant {variant}.")
        self._run(
            "UPDATE messages SET superseded = CASE WHEN variant = ? THEN 0 ELSE 1 END"
            " WHERE reply_to = ?",
            [variant, reply_to],
        )
