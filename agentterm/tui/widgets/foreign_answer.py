"""Mixed into ChatPane: an answer another process writes in the open conversation, followed until it ends."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work

from agentterm.models import Message

if TYPE_CHECKING:
    from agentterm.tui.widgets.chat_pane import ChatPane


class ForeignAnswer:
    """A `streaming` row this app is not writing: another agentterm's answer, or a dead writer's."""

    @work(group="foreign-answer", exclusive=True, exit_on_error=False)
    async def _watch_foreign_answer(self, conversation_id: int) -> None:
        """An answer another process writes (or wrote, and died): follow it until it ends.

        Another agentterm's answer grows and finishes here; one whose writer died is marked
        interrupted once its heartbeat is stale (store.STALE_AFTER), and retry is offered.
        """
        pane: Any = self
        def streaming_row(messages: list[Message]) -> Message | None:
            return next((m for m in reversed(messages) if m.status == "streaming"), None)

        shown = streaming_row([view.message for view in pane.chat_view.views])
        for _ in range(3600):  # an hour at most: a writer alive that long is followed no further
            await asyncio.sleep(1.0)
            if not pane._current(conversation_id) or pane.streaming_conversation == conversation_id:
                return
            await pane.astore.recover_interrupted()
            row = await pane.astore.get_message(shown.id) if shown is not None else None
            if row is None or row.status != "streaming" or row.content != shown.content:
                pane.post_message(pane.ForeignAnswerChanged(conversation_id))
                if row is None or row.status != "streaming":
                    return
                shown = row

    async def on_chat_pane_foreign_answer_changed(self, event: ChatPane.ForeignAnswerChanged) -> None:
        pane: Any = self
        cid = event.conversation_id

        def still() -> bool:  # asked again after each read: another open may have come meanwhile
            return pane._current(cid) and pane.streaming_conversation != cid

        if not still():
            return
        conversation = await pane.astore.get_conversation(cid)
        if conversation is None or not still():
            return
        if not await pane.chat_view.shows_as_stored(conversation):
            if not still() or not await pane.chat_view.show(conversation, agent_name=pane._agent_name()):
                return
        if still():
            pane.conversation = conversation  # its title and tokens, as another machine left them
            pane.update_status()
