"""The chat pane: history, jump-to-latest, status line and prompt, and the reply worker."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from agentterm.models import Agent, Conversation, Message
from agentterm.store import Store, StoreError
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.attachment_chips import AttachmentBar
from agentterm.tui.widgets.chat_stylesheet import ChatStylesheet
from agentterm.tui.widgets.chat_header import STATUS_WORDS, ChatHeader, HeaderFeed
from agentterm.tui.widgets.chat_view import ChatView
from agentterm.tui.widgets.context_notice import ContextNotice
from agentterm.tui.widgets.guard import store_guarded
from agentterm.tui.widgets.message import MessageView
from agentterm.tui.widgets.message_actions import MessageActions
from agentterm.tui.widgets.prompt_input import PromptInput
from agentterm.tui.widgets.status_line import StatusLine
from agentterm.tui.widgets.store_away import StoreAwayLine
from agentterm.tui.widgets.foreign_answer import ForeignAnswer
from agentterm.tui.widgets.prompt_drafts import PromptDrafts
from agentterm.tui.widgets.turn_view import TurnView

class ChatPane(HeaderFeed, ContextNotice, PromptDrafts, ForeignAnswer, TurnView, MessageActions,
               StoreAwayLine, ChatStylesheet, Vertical):
    """Owns sending: the worker posts the Reply* messages below and their handlers touch widgets."""

    @dataclass
    class PromptStored(TextualMessage):
        message: Message

    @dataclass
    class ReplyStarted(TextualMessage):
        message: Message

    # Thousands an answer: handled here, not passed up through every ancestor of the pane.
    @dataclass
    class ReplyDelta(TextualMessage, bubble=False):
        message_id: int
        text: str
        more: list[str] = dataclasses.field(default_factory=list)  # joined while it waited (TurnView)
        taken: bool = False

        def take(self) -> str:
            self.taken = True
            return self.text + "".join(self.more) if self.more else self.text

    @dataclass
    class ReplyFinished(TextualMessage):
        message: Message

    @dataclass
    class ThinkingDelta(TextualMessage, bubble=False):
        message_id: int
        text: str
        more: list[str] = dataclasses.field(default_factory=list)  # joined while it waited (TurnView)
        taken: bool = False

        def take(self) -> str:
            self.taken = True
            return self.text + "".join(self.more) if self.more else self.text

    @dataclass
    class ToolCallChanged(TextualMessage, bubble=False):
        """A call started, got all its arguments, or ended: `call` is its record (models.ToolCall)."""

        call: Any

    @dataclass
    class ForeignAnswerChanged(TextualMessage, bubble=False):
        """An answer another process streams in this conversation grew, ended or was found dead."""

        conversation_id: int

    @dataclass
    class ToolsUnavailable(TextualMessage, bubble=False):
        """A server the agent names could not start: its tools are missing from this turn."""

        server: str
        reason: str

    @dataclass
    class ToolArguments(TextualMessage, bubble=False):
        call_id: str
        text: str

    @dataclass
    class ApprovalRequested(TextualMessage, bubble=False):
        """The turn waits for the user: resolve `future` with an engine Approval."""

        call: Any
        future: asyncio.Future[Any]

    @dataclass
    class StoreAwayChanged(TextualMessage, bubble=False):
        """The store's server went away while an answer streams (`error`), or came back (None);
        `unsaved`: the answer ended meanwhile and waits in memory to be written."""

        error: str | None
        unsaved: bool = False

    @dataclass
    class ReplyFailed(TextualMessage):
        """The answer ended early: stopped (interrupted) or an error; `message` is the stored row."""

        message: Message | None
        error: str
        hint: str = ""
        interrupted: bool = False
        store_away: bool = False  # the store's server could not be reached

    @dataclass
    class ConversationLoaded(TextualMessage):
        conversation_id: int
        conversation: Conversation | None
        agent: Agent | None

    @dataclass
    class ConversationCreated(TextualMessage):
        """The first send of a new conversation made its row: the pane shows it from now on."""

        conversation: Conversation

    @dataclass
    class ConversationChanged(TextualMessage):
        """A conversation was created, answered or titled: lists showing it should refresh."""

        conversation_id: int

    @dataclass
    class ForkRequested(TextualMessage):
        """Fork the conversation at this message (and send `prompt` there, edited, if given)."""

        message_id: int
        prompt: str | None = None

    @dataclass
    class AgentPaused(TextualMessage):
        """Sending was refused because the agent is paused or retired (inactive); the screen
        offers to resume it (or, when retired, to move the conversation)."""

        agent: Agent
        prompt: str | None

    def __init__(self, store: Store, client, clock: Callable[[], datetime], *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.client = client
        self.clock = clock
        self.conversation: Conversation | None = None
        self.agent: Agent | None = None
        self.streaming_conversation: int | None = None
        self._turn_running = False
        self._answered: int | None = None
        self._unsent: str | None = None
        self._chat_view: ChatView | None = None
        self._prompt: PromptInput | None = None

    def compose(self) -> ComposeResult:
        yield ChatHeader(id="chat-header")
        yield self.chat_view
        yield Static("↓ Jump to latest (end)", id="jump")
        yield StatusLine(id="status-line")
        yield AttachmentBar(id="attachment-bar")
        yield self.prompt_input

    def on_mount(self) -> None:
        self.watch(self.chat_view, "show_jump", self._show_jump)

    async def on_unmount(self) -> None:
        await self.flush_draft()
        await self.retry_unsaved()

    @property
    def chat_view(self) -> ChatView:
        # Made here, not queried: the screen mounts this pane after the first frame, and its
        # callers may reach the view (and the prompt) before. Kept: asked for on every chunk.
        if self._chat_view is None:
            self._chat_view = ChatView(self.store, self.clock, id="chat-view")
        return self._chat_view

    @property
    def prompt_input(self) -> PromptInput:
        if self._prompt is None:  # kept: its text is the draft at quit
            self._prompt = PromptInput(id="prompt", placeholder=f"Type a prompt; {key_label(self, 'chat.send')} "
                                       f"sends, {key_label(self, 'chat.newline')} adds a line")
        return self._prompt

    @property
    def streaming(self) -> bool:
        return self._turn_running

    @property
    def astore(self):
        return self.app.astore

    def on_text_area_changed(self, event) -> None:
        if event.text_area is self.prompt_input:
            self.query_one(AttachmentBar).show_for(event.text_area.text)

    def on_path_completion_completions(self, event) -> None:
        event.stop()
        self.query_one(AttachmentBar).show_completions(event.matches)

    def _show_jump(self, show: bool) -> None:
        self.query_one("#jump").display = show

    def on_click(self, event) -> None:
        if getattr(event.widget, "id", None) == "jump":
            self.run_worker(self.chat_view.jump_to_latest(), group="jump", exclusive=True)

    # Opening

    async def open(self, conversation: Conversation | None, agent: Agent | None, *,
                   around: int | None = None) -> bool:
        """Show a conversation, or a new one (conversation None) to be created at the first send.

        A read that fails (a store server away) leaves the pane, its prompt and its draft
        showing what they showed; another open meanwhile has the pane (False)."""
        before = self.conversation, self.agent
        self._switch(conversation, agent)
        try:
            if not await self.chat_view.show(conversation, agent_name=self._agent_name(), around=around):
                return False
        except BaseException:
            if self.conversation is conversation:
                self._switch(*before)  # the views were never taken down: they are the old ones
            raise
        self.update_status()
        if conversation is not None and self.streaming_conversation != conversation.id and any(
                view.message.status == "streaming" for view in self.chat_view.views):
            self._watch_foreign_answer(conversation.id)
        return True

    def _switch(self, conversation: Conversation | None, agent: Agent | None) -> None:
        self.leave_draft()
        self.conversation = conversation
        self.agent = agent
        self.enter_draft()

    def _agent_name(self) -> str | None:
        if self.agent is not None:
            return self.agent.name
        return self.conversation.agent_name if self.conversation else None

    def refresh_conversation(self) -> None:
        """Read the conversation and its agent again (tokens, title, a paused agent), off the loop."""
        if self.conversation is not None:
            self._reload_conversation(self.conversation.id)
        self.update_status()

    @work(group="pane-conversation", exit_on_error=False)
    async def _reload_conversation(self, conversation_id: int) -> None:
        conversation = await self.astore.get_conversation(conversation_id)
        agent = None
        if conversation is not None and conversation.agent_id is not None:
            agent = await self.astore.get_agent(conversation.agent_id)
        self.post_message(self.ConversationLoaded(conversation_id, conversation, agent))

    def on_chat_pane_conversation_loaded(self, event: ConversationLoaded) -> None:
        event.stop()
        if not self._current(event.conversation_id) or event.conversation is None:
            return
        self.conversation = event.conversation
        if event.conversation.agent_id is not None:
            self.agent = event.agent
        self.update_status()

    def update_status(self) -> None:
        agent = self.agent
        # The conversation's own model and provider come before its agent's (HeaderFeed).
        _provider, model, _own = self.next_model()
        state = ""
        name = self._agent_name()
        if self.conversation is not None and self.streaming_conversation == self.conversation.id:
            state = f"answering… ({key_label(self, 'app.stop')} stops)"
        elif agent is not None and agent.status == "paused":
            state = "agent paused"
        elif agent is not None and agent.status == "inactive":
            state = "agent retired"  # sending offers to move the conversation or resume it
        status = STATUS_WORDS.get(agent.status) if agent is not None else None
        if agent is None and self.conversation is not None and self.conversation.agent_name:
            # Unlinked but named: its agent was deleted (moving to no agent clears the name).
            name = f"{self.conversation.agent_name} (deleted)"
            state = state or "default settings now"
        if self.store_away is not None:
            state = self.store_away
        self.show_header(agent=name, status=status)
        self.query_one(StatusLine).show(
            agent=name, model=model,
            tokens=self.conversation.tokens if self.conversation else 0, state=state,
        )

    # Sending

    @on(PromptInput.PromptSubmitted)
    def _submitted(self, event: PromptInput.PromptSubmitted) -> None:
        event.stop()
        self.send(event.text)

    def send(self, prompt: str | None, *, continue_answer: bool = False, mode: str | None = None,
             overflow: str = "refuse") -> bool:
        """Start a turn; False (and the prompt kept) when sending is refused at once.

        Everything the store does for it happens in the worker (the agent read again, the
        conversation created), so a locked store never holds up a key.
        """
        from agentterm.engine import prompt_too_long

        if self.streaming:
            self.notify("An answer is still streaming: press escape to stop it first.",
                        severity="warning")
            return False
        if prompt is not None and (why := prompt_too_long(prompt)):
            self.notify(f"{why} Your prompt is still in the box.", title="Not sent",
                        severity="error", markup=False)
            return False
        if mode is None:
            mode = "send" if prompt is not None else "continue" if continue_answer else "retry"
        # The prompt stays in the box until it is stored: a locked or full store keeps it there.
        self._unsent = prompt
        self._turn_running = True
        if self.conversation is not None:
            self.streaming_conversation = self.conversation.id
            # The sidebar shows it first, badged Active, while it streams.
            self.post_message(self.ConversationChanged(self.conversation.id))
        self.update_status()
        self._reply(self.conversation.id if self.conversation else None,
                    self.agent.id if self.agent else None, prompt, mode, overflow)
        return True

    def stop(self) -> bool:
        """Stop the streaming answer; the partial text stays, marked interrupted."""
        return bool(self.app.workers.cancel_group(self, "reply"))

    def stop_turn(self) -> bool:
        return self.stop()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "reply" or event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        finished = self.streaming_conversation
        self.streaming_conversation = None
        self._turn_running = False
        self.turn_ended_away()
        self.close_approval()
        self.refresh_conversation()
        if finished is not None:
            self.post_message(self.ConversationChanged(finished))
            if self._answered == finished and event.state == WorkerState.SUCCESS:
                self._auto_title(finished)
        self._answered = None

    def on_chat_pane_conversation_created(self, event: ConversationCreated) -> None:
        self.draft_created(event.conversation.id)
        self.conversation = event.conversation
        self.streaming_conversation = event.conversation.id
        self.post_message(self.ConversationChanged(event.conversation.id))
        self.update_status()

    def _current(self, conversation_id: int) -> bool:
        return self.conversation is not None and self.conversation.id == conversation_id

    async def on_chat_pane_prompt_stored(self, event: PromptStored) -> None:
        if self._unsent is not None and self.prompt_input.text == self._unsent:
            self.prompt_input.clear()
        self._unsent = None
        self.draft_sent(event.message.conversation_id)
        if self._current(event.message.conversation_id):
            await self.chat_view.add_message(event.message)
            self.chat_view.follow()

    async def on_chat_pane_reply_started(self, event: ReplyStarted) -> None:
        if not self._current(event.message.conversation_id):
            return
        if self.chat_view.following:
            await self.chat_view.trim()
        view = await self.chat_view.add_message(
            dataclasses.replace(event.message, content="", thinking="", tool_calls=[]))
        if not view.query_children(".message-header"):
            return  # taken down as soon as mounted (the app closing): nothing to stream into
        view.start_stream()
        self.chat_view.follow()

    async def on_chat_pane_reply_delta(self, event: ReplyDelta) -> None:
        view = self.chat_view.view_for(event.message_id)
        if view is None:
            return
        if not view.streaming:
            view.start_stream()  # continuing a cut-off answer: the deltas extend it in place
            view.refresh_message(dataclasses.replace(view.message, status="streaming"))
        await view.write(event.take())
        self.chat_view.update_jump()

    async def on_chat_pane_reply_finished(self, event: ReplyFinished) -> None:
        message = event.message
        if (view := self.chat_view.view_for(message.id)) is not None:
            await view.finish(message)
            self.chat_view.complete_later(view)
        elif self._current(message.conversation_id):
            view = await self.chat_view.add_message(message)
        if view is not None and message.reply_to is not None and message.variant > 1:
            await self._count_tries(view, message)
        if message.status == "complete":
            self._answered = message.conversation_id  # titled once the turn is over

    async def _count_tries(self, view: MessageView, message: Message) -> None:
        """A new try of an answer says which of how many it is ("2/2"), as on opening."""
        tries = await self.astore.variants(message.reply_to)
        if len(tries) > 1 and message.variant in tries and view.is_attached:
            view.place = (tries.index(message.variant) + 1, len(tries))
            view.refresh_message(view.message)

    async def on_chat_pane_reply_failed(self, event: ReplyFailed) -> None:
        message = event.message
        if event.store_away:
            self.app.store_away_said()  # the calls failing after it say it no more
        if message is None:
            unsent, self._unsent = self._unsent, None
            if event.interrupted:
                self.notify("Stopped before any answer arrived.")
            elif unsent is not None:
                self.notify(f"{event.error}\n{event.hint}\nYour prompt is still in the box.".strip(),
                            title="Not sent", severity="error", markup=False)
            else:
                self.notify(f"{event.error}\n{event.hint}".strip(), title="Not sent",
                            severity="error", markup=False)
            return
        if (view := self.chat_view.view_for(message.id)) is not None:
            await view.finish(message)
            self.chat_view.complete_later(view)
        elif self._current(message.conversation_id):
            await self.chat_view.add_message(message)
        self.chat_view.update_jump()

    @work(group="title", exit_on_error=False)
    async def _auto_title(self, conversation_id: int) -> None:
        from agentterm.engine import auto_title

        if await auto_title(self.astore, self.client, conversation_id):
            self.post_message(self.ConversationChanged(conversation_id))

    # Per-message actions, requested from a message's header or its keys

    @on(MessageView.LinkOpenRequested)
    def _link(self, event: MessageView.LinkOpenRequested) -> None:
        event.stop()
        from agentterm.tui.links import LinkRefused, check_link
        from agentterm.tui.screens.confirm import LinkScreen

        try:
            link = check_link(event.url)
        except LinkRefused as refused:
            self.notify(f"{refused} It was not opened.", title="Link refused", severity="error",
                        markup=False)
            return

        def opened(confirmed: bool | None) -> None:
            if confirmed:
                self.app.open_url(link.url)  # the very string shown

        self.app.push_screen(LinkScreen(link.url, link.host), opened)

    @on(MessageView.ActionRequested)
    @store_guarded
    async def _message_action(self, event: MessageView.ActionRequested) -> None:
        event.stop()
        message = self.store.get_message(event.message_id)
        if message is None:
            return
        if event.action == "copy":
            self.app.copy_text(message.content, what="the message")
        elif event.action == "copy_code":
            from agentterm.tui.widgets.message import code_blocks

            blocks = code_blocks(message.content)
            if blocks:
                self.app.copy_text("\n".join(blocks), what=f"{len(blocks)} code block(s)")
            else:
                self.notify("This message has no code block.")
        elif event.action == "delete":
            self._confirm_delete(message)
        elif event.action in ("retry", "continue"):
            await self.retry(message, continue_answer=event.action == "continue")
        elif event.action == "edit":
            if message.role != "user":
                self.notify("Only a prompt can be edited; f forks the conversation here.",
                            severity="warning")
            elif self._is_last_prompt(message):
                self.edit_prompt(message)
            else:
                self.edit_in_fork(message)
        elif event.action == "fork":
            self.post_message(self.ForkRequested(message.id))
        elif event.action in ("variant_previous", "variant_next"):
            await self.browse_variant(message, -1 if event.action == "variant_previous" else 1)
