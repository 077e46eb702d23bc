"""The open conversation's own settings: its model and provider, its system prompt, its parent.

Mixed into MainScreen. The model and the instructions are the conversation's overrides
(Store.override_conversation, `agentterm chats override` on the command line): the agent is
not changed, and each answer keeps the model that wrote it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentterm.tui.widgets.guard import guarded, store_guarded

if TYPE_CHECKING:  # the header comes with the chat pane, after the first frame
    from agentterm.tui.widgets.chat_header import ChatHeader


class ConversationSettings:
    """Actions: switch_model, instructions, open_parent, make_room (and the header's clicks)."""

    # A named handler: @on in a mixin that is no MessagePump is never collected.
    async def on_chat_header_clicked(self, event: ChatHeader.Clicked) -> None:
        event.stop()
        screen: Any = self
        action = {"rename": "rename", "model": "switch_model", "open_parent": "open_parent"}.get(event.part)
        if action:
            await screen.run_action(action)

    def _open_or_say(self, what: str) -> Any:
        screen: Any = self
        conversation = screen.chat_pane.conversation if screen.open_conversation_id is not None else None
        if conversation is None:
            screen.notify(f"Open a conversation first: {what} belongs to one (send a first prompt to make it).",
                          severity="warning", markup=False)
        return conversation

    @store_guarded
    def action_switch_model(self) -> None:
        from agentterm.tui.screens.model_picker import ModelPickerScreen

        screen: Any = self
        pane = screen.chat_pane
        conversation = self._open_or_say("its model")
        if conversation is None:
            return
        agent = pane.agent
        provider, model, _own = pane.next_model()
        try:
            agents_model = screen.app.client.resolve_model(agent.provider if agent else None,
                                                           agent.model if agent else None)
        except Exception:  # noqa: BLE001 - an unknown provider: its name as given
            agents_model = agent.model if agent else None

        def picked(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            chosen_provider, chosen_model = choice
            updated = screen.store.override_conversation(
                conversation.id, model=chosen_model or None, provider=chosen_provider or None)
            pane.conversation = updated
            pane.update_status()
            if chosen_model:
                screen.notify(f"The next answers use {chosen_model} ({chosen_provider}); the agent is unchanged.",
                              markup=False)
            else:
                screen.notify("The next answers use the agent's model again.", markup=False)

        screen.app.push_screen(ModelPickerScreen(screen.app.client, current=(provider or "", model or ""),
                                                 agents_model=agents_model), guarded(screen, picked))

    @store_guarded
    def action_instructions(self) -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        screen: Any = self
        pane = screen.chat_pane
        conversation = self._open_or_say("a system prompt of its own")
        if conversation is None:
            return
        own = conversation.instructions_override
        agents = pane.agent.instructions if pane.agent else ""
        start = own if own is not None else agents

        def edited(text: str | None) -> None:
            if text is None:
                return
            # The agent's text saved unchanged is no override; an emptied box goes back to the agent's.
            value = None if not text.strip() or (own is None and text == agents) else text
            pane.conversation = screen.store.override_conversation(conversation.id, instructions_override=value)
            pane.update_status()
            screen.notify("This conversation has its own system prompt now; the agent is unchanged."
                          if value is not None else "This conversation uses the agent's system prompt.",
                          markup=False)

        screen.app.push_screen(TextPromptScreen(
            "System prompt for this conversation", start, multiline=True, confirm_label="Save",
            help="for the next answers of this conversation only; empty it to use the agent's again"),
            guarded(screen, edited))

    @store_guarded
    async def action_open_parent(self) -> None:
        screen: Any = self
        conversation = self._open_or_say("a parent")
        if conversation is None:
            return
        if conversation.parent_id is None:
            screen.notify("This conversation is not a fork (or its parent was purged).", markup=False)
            return
        await screen.open_conversation(conversation.parent_id, around=conversation.forked_from_message_id)

    @store_guarded
    def action_make_room(self) -> None:
        """Leave every turn but the newest out of what is sent, or summarise them, on request."""
        from agentterm.tui.screens.confirm import ChoiceScreen

        screen: Any = self
        conversation = self._open_or_say("its context")
        if conversation is None:
            return
        if screen.chat_pane.streaming:
            screen.notify("An answer is still streaming: stop it first (escape).", severity="warning")
            return

        def chosen(how: str | None) -> None:
            if how in ("drop", "compact"):
                screen.run_worker(self._make_room(conversation, how), group="make-room", exit_on_error=False)

        screen.app.push_screen(ChoiceScreen(
            "Make room in the context",
            "Every turn but the newest is left out of what is sent from now on. Nothing is deleted: "
            "they stay here, dimmed.",
            [("Summarise them into one message, sent in their place", "compact"),
             ("Drop them from what is sent", "drop")],
        ), guarded(screen, chosen))

    async def _make_room(self, conversation: Any, how: str) -> None:
        from agentterm.engine import TurnRefused
        from agentterm.engine.fitting import make_room_now
        from agentterm.tui.widgets.context_notice import ContextCutShown

        screen: Any = self
        pane = screen.chat_pane
        provider, model, _own = pane.next_model()
        if how == "compact":
            screen.notify("Asking the model for a summary…", markup=False)
        try:
            cut = await make_room_now(screen.app.astore, screen.app.client, conversation, how,
                                      provider=provider, model=model)
        except TurnRefused as refused:
            screen.notify(f"{refused.message} {refused.hint}".strip(), severity="warning", markup=False)
            return
        pane.post_message(ContextCutShown(cut.conversation_id, cut.dropped, cut.summary))
