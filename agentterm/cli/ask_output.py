"""What `ask` shows of a turn: text to stdout, thinking and tool calls to stderr, approval asked on the terminal."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from typing import Any

from agentterm.cli.context import CliError
from agentterm.redact import ScrubFilter

DIM, RESET = "\x1b[2m", "\x1b[0m"
NO_TERMINAL = "there is no terminal to ask on"


class TurnPrinter:
    """Shows each engine event; remembers how the turn ended for the exit status."""

    def __init__(self, *, auto_approve: bool = False, tty_path: str = "/dev/tty") -> None:
        from agentterm.sanitize import EscapeFilter

        self.escapes = EscapeFilter()
        self.secrets = ScrubFilter()
        self.thinking_escapes = EscapeFilter()
        self.thinking_secrets = ScrubFilter()
        self.dim = sys.stderr.isatty()
        self.thinking_open = False
        self.auto_approve = auto_approve
        self.tty_path = tty_path
        self.text_seen = False
        self.answered = False
        self.denied = 0  # calls denied because nobody could be asked
        self.away = False  # the store's server is away (a StoreAway said so)
        self.unsaved = False  # the answer ended while it was: its end waits to be written
        self.said: set[int] = set()
        self.failure: BaseException | None = None
        self.empty: str | None = None

    async def show(self, event: Any) -> None:
        from agentterm import engine

        if isinstance(event, engine.TextDelta):
            self._end_thinking()
            sys.stdout.write(self.escapes.feed(self.secrets.feed(event.text)))
            sys.stdout.flush()
            self.text_seen = self.text_seen or bool(event.text.strip())
        elif isinstance(event, engine.ThinkingDelta):
            if self.dim:
                if not self.thinking_open:
                    sys.stderr.write(DIM)
                    self.thinking_open = True
                sys.stderr.write(self.thinking_escapes.feed(self.thinking_secrets.feed(event.text)))
                sys.stderr.flush()
        elif isinstance(event, engine.ApprovalAsked):
            self._end_thinking()
            event.future.set_result(await self._approval(event.call))
        elif isinstance(event, engine.ToolResult):
            self._end_thinking()
            from agentterm.engine.calls import NO_TOOLS

            # The turn's own error line says the first; the denial's line the second.
            if event.call.result != NO_TOOLS and event.call.id not in self.said:
                self._line(call_line(event.call))
        elif isinstance(event, engine.ToolsUnavailable):
            self._end_thinking()
            self._line(f"MCP server {event.server!r} is unavailable, so its tools are not offered: "
                       f"{event.reason}")
        elif isinstance(event, engine.AnswerFinished):
            if not getattr(event.message, "tool_calls", None):
                self.answered = True
                if not self.text_seen:
                    self.empty = ("the model's answer holds no text" +
                                  (" (only its thinking)." if getattr(event.message, "thinking", "") else "."))
        elif isinstance(event, engine.ContextCut):
            how = (f"summarised into message {event.summary.id}" if event.summary is not None
                   else "left out of what is sent")
            self._line(f"the {event.dropped} oldest turn(s) did not fit the model's window: {how}; "
                       "they stay in the conversation.")
        elif isinstance(event, engine.StoreAway):
            if event.error is not None and not self.away:
                self._end_thinking()
                self._line(f"{event.error.split(': this change')[0]}: the answer goes on and is saved "
                           "once the server is back.")
            elif event.error is None and self.away:
                self._line("the store is back: the answer is saved again as it streams.")
            self.away = event.error is not None
            self.unsaved = self.unsaved or event.unsaved
        elif isinstance(event, engine.AnswerFailed):
            self.failure = event.error

    def close(self) -> str:
        self._end_thinking()
        return self.escapes.feed(self.secrets.flush()) + self.escapes.flush()

    def _end_thinking(self) -> None:
        if self.thinking_open:
            tail = self.thinking_escapes.feed(self.thinking_secrets.flush()) + self.thinking_escapes.flush()
            sys.stderr.write(tail + RESET + "\n")
            sys.stderr.flush()
            self.thinking_open = False

    def _line(self, text: str) -> None:
        from agentterm.sanitize import one_line

        sys.stdout.flush()
        sys.stderr.write(f"agentterm: {one_line(text, 300)}\n")
        sys.stderr.flush()

    async def _approval(self, call: Any) -> Any:
        from agentterm.engine import Approval

        question = f"Allow the tool call {describe(call)}? [y/a/N] "
        try:
            answer = await read_from_terminal(self.tty_path, question)
        except OSError:
            self.denied += 1
            self.said.add(call.id)
            self._line(f"tool call {call_name(call)} denied: {NO_TERMINAL}; run with --yes to allow tool calls.")
            return Approval("deny", f"{NO_TERMINAL}, so the user could not approve it")
        word, _, reason = answer.strip().partition(" ")
        if word.lower() in ("y", "yes"):
            return Approval("once")
        if word.lower() in ("a", "always"):
            return Approval("always")
        # The user's own no: the turn goes on as they chose (only an unasked denial fails `ask`).
        return Approval("deny", reason.strip() or None)

    def raise_failure(self) -> None:
        """The turn's failure (or an answer without text) as the one line `ask` exits with."""
        error = self.failure
        if error is None:
            if self.empty:
                raise CliError(self.empty, "Ask again, or try another model.")
            return
        from agentterm.llm.errors import one_line

        message = getattr(error, "message", None) or one_line(f"{type(error).__name__}: {error}")
        hint = getattr(error, "hint", "")
        fit = getattr(error, "fit", None)
        if getattr(error, "code", "") == "context_full" and fit is not None and fit.possible:
            hint = ("Nothing was stored or sent. Run it again with --drop-oldest or --compact "
                    "(nothing is deleted either way).")
        raise CliError(message, hint)


