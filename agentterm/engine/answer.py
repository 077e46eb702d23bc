"""The assistant row being streamed: made at the first piece, flushed and kept alive on a timer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agentterm.engine.writes import StoreFault, guarded, keep_for_later, replaced
from agentterm.models import Message


def _scrub(text: str) -> str:
    from agentterm.llm import scrub

    return scrub(text)


class AnswerWriter:
    """One assistant message of a turn: the text and thinking in memory, on disk every interval.

    The row is created at the first text, thinking or tool-call piece. A timer flushes what is
    new at least every `flush_interval` seconds, and otherwise refreshes the row's heartbeat, so
    a stalled stream, a running tool and an approval wait all read as alive. A write that fails
    is recorded in `fault` and reported through `on_fault` (the turn ends as failed), and the
    text stays in memory. A flush that finds the store's server away (StoreUnreachable: a
    restart, a network cut) is not a fault: `away` holds the error, the answer goes on in
    memory, and the next flush that gets through writes all of it (and `away` is None again).
    """

    def __init__(self, astore: Any, conversation_id: int, *, model: str,
                 agent_version: int | None, flush_interval: float, on_fault: Callable[[StoreFault], None],
                 reply_to: int | None = None, variant: int | None = None, supersede: bool = False,
                 existing: Message | None = None) -> None:
        self.astore = astore
        self.conversation_id = conversation_id
        self.model = model
        self.agent_version = agent_version
        self.flush_interval = flush_interval
        self.on_fault = on_fault
        self.reply_to = reply_to
        self.variant = variant
        self.supersede = supersede
        self.message = existing
        self.prefix = existing.content if existing else ""
        self.thinking_prefix = getattr(existing, "thinking", "") if existing else ""
        self.parts: list[str] = []
        self.thinking_parts: list[str] = []
        self.dirty = False
        self.fault: StoreFault | None = None
        self.away: BaseException | None = None  # the store's server is away: flushes wait for it
        self.closed = False
        self._timer: asyncio.Task[None] | None = None

    @property
    def text(self) -> str:
        return self.prefix + "".join(self.parts)

    @property
    def thinking(self) -> str:
        return self.thinking_prefix + "".join(self.thinking_parts)

    @property
    def shown(self) -> Message | None:
        """The message as the user has seen it, in memory (the row may lag or have failed)."""
        if self.message is None:
            return None
        return replaced(self.message, content=self.text, thinking=self.thinking)

    async def add_text(self, text: str) -> bool:
        """Record text; True when it made the row (the answer started)."""
        self.parts.append(text)
        return await self._touched()

    async def add_thinking(self, text: str) -> bool:
        self.thinking_parts.append(text)
        return await self._touched()

    async def started(self) -> bool:
        """A piece with no text (a tool call's first): the row exists after this."""
        return await self._touched()

    async def _touched(self) -> bool:
        self.dirty = True
        if self.message is not None:
            if self.message.status != "streaming":
                # Continuing a cut answer: it streams again.
                self.message = await self._write(self.astore.update_message, self.message.id,
                                                 status="streaming")
            return False
        fields: dict[str, Any] = {"status": "streaming", "model": self.model,
                                  "agent_version": self.agent_version}
        if self.reply_to is not None:
            fields.update(reply_to=self.reply_to, variant=self.variant)
        fields["thinking"] = _scrub(self.thinking)
        self.message = await self._write(self.astore.add_message, self.conversation_id, "assistant",
                                         _scrub(self.text), **fields)
        self.dirty = False
        if self.supersede:
            # The new answer has begun: only now is the old one put aside.
            await self._write(self.astore.select_variant, self.reply_to, self.variant)
        self._timer = asyncio.create_task(self._tick())
        return True

    async def _write(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await guarded(method, *args, **kwargs)
        except StoreFault as fault:
            self.fault = self.fault or fault
            raise

    async def flush(self) -> None:
        """What is new to the row; the heartbeat alone when nothing is."""
        if self.message is None or self.fault is not None:
            return
        if self.dirty or self.away is not None:
            self.dirty = False
            changes: dict[str, Any] = {"content": _scrub(self.text)}
            if self.thinking_parts:
                changes["thinking"] = _scrub(self.thinking)
            if self.away is not None:
                # Back: a machine that took the silent row for dead sees it stream again.
                changes["status"] = "streaming"
            if not await self._flush_write(self.astore.update_message, self.message.id, **changes):
                self.dirty = True
        else:
            await self._flush_write(self.astore.heartbeat, self.message.id)

    async def _flush_write(self, method: Any, *args: Any, **kwargs: Any) -> bool:
        """One flush; False when the store's server is away (kept for the next flush)."""
        try:
            await guarded(method, *args, **kwargs)
        except StoreFault as fault:
            if not is_unreachable(fault.error):
                self.fault = self.fault or fault
                raise
            self.away = fault.error
            return False
        self.away = None
        return True

    async def _tick(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.flush_interval)
            if self.closed:
                return
            try:
                await self.flush()
            except StoreFault as fault:
                self.on_fault(fault)
                return

    def stop_timer(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()

    def final_changes(self, status: str, *, usage: Any = None, model: str | None = None,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
        merged = dict(self.message.extra) if self.message is not None else {}
        for key in ("error", "hint", "code"):
            merged.pop(key, None)
        merged.update(extra or {})
        changes: dict[str, Any] = {"content": _scrub(self.text), "status": status, "extra": merged,
                                   "model": model or self.model,
                                   "prompt_tokens": getattr(usage, "prompt_tokens", None),
                                   "completion_tokens": getattr(usage, "completion_tokens", None)}
        changes["thinking"] = _scrub(self.thinking)
        return changes

    async def finish(self, status: str, *, usage: Any = None, model: str | None = None,
                     extra: dict[str, Any] | None = None, make_row: bool = False) -> Message | None:
        """The final state, written when the store allows; returns the message as shown.

        With no row yet, `make_row` makes one (an error the user should see under the prompt).
        A write that fails leaves the final state queued (writes.retry_pending) and the shown
        message in memory.
        """
        self.stop_timer()
        changes = self.final_changes(status, usage=usage, model=model, extra=extra)
        if self.message is None:
            if not make_row:
                return None
            fields = {k: v for k, v in changes.items() if k not in ("content", "thinking")}
            if self.reply_to is not None:
                fields.update(reply_to=self.reply_to, variant=self.variant)
            try:
                self.message = await self._write(self.astore.add_message, self.conversation_id,
                                                 "assistant", changes["content"], **fields)
            except StoreFault:
                return None
            return self.message
        if self.fault is None:
            try:
                self.message = await guarded(self.astore.update_message, self.message.id, **changes)
                self.away = None
                return self.message
            except StoreFault as fault:
                if is_unreachable(fault.error):
                    # The server away: the whole answer, in its final state, is written once
                    # it is back (retry_pending); meanwhile it is shown as it ended.
                    self.away = fault.error
                    keep_for_later(self.astore, self.message.id,
                                   {k: v for k, v in changes.items() if v is not None})
                    return replaced(self.message, content=self.text, thinking=self.thinking,
                                    status=status, extra=changes["extra"])
                if not _is_store_error(fault.error):
                    # A value the store refused (a usage number too big): the text matters more.
                    changes.update(prompt_tokens=None, completion_tokens=None, model=self.model)
                    try:
                        self.message = await guarded(self.astore.update_message, self.message.id,
                                                     **changes)
                        return self.message
                    except StoreFault as again:
                        fault = again
                self.fault = fault
        # A full disk still takes a write that needs no new page: the row stops streaming now,
        # holding the text of its last flush, and the rest follows when there is room.
        try:
            await guarded(self.astore.update_message, self.message.id, status=status,
                          extra=changes["extra"])
        except StoreFault:
            pass
        keep_for_later(self.astore, self.message.id,
                       {k: v for k, v in changes.items() if v is not None})
        return replaced(self.message, content=self.text, thinking=self.thinking, status=status,
                        extra=changes["extra"])


def is_unreachable(error: BaseException) -> bool:
    """The store's server is away (a restart, a network cut): the write can wait for it."""
    from agentterm.store import StoreUnreachable

    return isinstance(error, StoreUnreachable)


def _is_store_error(error: BaseException) -> bool:
    """A fault of the store itself (full, locked, gone), not of a value it refused."""
    from agentterm.store import StoreError, ValueRefused

    return isinstance(error, StoreError) and not isinstance(error, ValueRefused)
