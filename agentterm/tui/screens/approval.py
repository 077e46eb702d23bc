"""Asking before a tool runs: y allow once, a always for this agent, n deny with a reason."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agentterm.sanitize import one_line, strip_escapes
from agentterm.tui.widgets.tool_call import pretty_arguments

ARM_DELAY = 0.5
"""Keys typed this soon (seconds) after the question appears do not answer it: someone typing
a prompt must never approve a call by accident."""
ARGS_CHARS = 20_000

Answer = tuple[str, str | None]
"""(decision, reason): decision "once" | "always" | "deny"; the screen dismisses with None to stop."""


class ApprovalScreen(ModalScreen[Answer | None]):
    """The tool, its server and its arguments, shown as text; dismisses with the user's answer."""

    DEFAULT_CSS = """
    ApprovalScreen {
        align: center middle;
    }
    ApprovalScreen #approval {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        padding: 1 2;
        border: thick $warning;
        background: $surface;
    }
    ApprovalScreen #approval-title {
        text-style: bold;
        margin-bottom: 1;
    }
    ApprovalScreen #approval-args {
        height: auto;
        max-height: 20;
        background: $panel;
        padding: 0 1;
    }
    ApprovalScreen #approval-keys {
        margin-top: 1;
    }
    ApprovalScreen #approval-keys.-unarmed {
        color: $text-disabled;
    }
    ApprovalScreen #approval-reason {
        display: none;
        margin-top: 1;
    }
    ApprovalScreen.-denying #approval-reason {
        display: block;
    }
    """

    BINDINGS = [
        Binding("y", "answer('once')", "Allow once", id="approval.once"),
        Binding("a", "answer('always')", "Always allow", id="approval.always"),
        Binding("n", "answer('deny')", "Deny", id="approval.deny"),
        Binding("escape", "stop", "Stop the turn", id="approval.stop"),
    ]

    def __init__(self, call: Any, *, agent_name: str | None = None,
                 arm_delay: float = ARM_DELAY) -> None:
        super().__init__()
        self.call = call
        self.arm_delay = arm_delay
        self.agent_name = agent_name
        self.armed = False
        self.ignored_keys = 0
        """Answer keys pressed before the screen was armed (and so ignored)."""

    @property
    def qualified(self) -> str:
        call = self.call
        return f"{call.server}.{call.tool}" if call.server and call.tool else (call.name or "")

    def compose(self) -> ComposeResult:
        call = self.call
        name = one_line(call.tool or call.name or "tool", 64)
        server = one_line(call.server or "", 40)
        agent = one_line(self.agent_name or "this agent", 40)
        args = strip_escapes(pretty_arguments(call.arguments))
        if len(args) > ARGS_CHARS:
            args = args[:ARGS_CHARS] + f"\n… {len(args) - ARGS_CHARS:,} more characters"
        with Vertical(id="approval"):
            yield Static(Content.assemble("Run the tool ", (name, "bold $text-warning"),
                                          *((" from ", (server, "bold")) if server else ()), "?"),
                         id="approval-title")
            with VerticalScroll(id="approval-args"):
                yield Static(Content(args), id="approval-args-text")
            yield Static(Content.assemble(
                ("y", "bold"), " allow once   ", ("a", "bold"),
                f" always allow {one_line(self.qualified, 60)} for {agent}   ",
                ("n", "bold"), " deny   ", ("escape", "bold"), " stop the turn",
            ), id="approval-keys", classes="-unarmed")
            yield Input(placeholder="Why not? (optional, sent to the model; enter denies)",
                        id="approval-reason", max_length=2000)

    def on_mount(self) -> None:
        self.set_timer(self.arm_delay, self.arm)

    def arm(self) -> None:
        """From now on the keys answer."""
        self.armed = True
        self.query_one("#approval-keys").remove_class("-unarmed")

    def action_answer(self, decision: str) -> None:
        if not self.armed:
            self.ignored_keys += 1
            return
        if decision == "deny":
            self.add_class("-denying")
            self.query_one("#approval-reason", Input).focus()
            return
        self.dismiss((decision, None))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reason = event.value.strip()
        self.dismiss(("deny", reason or None))

    def action_stop(self) -> None:
        self.dismiss(None)
