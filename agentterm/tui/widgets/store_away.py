"""Mixed into ChatPane: the status line's word while the store's server is away (a restart, a
network cut) and an answer goes on in memory, and the writes that waited for its return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentterm.tui.widgets.chat_pane import ChatPane

# The status line while the store's server is away: one line.
STORE_AWAY = "store unreachable: the answer goes on here and is saved when it is back"
STORE_UNSAVED = "store unreachable: the answer is kept here and saved when it is back"


class StoreAwayLine:
    store_away: str | None = None
    """The status line's word on a server gone away (STORE_AWAY, STORE_UNSAVED), else None."""
    astore: Any

    def on_chat_pane_store_away_changed(self, event: ChatPane.StoreAwayChanged) -> None:
        self.store_away = None if event.error is None else STORE_UNSAVED if event.unsaved else STORE_AWAY
        if event.error is not None:
            # The status line says it now: a notice of it from a read just before goes (one line).
            self.app.store_away_said()  # type: ignore[attr-defined]
        self.update_status()  # type: ignore[attr-defined]

    async def saved_after_away(self) -> None:
        """The store's watch wrote what waited for the server (retry_pending): the line goes,
        and the conversation is read again (its answer as stored)."""
        self.store_away = None
        self.update_status()  # type: ignore[attr-defined]
        self.refresh_conversation()  # type: ignore[attr-defined]

    def turn_ended_away(self) -> None:
        """A turn ended without saying its end waits for the server (back, or ended by a fault
        that has its own line under the answer): STORE_AWAY goes; STORE_UNSAVED stays until written."""
        if self.store_away == STORE_AWAY:
            self.store_away = None

    async def retry_unsaved(self) -> None:
        """At unmount, one more try for an answer the server was away for (it may be back by
        now): what fails stays as its last flush left it, marked interrupted at the next open."""
        if self.store_away is not None:
            from agentterm.engine import retry_pending

            await retry_pending(self.astore)