async def read_from_terminal(path: str, question: str) -> str:
    """Ask on the controlling terminal (stdin may be the prompt); OSError when there is none.

    Read on a daemon thread, so the turn's heartbeat goes on while the user thinks and a ctrl+c
    does not wait for the line.
    """
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    discard_typed_ahead(fd)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        line = b""
        try:
            os.write(fd, question.encode("utf-8"))
            # A terminal in its usual (canonical) mode hands over a whole line per read.
            while not line.endswith(b"\n"):
                piece = os.read(fd, 1024)
                if not piece:
                    break
                line += piece
        except OSError:
            pass
        finally:
            os.close(fd)
        text = line.decode("utf-8", errors="replace")
        try:
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(text))
        except RuntimeError:
            pass  # the run ended (a ctrl+c) while the question was open

    threading.Thread(target=read, name="agentterm-approval", daemon=True).start()
    return await answer


def call_name(call: Any) -> str:
    if getattr(call, "server", ""):
        return f"{call.server}.{call.tool}"
    return call.name or "?"


def describe(call: Any) -> str:
    from agentterm.sanitize import one_line

    return f"{call_name(call)} {one_line(short_arguments(call.arguments), 200)}"


def short_arguments(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), ensure_ascii=False)
    except ValueError:
        return arguments


def call_line(call: Any) -> str:
    """One line for a finished call: what ran, and how it ended."""
    from agentterm.sanitize import one_line

    status = call.status
    if status == "done":
        result = one_line(call.result or "", 80)
        return f"tool {describe(call)} -> {result or '(no output)'}"
    if status == "denied":
        return f"tool {describe(call)} denied" + (f": {call.reason}" if call.reason else "")
    return f"tool {describe(call)} {status}: {one_line(call.error or call.result or '', 120)}"


def discard_typed_ahead(fd: int) -> None:
    """Keys typed before the question was shown must not answer it (a stray y would run a tool)."""
    try:
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)
    except (ImportError, OSError):  # not a terminal that can be flushed: nothing typed ahead there
        pass
