"""The chat pane's handlers for what a turn shows besides its text: thinking, tool calls, approval."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from textual import work

from agentterm.tui.widgets.message import MessageView

if TYPE_CHECKING:
    from agentterm.tui.screens.approval import Answer, ApprovalScreen
    from agentterm.tui.widgets.chat_pane import ChatPane
    from agentterm.tui.widgets.chat_view import ChatView


APP_HINTS = {
    "trashed": "Restore it first (u in the sidebar's Trash).",
    "no_tools": "Give the agent MCP servers (ctrl+e edits it), or ask for an answer in words.",
    "agent_paused": "Resume the agent (ctrl+e, or the agents screen) to send again.",
    "agent_inactive": "Set the agent active again (ctrl+e) to send.",
}


def failure(pane: Any, message: Any, error: BaseException) -> Any:
    """The pane's ReplyFailed for an engine error, a model error or any other fault."""
    from agentterm.llm.errors import one_line
    from agentterm.store import StoreError

    from agentterm.store import StoreUnreachable

    away = isinstance(error, StoreUnreachable) or isinstance(error.__cause__, StoreUnreachable)
    text = getattr(error, "message", None)
    hint = getattr(error, "hint", "") or ""
    hint = APP_HINTS.get(getattr(error, "code", ""), hint)
    if isinstance(error, StoreError):
        text, hint = str(error), "The app keeps running; send again when it is fixed."
    elif not isinstance(text, str) or not text:
        text, hint = one_line(f"{type(error).__name__}: {error}"), hint or "The app keeps running; try again."
    return pane.ReplyFailed(message, text, hint, store_away=away)


