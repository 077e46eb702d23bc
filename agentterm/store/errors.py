"""The store's errors, each worded for the user: which file, what happened, what to do."""

from __future__ import annotations


class StoreError(Exception):
    """A fault in the store, worded for the user: which file, what happened, what to do."""


class ValidationError(StoreError):
    """Agent fields that cannot be saved; `errors` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        reasons = "; ".join(f"{field} {reason}" for field, reason in errors.items())
        super().__init__(f"The agent cannot be saved: {reasons}.")
