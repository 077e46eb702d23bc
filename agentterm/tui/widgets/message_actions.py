"""The chat pane's per-message actions: browse an answer's tries, retry or continue, delete,
edit a prompt (in place when it is the last, else in a fork)."""

from __future__ import annotations

from agentterm.models import Message
from agentterm.tui.widgets.guard import guarded, store_guarded


class MessageActions:
    """Mixed into ChatPane; the header links and keys reach these through its handlers."""

    async def browse_variant(self, message: Message, step: int) -> None:
        """Show the answer tried before (step -1) or after (+1) this one; the others are kept."""
        if self.streaming or message.role != "assistant" or message.reply_to is None:
            self.notify("Only a finished answer has other tries to browse.", severity="warning")
            return
        variants = await self.astore.variants(message.reply_to)
        index = variants.index(message.variant) + step if message.variant in variants else -1
        if not 0 <= index < len(variants):
            self.notify(f"Answer {variants.index(message.variant) + 1 if message.variant in variants else 1}"
                        f" of {len(variants)}: no {'earlier' if step < 0 else 'later'} one.")
            return
        await self.astore.select_variant(message.reply_to, variants[index])
        rows = await self.astore.variant_messages(message.reply_to, variants[index])
        shown_now = await self.chat_view.replace_turn(message.reply_to, rows, variants)
        if shown_now is None:  # the turn is not in the window (scrolled away meanwhile): all anew
            await self.chat_view.show(self.conversation, agent_name=self._agent_name())
        else:
            shown_now.focus()  # < and > again browse on
        self.notify(f"Answer {index + 1} of {len(variants)} (< and > browse them).")

    def _is_last_prompt(self, message: Message) -> bool:
        # A turn of many tool calls is many rows: 200 reach back past any of them.
        latest = self.store.latest_messages(message.conversation_id, 200)
        return next((m.id for m in reversed(latest) if m.role == "user"), None) == message.id

    def edit_in_fork(self, message: Message) -> None:
        """An earlier prompt, edited: sent in a fork holding the history before it; this
        conversation stays as it was (docs/keys.md, "Editing an earlier prompt")."""
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        def edited(text: str | None) -> None:
            if text is not None and text.strip():
                self.post_message(self.ForkRequested(message.id, text))

        self.app.push_screen(
            TextPromptScreen("Edit the prompt and resend in a fork", message.content, multiline=True,
                             confirm_label="Fork and send",
                             help="a new conversation gets the history before this prompt; "
                                  "this one stays as it is"),
            guarded(self, edited),
        )

    def _is_last(self, message: Message) -> bool:
        latest = self.store.latest_messages(message.conversation_id, 1)
        return bool(latest) and latest[-1].id == message.id

    @store_guarded
    async def retry(self, message: Message | None = None, *, continue_answer: bool = False) -> None:
        """Answer the last prompt again (or extend the cut-off answer) in place of a failed one."""
        if self.conversation is None:
            return
        if message is None:
            latest = self.store.latest_messages(self.conversation.id, 1)
            message = latest[-1] if latest else None
        if message is None or not self._is_last(message):
            self.notify("Only the last answer can be retried.", severity="warning")
            return
        if message.role == "assistant" and message.status == "streaming":
            self.notify("This answer is still being written elsewhere, or its writer stopped: "
                        "it is marked interrupted within seconds if so, and can be retried then.",
                        severity="warning")
            return
        if message.role == "assistant" and message.status == "complete":
            self.notify("This answer is complete; edit the prompt to ask again.", severity="warning")
            return
        if continue_answer and not (message.role == "assistant" and message.content):
            continue_answer = False
        if message.role == "assistant" and not continue_answer and not self.streaming:
            await self.chat_view.remove_message(message.id)
        self.send(None, continue_answer=continue_answer)

    def _confirm_delete(self, message: Message) -> None:
        from agentterm.tui.screens.confirm import ConfirmScreen

        async def deleted(confirmed: bool | None) -> None:
            if confirmed:
                self.store.delete_message(message.id)
                await self.chat_view.remove_message(message.id)
                self.refresh_conversation()

        preview = message.content.strip().splitlines()[0][:60] if message.content.strip() else ""
        self.app.push_screen(
            ConfirmScreen("Delete this message?", f"{preview}\n\nThis cannot be undone.",
                          confirm_label="Delete", danger=True),
            guarded(self, deleted),
        )

    def edit_prompt(self, message: Message) -> None:
        """Edit the last prompt in a dialog and answer it again: the answer it had stays, as an
        earlier try (< and >), as `agentterm chats edit-prompt` keeps it; nothing is deleted."""
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        if self.streaming:
            self.notify("Stop the streaming answer first (escape).", severity="warning")
            return

        async def edited(text: str | None) -> None:
            if text is None or not text.strip() or self.conversation is None:
                return
            later = [m for m in self.store.latest_messages(message.conversation_id, 200)
                     if m.id > message.id]
            for other in later:  # out of view only: the new answer is a new try of this prompt
                await self.chat_view.remove_message(other.id)
            updated = self.store.update_message(message.id, content=text, edited=True)
            await self.chat_view.remove_message(message.id)
            await self.chat_view.add_message(updated)
            self.send(None)

        self.app.push_screen(
            TextPromptScreen("Edit the prompt and resend", message.content, multiline=True,
                             confirm_label="Resend"),
            guarded(self, edited),
        )
