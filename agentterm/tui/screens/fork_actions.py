"""Forking from the app: a message's "fork here", and an earlier prompt edited and sent in a fork."""

from __future__ import annotations

from agentterm.models import Message
from agentterm.sanitize import one_line
from agentterm.tui.widgets.guard import store_guarded


class ForkActions:
    """Mixed into MainScreen: the fork is made by the store (Store.fork_conversation), then opened.

    The fork's header says what it was forked from, with the way back (the chat header's line).
    """

    # Provided by MainScreen.
    app: object
    chat_pane: object

    async def _fork_point(self, message: Message) -> int:
        """Where a fork at this message ends: an answer takes its whole turn (its tool calls'
        results and the text after them), or the fork would hold a call with no result."""
        if message.role == "user" or message.reply_to is None:
            return message.id
        rows = await self.app.astore.variant_messages(message.reply_to, message.variant)  # type: ignore[attr-defined]
        return max([message.id, *(row.id for row in rows)])

    @store_guarded
    async def fork_at(self, message_id: int, prompt: str | None = None) -> int | None:
        """Fork the conversation at `message_id` and open the fork; with `prompt`, the message is
        a prompt: its copy in the fork is changed to `prompt` and sent. The fork's id, or None."""
        pane = self.chat_pane
        astore = self.app.astore  # type: ignore[attr-defined]
        message = await astore.get_message(message_id)
        if message is None:
            self.notify("That message no longer exists.", severity="warning")  # type: ignore[attr-defined]
            return None
        if pane.streaming_conversation == message.conversation_id:  # type: ignore[attr-defined]
            self.notify("An answer is still streaming here: stop it (escape) or let it end, "  # type: ignore[attr-defined]
                        "then fork.", severity="warning")
            return None
        parent = await astore.get_conversation(message.conversation_id)
        at = message.id if prompt is not None else await self._fork_point(message)
        fork = await astore.fork_conversation(message.conversation_id, at)
        if prompt is not None:
            copy = (await astore.latest_messages(fork.id, 1))[-1]
            await astore.update_message(copy.id, content=prompt, edited=True)
        await self.open_conversation(fork.id)  # type: ignore[attr-defined]
        title = one_line(parent.display_title, 50) if parent else "the conversation"
        if prompt is not None:
            pane.send(None)  # type: ignore[attr-defined]  # answers the fork's last prompt, the edited one
            self.notify(f"Sent in a fork of {title!r}; the original is unchanged.", title="Forked",
                        markup=False)  # type: ignore[attr-defined]
        else:
            self.notify(f"A fork of {title!r} holding its history up to that message.",
                        title="Forked", markup=False)  # type: ignore[attr-defined]
        return fork.id

    async def on_chat_pane_fork_requested(self, event) -> None:
        event.stop()
        await self.fork_at(event.message_id, event.prompt)

    @store_guarded
    async def action_fork_here(self) -> None:
        """The palette's "Fork here": at the focused message, else at the newest one."""
        from agentterm.tui.widgets.message import MessageView

        focused = self.focused  # type: ignore[attr-defined]
        if isinstance(focused, MessageView) and focused.is_attached:
            await self.fork_at(focused.message_id)
            return
        cid = self.open_conversation_id  # type: ignore[attr-defined]
        latest = await self.app.astore.latest_messages(cid, 1) if cid is not None else []  # type: ignore[attr-defined]
        if not latest:
            self.notify("Open a conversation with messages first: a fork keeps its history "  # type: ignore[attr-defined]
                        "up to a message (focus one to fork there).", severity="warning")
            return
        await self.fork_at(latest[-1].id)
