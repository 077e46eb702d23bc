"""Mixed into MainScreen: on a shared store (PostgreSQL), what other machines write, seen within 2 s.

Two sources of ticks, one re-read: a LISTEN on a connection of the store's own in a thread
(store/postgres/notify.py: every write to conversations or messages sends a NOTIFY on commit),
and, as the fallback for a pooler that drops LISTEN or a listener reconnecting, every second one
small query (off the event loop) reads a change token: the number of
conversations and the newest activity among them, which every new conversation and message moves.
When it moves, the sidebar is read again, and the open conversation too when it is the one that
changed and this app is not writing its answer; an answer another machine is streaming there is
then followed as it grows (foreign_answer.py). A SQLite file has one machine: no watch there.
"""

from __future__ import annotations

import asyncio
from typing import Any

WATCH_EVERY = 1.0


def change_token(store, conversation_id: int | None) -> tuple:
    row = store._one("SELECT count(*) AS n, max(last_activity_at) AS latest FROM conversations")
    opened = None
    if conversation_id is not None:
        opened = store._one("SELECT message_count, last_activity_at, title FROM conversations WHERE id = ?",
                            [conversation_id])
    return (row["n"], row["latest"]), (tuple(opened.values()) if opened else None)


class StoreWatch:
    _watch_token: Any = None
    _watch_busy = False
    _watch_again = False  # a tick came while the store was being asked: ask once more after
    _listener: Any = None

    def start_store_watch(self) -> None:
        screen: Any = self
        if getattr(screen.app.store, "backend", "sqlite") != "postgres":
            return
        screen.set_interval(WATCH_EVERY, screen._check_store, name="store-watch")
        loop = asyncio.get_running_loop()

        def heard(_payload: str | None) -> None:  # on the listener's thread
            try:
                loop.call_soon_threadsafe(screen.call_later, screen._check_store)
            except RuntimeError:
                pass  # the app's loop is gone: it is exiting

        try:
            self._listener = screen.app.store.listen_changes(heard)
        except Exception:  # noqa: BLE001 - no listener: the poll alone watches
            self._listener = None

    def stop_store_watch(self) -> None:
        if self._listener is not None:
            self._listener.stop()  # never waits: its thread ends on its own within a second
            self._listener = None

    def on_unmount(self) -> None:
        self.stop_store_watch()

    async def _check_store(self) -> None:
        if self._watch_busy:
            self._watch_again = True  # a slow server: one question at a time, the last one kept
            return
        self._watch_busy = True
        try:
            while True:
                self._watch_again = False
                await self._read_store()
                if not self._watch_again:
                    return
        finally:
            self._watch_busy = False

    async def _read_store(self) -> None:
        screen: Any = self
        pane = screen.chat_pane
        if pane.store_away is not None and not pane.streaming:
            from agentterm.engine import retry_pending

            # An answer ended while the server was away: written as soon as it is back.
            if await retry_pending(screen.app.astore):
                await pane.saved_after_away()
        cid = pane.conversation.id if pane.conversation is not None else None
        try:
            token = await screen.app.astore.run(change_token, screen.app.store, cid)
        except Exception:  # noqa: BLE001 - a server gone for a moment: the next tick asks again
            return
        before, self._watch_token = self._watch_token, (cid, token)
        if before is None:
            # What another machine wrote between the sidebar's first read and this one.
            screen.sidebar.refresh_list()
            return
        if before == (cid, token):
            return
        if before[1][0] != token[0]:
            screen.sidebar.refresh_list()
        # A conversation opened since the last tick is read once more: what was written
        # between its opening and this tick.
        if cid is not None and (before[0] != cid or before[1][1] != token[1]) \
                and pane.streaming_conversation != cid:
            pane.post_message(pane.ForeignAnswerChanged(cid))
            if not any(w.group == "foreign-answer" and not w.is_finished for w in screen.app.workers):
                messages = await screen.app.astore.latest_messages(cid, 1)
                if messages and messages[-1].status == "streaming":
                    pane._watch_foreign_answer(cid)
