"""The store's errors, each worded for the user: which file, what happened, what to do."""

from __future__ import annotations


class StoreError(Exception):
    """A fault in the store, worded for the user: which file, what happened, what to do."""


class ValueRefused(StoreError):
    """A value the store cannot hold (a number beyond its integers): the store itself is fine,
    so a writer may try again without that value (the engine keeps an answer's text this way)."""


class StoreUnreachable(StoreError):
    """The store's server cannot be reached now (stopped, restarting, a network cut): the store
    itself is fine, so what was not written can be written once it is back. A writer may keep
    what it has in memory and try again (an answer goes on streaming, engine/answer.py)."""


class ValidationError(StoreError):
    """Agent fields that cannot be saved; `errors` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        reasons = "; ".join(f"{field} {reason}" for field, reason in errors.items())
        super().__init__(f"The agent cannot be saved: {reasons}.")


class GoneError(StoreError):
    """A write to a conversation or message that is no longer there: deleted, perhaps by
    another agentterm (`chats purge`) while this one was writing to it.

    `conversation_id` and `message_id` say what was written to, when known.
    """

    def __init__(self, message: str, *, conversation_id: int | None = None,
                 message_id: int | None = None):
        self.conversation_id = conversation_id
        self.message_id = message_id
        super().__init__(message)
