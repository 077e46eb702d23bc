"""The chat pane's handlers for what a turn shows besides its text: thinking, tool calls, approval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentterm.tui.widgets.message import MessageView

if TYPE_CHECKING:
    from agentterm.tui.screens.approval import Answer, ApprovalScreen
    from agentterm.tui.widgets.chat_pane import ChatPane
    from agentterm.tui.widgets.chat_view import ChatView


class TurnView:
    """Mixed into ChatPane: the worker posts, these handlers own the widgets."""

    chat_view: ChatView
    _approval: ApprovalScreen | None = None

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
            view.write_thinking(event.text)
            self.chat_view.update_jump()

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
        if isinstance(event, ev.ToolCallStarted | ev.ToolCallReady | ev.ToolResult):
            return pane.ToolCallChanged(event.call)
        if isinstance(event, ev.ApprovalAsked):
            return pane.ApprovalRequested(event.call, event.future)
        if isinstance(event, ev.PromptStored):
            return pane.PromptStored(event.message)
        if isinstance(event, ev.AnswerStarted):
            return pane.ReplyStarted(event.message)
        if isinstance(event, ev.AnswerFinished):
            return pane.ReplyFinished(event.message)
        return None
