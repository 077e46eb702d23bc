"""A step's tool calls: stored before they run, checked, approved (or not), run, their results stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentterm.engine.answer import AnswerWriter, _scrub
from agentterm.engine.assemble import PendingCall
from agentterm.engine.events import Approval, ApprovalAsked, Event, ToolCallReady, ToolCallRunning, ToolResult
from agentterm.engine.request import DENIED_RESULT, assistant_with_calls, tool_message
from agentterm.engine.writes import guarded

if TYPE_CHECKING:
    from agentterm.engine.turn import _Turn

NO_TOOLS = "No tools are available to this conversation."


class CallRunner:
    """The tools a turn offers, and each step's calls from their first piece to their result."""

    def __init__(self, turn: _Turn) -> None:
        self.turn = turn
        self.specs: dict[str, Any] = {}
        self.openai_tools: list[dict[str, Any]] = []
        self.allowed: set[str] = set()
        self.rows: dict[str, Any] = {}
        self.order: list[str] = []
        self.results: dict[str, str] = {}
        self.open: set[str] = set()
        self.ran = False
        self.unanswerable = False
        self.unavailable: dict[str, str] = {}

    async def load(self, agent: Any) -> None:
        """The agent's tools and its always-allowed ones, once per turn."""
        tools = self.turn.tools
        if tools is None or agent is None:
            return
        try:
            specs = await tools.list_tools(agent)
        except Exception:  # noqa: BLE001 - a provider that cannot list: the turn goes on without
            specs = []
        # A server that could not start leaves its reason here (MCPTools.faults): the user is told.
        faults = getattr(tools, "faults", None) or {}
        named = getattr(agent, "mcp_servers", None) or []
        self.unavailable = {name: faults[name] for name in named if name in faults}
        self.specs = {spec.name: spec for spec in specs}
        self.openai_tools = [spec.openai_tool() for spec in specs]
        if specs:
            self.allowed = set(await guarded(self.turn.astore.allowed_tools_for, agent.id))

    # --- rows --------------------------------------------------------------------------------

    async def record(self, writer: AnswerWriter, call: PendingCall) -> Any:
        """The call's row, made at its first piece (status pending)."""
        spec = self.specs.get(call.name or "")
        fields = {"message_id": writer.message.id, "call_id": call.call_id, "index": call.order,
                  "name": call.name or "", "server": spec.server if spec else "",
                  "tool": spec.tool if spec else (call.name or ""), "arguments": "", "status": "pending"}
        row = await guarded(self.turn.astore.add_tool_call, **fields)
        self.rows[call.call_id] = row
        self.order.append(call.call_id)
        self.open.add(call.call_id)
        return row

    async def _update(self, call_id: str, **changes: Any) -> Any:
        row = await guarded(self.turn.astore.update_tool_call, self.rows[call_id].id, **changes)
        self.rows[call_id] = row
        return row

    # --- running -----------------------------------------------------------------------------

    async def run_all(self, writer: AnswerWriter, calls: list[PendingCall]) -> AsyncIterator[Event]:
        """Each call in order: ready, checked, approved or denied, run, its result stored."""
        self.ran = True
        for call in calls:
            row = await self._update(call.call_id, arguments=_scrub(call.arguments))
            yield ToolCallReady(row)
            spec = self.specs.get(call.name or "")
            status, text, reason = "failed", "", None
            if not self.specs:
                self.unanswerable = True
                text = NO_TOOLS
            elif spec is None:
                text = f"There is no tool named {call.name!r}; the tools offered are listed in the request."
            elif (arguments := parse_arguments(call.arguments)) is None:
                text = f"The arguments for {call.name} are not a JSON object: {clip(call.arguments)}"
            else:
                approval = Approval("once")
                if self._needs_approval(spec):
                    row = await self._update(call.call_id, status="approval")
                    future: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()
                    yield ApprovalAsked(row, future)
                    approval = await self._answer(future)
                if approval.decision == "deny":
                    status, reason = "denied", approval.reason
                    text = DENIED_RESULT + (f": {reason}" if reason else ".")
                else:
                    if approval.decision == "always":
                        await self._always(spec)
                    yield ToolCallRunning(await self._update(call.call_id, status="running", started=True))
                    status, text = await self._call(spec, arguments)
            yield ToolResult(await self._finish(writer, call, status, text, reason))

    def _needs_approval(self, spec: Any) -> bool:
        agent = self.turn.agent
        if self.turn.auto_approve or getattr(agent, "tool_approval", "ask") == "auto":
            return False
        return qualified(spec) not in self.allowed

    async def _answer(self, future: asyncio.Future[Approval]) -> Approval:
        try:
            # Shielded: a stop leaves the future for the consumer to resolve or drop.
            answer = await self.turn.watch.wait(asyncio.shield(future))
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if future.cancelled() and (task is None or task.cancelling() == 0):
                return Approval("deny", None)  # the question was dismissed
            raise
        if not isinstance(answer, Approval) or answer.decision not in ("once", "always", "deny"):
            return Approval("deny", None)
        return answer

    async def _always(self, spec: Any) -> None:
        agent = self.turn.agent
        self.allowed.add(qualified(spec))
        if agent is not None:
            await guarded(self.turn.astore.allow_tool, agent.id, qualified(spec))

    async def _call(self, spec: Any, arguments: dict[str, Any]) -> tuple[str, str]:
        try:
            outcome = await self.turn.watch.wait(self.turn.tools.call(spec, arguments))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - providers should not raise; if one does, say so
            from agentterm.llm.errors import one_line

            return "failed", one_line(f"The tool {spec.name} failed: {type(error).__name__}: {error}")
        text = outcome.text if isinstance(getattr(outcome, "text", None), str) else str(outcome)
        return ("failed" if getattr(outcome, "is_error", False) else "done"), text

    async def _finish(self, writer: AnswerWriter, call: PendingCall, status: str, text: str,
                      reason: str | None) -> Any:
        text = _scrub(text)
        reason = _scrub(reason) if reason else None
        row = await self._update(call.call_id, status=status, result=text,
                                 error=text if status == "failed" else None, reason=reason, ended=True)
        self.open.discard(call.call_id)
        fields: dict[str, Any] = {"tool_call_id": call.call_id, "tool_name": call.name or ""}
        turn = self.turn
        if turn.reply_to is not None:
            fields.update(reply_to=turn.reply_to, variant=turn.variant)
        await guarded(turn.astore.add_message, turn.conversation_id, "tool", text, **fields)
        self.results[call.call_id] = text
        return row

    async def close_open(self, status: str) -> None:
        """The turn ends with calls not finished: each marked `status` (cancelled on a stop,
        interrupted on a store fault), now or, if the store refuses, as soon as it allows."""
        from agentterm.engine.writes import keep_for_later

        for call_id in list(self.open):
            try:
                await self._update(call_id, status=status, ended=True)
            except Exception:  # noqa: BLE001 - the store failing too: written later
                keep_for_later(self.turn.astore, self.rows[call_id].id, {"status": status, "ended": True},
                               method="update_tool_call")
        self.open.clear()

    def request_messages(self, text: str) -> list[dict[str, Any]]:
        """This step's calls and results as the next request's messages; the step is reset."""
        rows = [self.rows[call_id] for call_id in self.order]
        messages = [assistant_with_calls(text, rows)]
        messages += [tool_message(row.call_id, self.results.get(row.call_id, "")) for row in rows]
        self.rows, self.order, self.results = {}, [], {}
        self.ran = False
        return messages


def qualified(spec: Any) -> str:
    return f"{spec.server}.{spec.tool}"


def parse_arguments(text: str) -> dict[str, Any] | None:
    """The arguments as a dict ("" counts as {}); None when they are not a JSON object."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
