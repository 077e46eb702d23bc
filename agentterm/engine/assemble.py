"""Streamed tool-call pieces merged into whole calls, by index and by id."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PendingCall:
    """A call as it streams in: its order, the model's id and name, its arguments so far."""

    order: int
    index: int | None
    call_id: str  # the model's id, or one made up when the server sent none
    given_id: str | None
    name: str | None
    parts: list[str] = field(default_factory=list)

    @property
    def arguments(self) -> str:
        return "".join(self.parts)


class ToolCallAssembler:
    """Merges ToolCallDelta pieces: the first names the call, later ones (same index or id) extend it.

    Servers differ: most send the id and name once and then only the index; some repeat the
    id on every piece; some reuse index 0 for every call with a new id each time. A piece with
    an id never seen starts a new call even at a used index; a piece without one extends the
    latest call at its index.
    """

    def __init__(self) -> None:
        self.calls: list[PendingCall] = []
        self._by_id: dict[str, PendingCall] = {}
        self._by_index: dict[int | None, PendingCall] = {}
        self._taken: set[str] = set()

    def add(self, piece: Any) -> tuple[PendingCall, bool]:
        """Merge one piece; returns the call it belongs to and whether it started a new one."""
        given = piece.id or None
        index = piece.index
        call = self._by_id.get(given) if given else None
        if call is None:
            latest = self._by_index.get(index)
            if latest is not None and (given is None or latest.given_id in (None, given)):
                call = latest
        started = call is None
        if call is None:
            call_id = given if given and given not in self._taken else _new_id(self._taken)
            call = PendingCall(order=len(self.calls), index=index, call_id=call_id, given_id=given,
                               name=None)
            self._taken.add(call_id)
            self.calls.append(call)
        if given and call.given_id is None:
            call.given_id = given
        if given:
            self._by_id[given] = call
        self._by_index[index] = call
        if piece.name and not call.name:
            call.name = piece.name
        if piece.arguments:
            call.parts.append(piece.arguments)
        return call, started

    def finish(self) -> list[PendingCall]:
        """The calls, in the order they started."""
        return list(self.calls)


def _new_id(taken: set[str]) -> str:
    while True:
        made = f"call_{secrets.token_hex(6)}"
        if made not in taken:
            return made
