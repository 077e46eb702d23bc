"""When the next request would not fit the window: the notice before sending, and what it did.

Mixed into ChatPane. The engine refuses a request that does not fit (code context_full) before
anything is stored, so the prompt is still in the box; the notice offers to drop the oldest
turns from what is sent, or to have the model summarise them, and sends again with that choice.
Nothing is deleted: the turns left out stay in the conversation, dimmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message as TextualMessage

from agentterm.tui.widgets.guard import guarded


@dataclass
class ContextFull(TextualMessage):
    """The request was refused as too big for the window: `line` says by how much."""

    prompt: str | None
    mode: str
    line: str
    possible: bool


@dataclass
class ContextCutShown(TextualMessage):
    """The oldest turns were left out (and summarised when `summary` is a message)."""

    conversation_id: int
    dropped: int
    summary: Any


class ContextNotice:
    """The choice, and the conversation shown again with the turns left out marked."""

    def on_context_full(self, event: ContextFull) -> None:
        from agentterm.tui.screens.confirm import ChoiceScreen

        event.stop()
        pane: Any = self
        pane._unsent = None
        if not event.possible:
            pane.notify(f"{event.line} Your prompt is still in the box.", title="Not sent",
                        severity="error", markup=False, timeout=12)
            return

        def chosen(choice: str | None) -> None:
            if choice in ("drop", "compact"):
                pane.send(event.prompt, mode=event.mode, overflow=choice)
            else:
                pane.notify("Not sent: nothing was left out. Your prompt is still in the box.",
                            markup=False)

        pane.app.push_screen(ChoiceScreen(
            "The conversation is too long for the model",
            f"{event.line}\nNothing is deleted either way: the turns left out stay here, dimmed.",
            [("Drop the oldest turns and send", "drop"),
             ("Summarise them into one message and send", "compact")],
        ), guarded(pane, chosen))

    async def on_context_cut_shown(self, event: ContextCutShown) -> None:
        event.stop()
        pane: Any = self
        if pane.conversation is None or pane.conversation.id != event.conversation_id:
            return
        what = "summarised in one message" if event.summary is not None else "left out of what is sent"
        pane.notify(f"The {event.dropped} oldest turn(s) are {what}; they stay in the conversation.",
                    title="Context", markup=False)
        pane.conversation = await pane.astore.get_conversation(event.conversation_id) or pane.conversation
        await pane.chat_view.show(pane.conversation, agent_name=pane._agent_name())
        pane.update_status()
