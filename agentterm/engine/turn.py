"""run_turn(): the prompt stored, then model, tool calls, approval, results, model, until an answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

from agentterm.engine import errors
from agentterm.engine.answer import AnswerWriter
from agentterm.engine.calls import CallRunner
from agentterm.engine.stores import as_async
from agentterm.engine.errors import EngineError, TurnRefused
from agentterm.engine.events import (
    AnswerFailed,
    AnswerFinished,
    AnswerStarted,
    Event,
    PromptStored,
    StoreAway,
    TextDelta,
    ThinkingDelta,
    ToolCallArguments,
    ToolCallStarted,
    ToolsUnavailable,
    UsageReported,
)
from agentterm.engine.context import Overflow, not_fitting_line, window_for
from agentterm.engine.fitting import ContextCut, first_fit, fit_for, make_room, sent_history, with_summary
from agentterm.engine.model import ModelClient, delta_kind
from agentterm.engine.prompt import CONTINUE_PROMPT, prompt_not_text, prompt_too_long
from agentterm.engine.request import request_messages
from agentterm.engine.assemble import ToolCallAssembler
from agentterm.engine.attachments import has_images, takes_images
from agentterm.engine.watch import FaultWatch
from agentterm.engine.writes import StoreFault, guarded, retry_pending
from agentterm.models import Agent, Conversation, Message

FLUSH_INTERVAL = 0.5
MAX_STEPS = 20
YIELD_EVERY = 32
# After a failed final write, how long the turn keeps trying before leaving it to the next one.
PENDING_RETRY_SECONDS = 2.0

Mode = Literal["send", "retry", "continue"]


def run_turn(store: Any, client: ModelClient, conversation_id: int, prompt: str | None, *,
             mode: Mode = "send", model: str | None = None, tools: Any = None,
             auto_approve: bool = False, max_steps: int = MAX_STEPS,
             flush_interval: float = FLUSH_INTERVAL, extra: dict[str, Any] | None = None,
             overflow: Overflow = "refuse", conversation: Conversation | None = None,
             agent: Agent | None = None) -> AsyncIterator[Event]:
    """Send `prompt` (or answer the last prompt again: retry, or extend a cut answer: continue).

    Yields the turn's events (engine/events.py) and ends after AnswerFinished without tool
    calls, or after AnswerFailed. Faults are events, never exceptions: refusals before anything
    is stored, model errors, store faults. A stop is a cancellation of the consuming task (or
    closing this iterator): the partial answer is stored as interrupted and the cancellation
    goes on. `store` is an AsyncStore (a plain Store is given one). `extra` is stored with the
    prompt: its attachments (engine/attachments.attach), whose images a model that takes
    images is sent as content parts (one that does not: refused before anything is stored).
    A request that would not fit the model's window is refused, or with `overflow` "drop" /
    "compact" its oldest turns are left out / summarised first (engine/fitting.py; a ContextCut
    event says so).
    `conversation` and `agent`: the caller read them this instant (the server, which has just
    made or found the conversation): the turn does not read them again, two store hops fewer.
    """
    turn = _Turn(as_async(store), client, conversation_id, prompt, mode=mode, model=model,
                 tools=tools, auto_approve=auto_approve, max_steps=max_steps,
                 flush_interval=flush_interval, overflow=overflow)
    turn.extra = extra
    turn.known = (conversation, agent) if conversation is not None and conversation.id == conversation_id \
        else None
    return turn.run()


class _Turn:
    def __init__(self, astore: Any, client: ModelClient, conversation_id: int, prompt: str | None, *,
                 mode: Mode, model: str | None, tools: Any, auto_approve: bool, max_steps: int,
                 flush_interval: float, overflow: Overflow = "refuse") -> None:
        self.astore = astore
        self.overflow = overflow
        self.cut: ContextCut | None = None
        self.client = client
        self.conversation_id = conversation_id
        self.prompt = prompt
        self.mode = mode
        self.model_override = model
        self.tools = tools
        self.auto_approve = auto_approve
        self.max_steps = max(1, max_steps)
        self.flush_interval = flush_interval
        self.watch = FaultWatch()
        self.agent: Agent | None = None
        self.conversation: Conversation | None = None
        self.existing: Message | None = None
        self.reply_to: int | None = None
        self.variant: int | None = None
        self.supersede = False
        self.retrying = False
        self.prompt_stored = False
        self.done = False
        self.resolved_model = ""
        self.extra: dict[str, Any] | None = None
        self.known: tuple[Conversation, Agent | None] | None = None
        self.away_said = False  # a StoreAway for the server gone was yielded, not yet its return

    # --- the turn ----------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[Event]:
        from agentterm.engine.titles import cancel_title

        # A title still being made would name the conversation from a stale exchange.
        cancel_title(self.conversation_id)
        await retry_pending(self.astore)
        try:
            history = await self._prepare()
        except TurnRefused as refused:
            await self._drop_if_empty()
            yield AnswerFailed(None, refused)
            return
        except StoreFault as fault:
            error = await self._store_error(fault)
            await self._drop_if_empty()
            yield AnswerFailed(None, error)
            return
        except Exception as error:  # noqa: BLE001 - the model's own errors: no model set, say
            yield AnswerFailed(None, error)
            return
        if self.cut is not None and self.cut.dropped:
            yield self.cut
        if self.prompt_stored:
            yield PromptStored(history[-1])
        try:
            async with aclosing(self._steps(history)) as events:
                async for event in events:
                    yield event
        except Exception as error:  # noqa: BLE001 - a fault of ours: still an event, never a traceback
            from agentterm.llm.errors import one_line

            yield AnswerFailed(None, EngineError(errors.FAILED, one_line(f"{type(error).__name__}: {error}"),
                                                 "Try again."))

    async def _prepare(self) -> list[Message]:
        """The checks, the prompt stored, and the history the model should see."""
        astore = self.astore
        known, known_agent = self.known or (None, None)
        conversation = known or await guarded(astore.get_conversation, self.conversation_id)
        if conversation is None:
            raise TurnRefused(errors.NO_CONVERSATION, f"There is no conversation {self.conversation_id}.",
                              "It may have been deleted.")
        self.conversation = conversation
        if conversation.deleted_at is not None:
            raise TurnRefused(errors.TRASHED, "This conversation is in the trash, so it cannot send.",
                              "Restore it first.")
        if conversation.agent_id is not None:
            self.agent = known_agent if known_agent is not None and known_agent.id == conversation.agent_id \
                else await guarded(astore.get_agent, conversation.agent_id)
        refuse_agent(self.agent)
        if self.mode == "send":
            if self.prompt is None or not self.prompt.strip():
                raise TurnRefused(errors.NOTHING_TO_ANSWER, "The prompt is empty.", "Type a prompt and send it.")
            if why := prompt_too_long(self.prompt):
                raise TurnRefused(errors.PROMPT_TOO_LONG, why, "Send a shorter prompt, or the long text as several.")
            if why := prompt_not_text(self.prompt):
                raise TurnRefused(errors.PROMPT_INVALID, why, "Send it again as UTF-8 text.")
        # A conversation's own model, provider and instructions come before its agent's.
        self.resolved_model = self.client.resolve_model(
            self._provider, self.model_override or getattr(conversation, "model", None)
            or (self.agent.model if self.agent else None))
        if self.mode == "send" and has_images(self.extra) and not self._takes_images:
            raise TurnRefused(errors.NO_IMAGES, f"The model {self.resolved_model} does not take images, so the "
                              "image was not sent.", "Ask a model that takes images, or set vision = true on "
                              "its provider if it does (docs/attachments.md).")
        if self.mode == "send":
            return await self._store_prompt()
        await self._fit()
        # An answer whose writer died is marked interrupted, so it can be retried or continued.
        await guarded(astore.recover_interrupted)
        history = await guarded(astore.all_messages, self.conversation_id)
        return await self._again(history)

    async def _store_prompt(self) -> list[Message]:
        """The context check (_fit), the prompt written, then the history read once after it (a
        long conversation's history is the costly read): one hop to the store's thread when the
        store has one, each hop costing a thread hand-off (docs/performance.md). A request that
        does not fit (rare) takes _fit's own path first; with no known window nothing is read."""
        astore, cid = self.astore, self.conversation_id
        store, run = getattr(astore, "__dict__", {}).get("store"), getattr(astore, "run", None)
        window = window_for(getattr(self.client, "settings", None), self._provider, self.resolved_model)
        if store is None or run is None:  # a test's own async store: an await each
            if window is not None:
                await self._fit()
            if await guarded(astore.live_answer, cid) is not None:
                raise _still_streaming_elsewhere()
            message = await guarded(astore.add_message, cid, "user", self.prompt, extra=self.extra)
            self._stored(message)
            return await guarded(astore.all_messages, cid)
        conversation, agent, prompt = self.conversation, self.agent, self.prompt
        checked = window is None

        def together() -> tuple[Any, Message | None, list[Message] | None, Exception | None]:
            if not checked:
                try:
                    size = store.context_size(cid)
                except Exception as error:  # noqa: BLE001 - raised as _fit's read would raise it
                    return "size", None, None, error
                if not first_fit(size, conversation, agent, window=window, prompt=prompt).fits:
                    return "fit", None, None, None
            # An answer another agentterm (or another request) streams here right now: a prompt
            # added under it would interleave two answers. Checked in the same hop, before writing.
            if store.live_answer(cid) is not None:
                return "live", None, None, None
            message = store.add_message(cid, "user", prompt, extra=self.extra)
            try:
                return None, message, store.all_messages(cid), None
            except Exception as error:  # noqa: BLE001 - the prompt is stored: say so, below
                return None, message, None, error

        check, message, history, error = await guarded(run, together)
        if check == "size":
            raise error
        if check == "fit":
            await self._fit()  # refused, or room made (dropped or summarised turns): then stored
            checked = True
            check, message, history, error = await guarded(run, together)
        if check == "live":
            raise _still_streaming_elsewhere()
        self._stored(message)
        if error is not None:
            raise StoreFault(error)
        return history

    def _stored(self, message: Message) -> None:
        self.prompt_stored = True
        self.reply_to, self.variant = message.id, 1

    async def _again(self, history: list[Message]) -> list[Message]:
        """For retry and continue: the prompt answered again, and what the model sees before it."""
        last = history[-1] if history else None
        if last is not None and last.role != "user" and last.status == "streaming":
            raise TurnRefused(errors.STILL_STREAMING, "The answer is still streaming, perhaps in another agentterm.",
                              "Wait for it to end, or stop it where it streams.")
        if (self.mode == "continue" and last is not None and last.role == "assistant"
                and last.status in ("interrupted", "error") and last.content):
            self.existing = last
            self.reply_to = getattr(last, "reply_to", None)
            self.variant = getattr(last, "variant", None)
            return history
        users = [i for i, m in enumerate(history) if m.role == "user"]
        if not users:
            raise TurnRefused(errors.NOTHING_TO_ANSWER, "There is no prompt to answer.",
                              "Type a prompt and send it.")
        prompt = history[users[-1]]
        self.reply_to = prompt.id
        self.retrying = True
        # The old answer stays the one shown until the new one has begun (variants.py).
        self.variant = await guarded(self.astore.new_variant, prompt.id)
        self.supersede = True
        return history[: users[-1] + 1]

    async def _fit(self) -> None:
        """Refused, or room made, before anything is stored when the request would not fit."""
        options = {"provider": self._provider, "model": self.resolved_model}
        fit = await fit_for(self.astore, self.client, self.conversation, self.agent,
                            prompt=self.prompt if self.mode == "send" else None, **options)
        if fit.fits:
            return
        if self.overflow == "refuse" or not fit.possible:
            refused = TurnRefused(errors.CONTEXT_FULL, not_fitting_line(fit), "Nothing was sent.")
            refused.fit = fit  # what the edges offer: drop or summarise fit.drop turns
            raise refused
        self.cut = await make_room(self.astore, self.client, self.conversation, fit, self.overflow,
                                   **options)
        self.conversation = await guarded(self.astore.get_conversation, self.conversation_id)

    @property
    def _takes_images(self) -> bool:
        return takes_images(getattr(self.client, "settings", None), self._provider, self.resolved_model)

    @property
    def _provider(self) -> str | None:
        own = getattr(self.conversation, "provider", None)
        return own or (self.agent.provider if self.agent else None)

    async def _steps(self, history: list[Message]) -> AsyncIterator[Event]:
        rows, summary = sent_history(self.conversation, history)
        instructions = getattr(self.conversation, "instructions_override", None)
        if summary:
            own = instructions if instructions is not None else (self.agent.instructions if self.agent else None)
            instructions = with_summary(own, summary)
        messages = request_messages(self.agent, rows, instructions=instructions, images=self._takes_images)
        if self.existing is not None:
            messages.append({"role": "user", "content": CONTINUE_PROMPT})
        calls = CallRunner(self)
        try:
            await calls.load(self.agent)
        except StoreFault as fault:
            yield AnswerFailed(None, await self._store_error(fault))
            return
        for server, reason in calls.unavailable.items():
            yield ToolsUnavailable(server, reason)
        writer: AnswerWriter | None = None
        for step in range(1, self.max_steps + 1):
            writer = self._writer(first=step == 1)
            async with aclosing(self._one_step(writer, messages, calls, first=step == 1)) as events:
                async for event in events:
                    yield event
            if self.done:
                return
        error = EngineError(errors.MAX_STEPS,
                            f"The agent made {self.max_steps} rounds of tool calls without a final answer.",
                            "Ask it to go on, or raise max_steps in the config.")
        yield AnswerFailed(writer.shown if writer else None, error)

    def _writer(self, *, first: bool) -> AnswerWriter:
        return AnswerWriter(
            self.astore, self.conversation_id, model=self.resolved_model,
            agent_version=self.agent.version if self.agent else None,
            flush_interval=self.flush_interval, on_fault=self.watch.report,
            reply_to=self.reply_to, variant=self.variant, supersede=self.supersede and first,
            existing=self.existing if first else None,
        )

    async def _one_step(self, writer: AnswerWriter, messages: list[dict[str, Any]], calls: CallRunner, *,
                        first: bool) -> AsyncIterator[Event]:
        """One request: its answer streamed into `writer`; with tool calls, those run and the
        request for the next step is added to `messages` (the step ends without AnswerFinished
        for the turn, but with one for its message)."""
        assembler = ToolCallAssembler()
        usage: Any = None
        finished: Any = None
        try:
            try:
                async for event in self._stream(writer, messages, calls, assembler):
                    if isinstance(event, UsageReported):
                        usage = event.usage
                    elif event.__class__.__name__ == "Finished":
                        finished = event
                        continue
                    yield event
                pending = assembler.finish()
                if pending:
                    async for event in calls.run_all(writer, pending):
                        yield event
            except StoreFault as fault:
                self.done = True
                await calls.close_open("interrupted")
                yield await self._fault_ended(writer, fault)
                return
            except (asyncio.CancelledError, GeneratorExit):
                await self._stopped(writer, calls)
                raise
            except Exception as error:  # noqa: BLE001 - the model's errors (LLMError) and any other
                self.done = True
                await calls.close_open("interrupted")
                failed = await self._failed(writer, error, first=first)
                if writer.away is not None and writer.message is not None:
                    yield self._away(writer, unsaved=True)  # its final state waits for the server
                yield failed
                return
        finally:
            writer.stop_timer()
        self.done = True  # unless tool calls ran and the model is asked again, below
        extra: dict[str, Any] = {}
        reason = getattr(finished, "finish_reason", None)
        if reason:
            extra["finish_reason"] = reason
        if writer.message is None and not calls.ran:
            error = EngineError(errors.NO_ANSWER, "The server sent an empty answer.",
                                "Retry, or check the model name.")
            yield await self._failed(writer, error, first=first)
            return
        stored = await writer.finish("complete", usage=usage, model=getattr(finished, "model", None),
                                     extra=extra)
        if writer.fault is not None:
            yield await self._fault_ended(writer, writer.fault)
            return
        if writer.away is not None:
            yield self._away(writer, unsaved=True)
        elif self.away_said:
            yield self._away(writer)
        if calls.unanswerable:
            # The model asked for tools this conversation does not have: going round again
            # would only repeat the request.
            yield AnswerFailed(stored, EngineError(
                errors.NO_TOOLS, "The model asked to call tools, but none are available to this conversation.",
                "Give the agent MCP servers, or ask for an answer in words."))
            return
        yield AnswerFinished(stored)
        if not calls.ran:
            return
        self.done = False
        messages.extend(calls.request_messages(writer.text))

    async def _stream(self, writer: AnswerWriter, messages: list[dict[str, Any]], calls: CallRunner,
                      assembler: ToolCallAssembler) -> AsyncIterator[Any]:
        options: dict[str, Any] = {"provider": self._provider, "model": self.resolved_model,
                                   "params": self.agent.params() if self.agent else {}}
        if calls.openai_tools:
            options["tools"] = calls.openai_tools
        stream = self.client.stream_chat(messages, **options)
        try:
            count = 0
            while True:
                self.watch.check()
                try:
                    delta = await self.watch.wait(anext(stream))
                except StopAsyncIteration:
                    break
                kind = delta_kind(delta)
                if kind == "text" or kind == "thinking":
                    if not delta.text:
                        continue
                    if await (writer.add_text if kind == "text" else writer.add_thinking)(delta.text):
                        yield AnswerStarted(writer.message)
                    event_type = TextDelta if kind == "text" else ThinkingDelta
                    yield event_type(writer.message.id, delta.text)
                    if (writer.away is not None) != self.away_said:
                        yield self._away(writer)
                elif kind == "tool_call":
                    if await writer.started():
                        yield AnswerStarted(writer.message)
                    call, started = assembler.add(delta)
                    if started:
                        yield ToolCallStarted(await calls.record(writer, call))
                    if delta.arguments:
                        yield ToolCallArguments(call.call_id, delta.arguments)
                elif kind == "usage":
                    yield UsageReported(delta)
                elif kind == "finished":
                    yield delta
                count += 1
                if count % YIELD_EVERY == 0:
                    # Chunks already received are read without waiting: catching up, this loop
                    # would hold the event loop (no key, no frame) until it is through.
                    await asyncio.sleep(0)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    def _away(self, writer: AnswerWriter, *, unsaved: bool = False) -> StoreAway:
        """The store's server gone (or back): the answer goes on in memory meanwhile."""
        from agentterm.llm.errors import one_line

        self.away_said = writer.away is not None
        error = one_line(str(writer.away)) if writer.away is not None else None
        return StoreAway(writer.message.id, error, unsaved=unsaved)

    # --- endings -----------------------------------------------------------------------------

    async def _failed(self, writer: AnswerWriter, error: Exception, *, first: bool) -> AnswerFailed:
        """A model error (or another fault of the request): the partial answer kept as failed."""
        from agentterm.llm.errors import one_line

        message = getattr(error, "message", None) or one_line(f"{type(error).__name__}: {error}")
        hint = getattr(error, "hint", "")
        # A retry that fails before its first token leaves the old answer the one shown; the
        # failed try is kept as a variant not shown (the store stores it superseded).
        stored = await writer.finish("error", extra={"error": message, "hint": hint}, make_row=True)
        if first and self.retrying:
            stored = None
        if writer.fault is not None:
            return await self._fault_ended(writer, writer.fault)
        return AnswerFailed(stored, error)

    async def _fault_ended(self, writer: AnswerWriter, fault: StoreFault) -> AnswerFailed:
        error = await self._store_error(fault)
        if error.code == errors.CONVERSATION_GONE:
            writer.stop_timer()
            return AnswerFailed(writer.shown, error)
        shown = await writer.finish("error", extra={"error": error.message, "hint": error.hint})
        # The text shown reaches the file as soon as the store takes it again.
        await retry_pending(self.astore, for_seconds=PENDING_RETRY_SECONDS,
                            interval=self.flush_interval)
        return AnswerFailed(shown, error)

    async def _store_error(self, fault: StoreFault) -> EngineError:
        from agentterm.llm.errors import one_line

        try:
            conversation = await self.astore.get_conversation(self.conversation_id)
        except Exception:  # noqa: BLE001 - the store still failing: say what it said first
            conversation = self.conversation
        if conversation is None:
            return EngineError(errors.CONVERSATION_GONE,
                               "This conversation was deleted while it was answering; nothing more was kept.")
        what = ("The answer shown is kept in memory and saved as soon as the store allows; retry "
                "once it is fixed.") if self.prompt_stored or self.mode != "send" else (
                "Nothing was stored or sent; send again once it is fixed.")
        error = EngineError(errors.STORE_FAILED, one_line(str(fault.error)), what)
        error.__cause__ = fault.error  # what the store raised (StoreUnreachable: a server away)
        return error

    async def _stopped(self, writer: AnswerWriter, calls: CallRunner) -> None:
        """A stop: the partial answer stored as interrupted, a running call marked cancelled."""
        await calls.close_open("cancelled")
        await writer.finish("interrupted", extra={"stopped": True})

    async def _drop_if_empty(self) -> None:
        """Nothing was stored: a conversation made for this send is not left behind empty."""
        conversation = self.conversation
        if conversation is None or conversation.deleted_at is not None or conversation.title:
            return
        try:
            if await self.astore.count_messages(conversation.id) == 0:
                await self.astore.purge(conversation.id)
        except Exception:  # noqa: BLE001 - best effort: an empty conversation is only clutter
            pass


def refuse_agent(agent: Agent | None) -> None:
    """One rule for paused and inactive agents: no sending, and a line saying what to do."""
    if agent is None:
        return
    if agent.status == "paused":
        raise TurnRefused(errors.AGENT_PAUSED, f"The agent {agent.name!r} is paused, so it cannot answer.",
                          "Resume it (set it active) to send again.")
    if agent.status == "inactive":
        raise TurnRefused(errors.AGENT_INACTIVE, f"The agent {agent.name!r} is inactive, so it cannot answer.",
                          "Set it active again, or move the conversation to another agent.")


def _still_streaming_elsewhere() -> TurnRefused:
    return TurnRefused(errors.STILL_STREAMING,
                       "An answer is still streaming in this conversation, perhaps in another agentterm.",
                       "Wait for it to end, or stop it where it streams; the prompt was not sent.")