class TurnView:
    """Mixed into ChatPane: the worker posts, these handlers own the widgets."""

    chat_view: ChatView
    _approval: ApprovalScreen | None = None

    # The worker: the store and the model off the event loop; every widget change in a handler.

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _reply(self, conversation_id: int | None, agent_id: int | None, prompt: str | None,
                     mode: str, overflow: str = "refuse") -> None:
        from agentterm.engine import MAX_STEPS, AnswerFailed, AnswerStarted, TextDelta, ThinkingDelta, run_turn
        from agentterm.redact import ScrubFilter

        from agentterm.tui.widgets.markdown_text import warm_up

        pane: Any = self
        astore = pane.astore
        answer_id: int | None = None
        asyncio.get_running_loop().run_in_executor(None, warm_up)  # while the request goes out
        # A model faster than the screen (a loopback server sends 20,000 pieces in a fraction of a
        # second) would queue a Textual message per piece, each dispatched on its own: a piece
        # that comes while the last one posted still waits unhandled joins it instead.
        waiting: Any = None

        def post(message: Any) -> None:
            nonlocal waiting
            waiting = None  # anything else posted keeps its place after the text before it
            pane.post_message(message)

        def post_piece(kind: type, message_id: int, text: str) -> None:
            nonlocal waiting
            if waiting is not None and not waiting.taken and waiting.message_id == message_id \
                    and isinstance(waiting, kind):
                waiting.more.append(text)
                return
            waiting = kind(message_id, text)
            pane.post_message(waiting)

        try:
            agent = await astore.get_agent(agent_id) if agent_id is not None else None
            if agent is not None and agent.status in ("paused", "inactive"):
                post(pane.AgentPaused(agent, prompt))
                return
            extra = None
            typed = prompt  # sent again as typed when the notice on a too-long request is answered
            if mode == "send" and prompt is not None and "@" in prompt:
                from agentterm.engine.attachments import AttachmentError, attach_references

                try:  # the files are read in a thread: a slow disk holds up no key
                    prompt, extra = await asyncio.to_thread(attach_references, prompt, pane.app.settings)
                except AttachmentError as refused:
                    post(pane.ReplyFailed(None, str(refused)))
                    return
            if conversation_id is None:
                conversation = await astore.create_conversation(agent_id=agent_id)
                conversation_id = conversation.id
                post(pane.ConversationCreated(conversation))
            tools = pane.app.tools_for(agent)
            max_steps = getattr(pane.app.settings, "max_steps", MAX_STEPS)
            # What is stored is scrubbed by the engine; what streams onto the screen is scrubbed
            # here, a key split across pieces included (the finished view shows the stored text).
            scrubbers: dict[tuple[type, int], ScrubFilter] = {}
            pieces = {TextDelta: pane.ReplyDelta, ThinkingDelta: pane.ThinkingDelta}
            async with aclosing(run_turn(astore, pane.client, conversation_id, prompt, mode=mode,
                                         tools=tools, max_steps=max_steps, extra=extra,
                                         overflow=overflow)) as events:
                async for event in events:
                    if isinstance(event, AnswerStarted):
                        answer_id = event.message.id
                    kind = type(event)
                    if kind is TextDelta or kind is ThinkingDelta:
                        scrubber = scrubbers.get((kind, event.message_id))
                        if scrubber is None:
                            scrubber = scrubbers[(kind, event.message_id)] = ScrubFilter()
                        if len(scrubbers) == 1:  # the common case: one kind streaming on
                            post_piece(pieces[kind], event.message_id, scrubber.feed(event.text))
                            continue
                        event = dataclasses.replace(event, text=scrubber.feed(event.text))
                    # Anything else ends what streamed so far: what a scrubber holds back is shown.
                    for (held_kind, message_id), scrubber in list(scrubbers.items()):
                        if held_kind is not kind and (held := scrubber.flush()):
                            post_piece(pieces[held_kind], message_id, held)
                    if kind is TextDelta or kind is ThinkingDelta:
                        post_piece(pieces[kind], event.message_id, event.text)
                    elif isinstance(event, AnswerFailed) and getattr(event.error, "code", "") == "context_full":
                        from agentterm.tui.widgets.context_notice import ContextFull

                        fit = getattr(event.error, "fit", None)
                        post(ContextFull(typed, mode, event.error.message, bool(fit and fit.possible)))
                    elif isinstance(event, AnswerFailed):
                        post(failure(pane, event.message, event.error))
                    elif (message := self.message_for(event, type(pane))) is not None:
                        post(message)
        except asyncio.CancelledError:
            # The engine stored the partial answer as interrupted before the stop reached here.
            stored = None
            if answer_id is not None:
                try:
                    stored = await astore.get_message(answer_id)
                except Exception:  # noqa: BLE001 - the store failing too: recovery marks it later
                    stored = None
            post(pane.ReplyFailed(stored, "Stopped.", interrupted=True))
            raise
        except Exception as error:  # noqa: BLE001 - a fault must read as a message, not a traceback
            post(failure(pane, None, error))

    def _answer_view(self, message_id: int | None = None) -> MessageView | None:
        """The view of `message_id`, or the newest answer shown (a call's arguments name no message)."""
        if message_id is not None:
            return self.chat_view.view_for(message_id)
        for view in reversed(self.chat_view.children):
            if isinstance(view, MessageView) and view.message.role == "assistant":
                return view
        return None

    def on_chat_pane_thinking_delta(self, event: ChatPane.ThinkingDelta) -> None:
        if (view := self._answer_view(event.message_id)) is not None:
            view.write_thinking(event.take())
            self.chat_view.update_jump()

    def on_chat_pane_tools_unavailable(self, event: ChatPane.ToolsUnavailable) -> None:
        from agentterm.sanitize import one_line

        pane: Any = self
        pane.notify(f"Its tools are not offered this turn: {one_line(event.reason, 300)}",
                    title=f"MCP server {one_line(event.server, 60)} unavailable", severity="warning",
                    markup=False, timeout=10)

    def on_chat_pane_tool_call_changed(self, event: ChatPane.ToolCallChanged) -> None:
        if (view := self._answer_view(event.call.message_id)) is not None:
            view.show_tool_call(event.call)
            self.chat_view.update_jump()

    def on_chat_pane_tool_arguments(self, event: ChatPane.ToolArguments) -> None:
        view = self._answer_view()
        if view is not None and (block := view.tool_call_view(event.call_id)) is not None:
            block.append_arguments(event.text)

    def on_chat_pane_approval_requested(self, event: ChatPane.ApprovalRequested) -> None:
        from agentterm.tui.screens.approval import ApprovalScreen

        event.stop()
        call, future = event.call, event.future
        if (view := self._answer_view(call.message_id)) is not None:
            view.show_tool_call(call)
        agent = getattr(self, "agent", None)
        screen = ApprovalScreen(call, agent_name=agent.name if agent else None)
        self._approval = screen

        def answered(answer: Answer | None) -> None:
            self._approval = None
            if future.done():
                return
            if answer is None:
                future.cancel()
                self.stop_turn()
                return
            from agentterm.engine.events import Approval

            decision, reason = answer
            future.set_result(Approval(decision, reason))  # type: ignore[arg-type]
            if decision != "deny" and view is not None and view.is_attached:
                # It runs now: the block says so (and counts the time) until its result comes.
                view.show_tool_call(dataclasses.replace(call, status="running"))

        self.app.push_screen(screen, answered)  # type: ignore[attr-defined]

    def close_approval(self) -> None:
        """The turn ended (stopped, failed) while its question was open: take it down."""
        screen, self._approval = self._approval, None
        if screen is not None and screen.is_attached:
            screen.dismiss(None)

    def stop_turn(self) -> bool:
        raise NotImplementedError

    def answer_approval(self, decision: str, reason: str | None = None) -> None:
        """For the command palette and tests of the pane: answer the open question directly."""
        if self._approval is not None:
            self._approval.dismiss((decision, reason))

    @staticmethod
    def message_for(event: Any, pane: type[ChatPane]) -> Any:
        """The Textual message for one of the engine's events (None: nothing to show)."""
        from agentterm.engine import events as ev

        if isinstance(event, ev.TextDelta):
            return pane.ReplyDelta(event.message_id, event.text)
        if isinstance(event, ev.ThinkingDelta):
            return pane.ThinkingDelta(event.message_id, event.text)
        if isinstance(event, ev.ToolCallArguments):
            return pane.ToolArguments(event.call_id, event.text)
        if isinstance(event, ev.ToolCallStarted | ev.ToolCallReady | ev.ToolResult) or (
                type(event).__name__ == "ToolCallRunning"):  # asked of the engine (NOTES.md)
            return pane.ToolCallChanged(event.call)
        if isinstance(event, ev.ApprovalAsked):
            return pane.ApprovalRequested(event.call, event.future)
        if isinstance(event, ev.ToolsUnavailable):
            return pane.ToolsUnavailable(event.server, event.reason)
        if isinstance(event, ev.PromptStored):
            return pane.PromptStored(event.message)
        if type(event).__name__ == "ContextCut":
            from agentterm.tui.widgets.context_notice import ContextCutShown

            return ContextCutShown(event.conversation_id, event.dropped, event.summary)
        if isinstance(event, ev.AnswerStarted):
            return pane.ReplyStarted(event.message)
        if isinstance(event, ev.AnswerFinished):
            return pane.ReplyFinished(event.message)
        if isinstance(event, ev.StoreAway):
            return pane.StoreAwayChanged(event.error, event.unsaved)
        return None
