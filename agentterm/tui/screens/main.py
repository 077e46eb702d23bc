"""The main screen: the sidebar of conversations beside the chat pane (or the dashboard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from agentterm.models import Agent, Conversation
from agentterm.tui.keymap import key_label
from agentterm.tui.screens.conversation_actions import ConversationActions
from agentterm.tui.screens.store_watch import StoreWatch
from agentterm.tui.screens.fork_actions import ForkActions
from agentterm.tui.screens.store_actions import StoreActions
from agentterm.tui.screens.conversation_settings import ConversationSettings
from agentterm.tui.widgets.conversation_list import ConversationList, ConversationOptions
from agentterm.tui.widgets.footer import Footer
from agentterm.tui.widgets.guard import guarded, store_guarded
from agentterm.tui.widgets.home import Home

if TYPE_CHECKING:  # imported with the pane, after the first frame (chat_pane)
    from agentterm.tui.widgets.chat_pane import ChatPane


class MainScreen(ConversationSettings, StoreActions, ForkActions, ConversationActions, StoreWatch, Screen[None]):
    """Routes the widgets' requests to the store and back; the actions are in ConversationActions."""

    # Below 100 columns the sidebar narrows, so an 80-column terminal keeps a usable chat.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def _set_breakpoints(self) -> None:
        """The breakpoint classes for the terminal's size, before any widget is styled.

        Textual sets them at the first resize, after every widget has mounted, and that change
        of the screen's classes restyles the whole screen once more (a fifth of the first
        frame's work after imports). Set now, the resize finds nothing to change.
        """
        width, height = self.app.size
        classes = {name: False for _, name in self.HORIZONTAL_BREAKPOINTS + self.VERTICAL_BREAKPOINTS}
        for name in (*self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS),
                     *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS)):
            classes[name] = True
        self.update_classes(classes, update=False)

    _chat: ChatPane | None = None

    def compose(self) -> ComposeResult:
        app = self.app
        self._set_breakpoints()
        # The chat pane is made and mounted after the first frame (_mount_chat), or when a key
        # asks for it first: hidden behind the dashboard at start, its imports, its widgets and
        # their styling came before the first frame for nothing (docs/performance.md, start-up).
        self._chat = None
        with Horizontal(id="main"):
            yield ConversationList(app.store, app.clock, id="sidebar")
            with ContentSwitcher(initial="home", id="pane"):
                yield Home(app.store, app.clock, id="home")
        yield Footer()

    def _mount_chat(self) -> None:
        """Mount the chat pane (hidden) once the first frame is out, if nothing has yet."""
        pane = self.chat_pane
        if pane.parent is None and self.is_attached:
            pane.display = False
            self.query_one(ContentSwitcher).mount(pane)

    async def chat_ready(self) -> ChatPane:
        """The chat pane, mounted: awaited by whatever shows it (a key can beat _mount_chat)."""
        pane = self.chat_pane
        self._mount_chat()
        await pane._mounted_event.wait()
        return pane

    @property
    def chat_mounted(self) -> bool:
        return self._chat is not None and self._chat.is_mounted

    @property
    def store(self):
        return self.app.store

    @property
    def sidebar(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def chat_pane(self) -> ChatPane:
        """The chat pane; it may not be mounted yet (chat_ready): before it is, nothing is open."""
        if self._chat is None:
            from agentterm.tui.widgets.chat_pane import ChatPane

            app = self.app
            self._chat = ChatPane(app.store, app.client, app.clock, id="chat")
        return self._chat

    @property
    def home(self) -> Home:
        return self.query_one(Home)

    @property
    def open_conversation_id(self) -> int | None:
        if self.query_one(ContentSwitcher).current != "chat":
            return None
        conversation = self.chat_pane.conversation
        return conversation.id if conversation else None

    async def on_mount(self) -> None:
        days = self.app.settings.trash_days
        if days and (purged := self.store.purge_trash(days)):
            self.notify(f"Purged {purged} conversation(s) in the trash for over {days} days.")
            self.home.refresh_home()  # it was mounted (and counted the trash) before this
        self.sidebar.refresh_list()
        self.start_store_watch()
        open_agent = self.app.open_agent
        if open_agent:
            agent = self.store.get_agent_by_name(open_agent)
            if agent is None and open_agent.isdigit():
                agent = self.store.get_agent(int(open_agent))
            if agent is None:
                self.notify(f"There is no agent named {open_agent!r}; "
                            f"{key_label(self, 'app.agents')} lists them.",
                            severity="error", markup=False)
            else:
                await self.open_draft(agent)
                return
        self.sidebar.options.focus()

    # Opening

    @store_guarded
    async def open_conversation(self, conversation_id: int, *, around: int | None = None) -> None:
        astore = self.app.astore  # off the event loop: a locked store holds up no key
        conversation = await astore.get_conversation(conversation_id)
        if conversation is None:
            self.notify("That conversation no longer exists.", severity="warning")
            self.sidebar.refresh_list()
            return
        agent = await astore.get_agent(conversation.agent_id) if conversation.agent_id else None
        await self.chat_ready()
        self.query_one(ContentSwitcher).current = "chat"
        if not await self.chat_pane.open(conversation, agent, around=around):
            return  # another conversation opened meanwhile: that one has the pane
        self.sidebar.open_id = conversation.id
        if self.sidebar.hits is None:
            self.sidebar.refresh_list(keep=conversation.id)
        if around is not None:
            self.chat_pane.chat_view.focus()
        else:
            self.chat_pane.prompt_input.focus()

    async def open_draft(self, agent: Agent | None) -> None:
        """A new conversation: it is created in the store when its first prompt is sent."""
        await self.chat_ready()
        self.query_one(ContentSwitcher).current = "chat"
        if not await self.chat_pane.open(None, agent):
            return
        self.sidebar.open_id = None
        self.chat_pane.prompt_input.focus()

    async def show_home(self) -> None:
        self.query_one(ContentSwitcher).current = "home"
        self.sidebar.open_id = None
        self.home.refresh_home()
        if self.chat_mounted:
            await self.chat_pane.open(None, None)

    def default_agent_id(self) -> int | None:
        name = self.app.settings.default_agent
        agent = self.store.get_agent_by_name(name) if name else None
        if agent is None:
            try:
                agent = self.store.default_agent()
            except Exception:  # noqa: BLE001 - no default agent: the picker preselects none
                return None
        return agent.id

    # Requests from the widgets

    @on(ConversationList.ConversationSelected)
    @store_guarded
    async def _selected(self, event: ConversationList.ConversationSelected) -> None:
        event.stop()
        await self.open_conversation(event.conversation_id, around=event.message_id)

    @on(ConversationList.ActionRequested)
    @store_guarded
    async def _sidebar_action(self, event: ConversationList.ActionRequested) -> None:
        event.stop()
        await self.conversation_action(event.action, event.conversation_id)

    @on(ConversationList.RenameSubmitted)
    @store_guarded
    async def _renamed_inline(self, event: ConversationList.RenameSubmitted) -> None:
        event.stop()
        await self.rename_to(event.conversation_id, event.title)

    @store_guarded
    async def on_chat_pane_conversation_changed(self, event: ChatPane.ConversationChanged) -> None:
        event.stop()
        pane = self.chat_pane
        if pane.streaming_conversation != event.conversation_id and \
                await self.app.astore.get_conversation(event.conversation_id) is None:
            await self._gone(event.conversation_id)
            return
        if pane.conversation is not None and pane.conversation.id == event.conversation_id:
            self.sidebar.open_id = event.conversation_id
        self.sidebar.streaming_id = pane.streaming_conversation
        if self.sidebar.hits is None:
            self.sidebar.refresh_list()
        pane.refresh_conversation()

    async def _gone(self, conversation_id: int) -> None:
        """Its turn ended and the conversation is no more: purged by another program (the
        command line) meanwhile. Said once; nothing is left showing "Answering..." (issue 8.10)."""
        pane = self.chat_pane
        self.sidebar.streaming_id = None
        self.sidebar.refresh_list()
        if pane.conversation is not None and pane.conversation.id == conversation_id:
            if not pane.chat_view.views:
                return  # a first send that stored nothing: the turn removed its empty conversation
            await self.show_home()
        # Kept on the instance lazily: an __init__ on this screen changed the footer's first layout.
        said: set[int] = self.__dict__.setdefault("_gone_said", set())
        if conversation_id in said:
            return
        said.add(conversation_id)
        self.notify("This conversation was deleted for good by another program (agentterm chats "
                    "purge?) while its answer streamed: nothing more of it is kept.",
                    title="Conversation gone", severity="warning", markup=False)

    def on_chat_pane_agent_paused(self, event: ChatPane.AgentPaused) -> None:
        event.stop()
        from agentterm.tui.screens.confirm import ChoiceScreen, ConfirmScreen

        agent, prompt = event.agent, event.prompt
        word = "retired" if agent.status == "inactive" else "paused"

        async def answered(choice: str | bool | None) -> None:
            if choice == "move":
                await self._move_for_sending()
                return
            if not choice:
                self.notify(f"Not sent: the agent is still {word}. Your prompt is kept.", markup=False)
                return
            self.chat_pane.agent = self.store.set_agent_status(agent.id, "active")
            self.notify(f"Resumed {agent.name}.", markup=False)
            self.chat_pane.send(prompt)

        if word == "paused":
            self.app.push_screen(ConfirmScreen(
                "This agent is paused",
                f"The agent {agent.name!r} is paused, so this conversation cannot send.\n"
                "Resume the agent and send?",
                confirm_label="Resume and send",
            ), guarded(self, answered))
            return
        self.app.push_screen(ChoiceScreen(
            "This agent is retired",
            f"The agent {agent.name!r} is retired, so this conversation cannot send. "
            "Your prompt stays in the box.",
            [("Move the conversation to another agent", "move"),
             (f"Resume {agent.name} and send", "resume")],
        ), guarded(self, answered))

    async def _move_for_sending(self) -> None:
        """Move the open conversation (or the draft) to another agent; the prompt stays to send."""
        pane = self.chat_pane
        if pane.conversation is not None:
            await self._move(pane.conversation.id)
            return
        from agentterm.tui.screens.agent_picker import AgentPickerScreen

        def picked(result: tuple[str, int | None] | None) -> None:
            if result is not None:
                pane.agent = self.store.get_agent(result[1]) if result[0] == "agent" and result[1] else None
                pane.update_status()

        self.app.push_screen(AgentPickerScreen(None, title="Move to agent", enter_does="moves it here"),
                             guarded(self, picked))

    def target_id(self) -> int | None:
        """The conversation a key acts on: the sidebar's highlight when it has focus, else the open one."""
        if isinstance(self.focused, ConversationOptions):
            return self.sidebar.highlighted_id
        return self.open_conversation_id

    def current_conversation(self) -> Conversation | None:
        cid = self.open_conversation_id
        return self.store.get_conversation(cid) if cid is not None else None

    # Navigation actions

    @store_guarded
    def action_new_conversation(self) -> None:
        from agentterm.tui.screens.agent_picker import AgentPickerScreen

        async def picked(result: tuple[str, int | None] | None) -> None:
            if result is None:
                return
            kind, agent_id = result
            agent = self.store.get_agent(agent_id) if kind == "agent" and agent_id else None
            await self.open_draft(agent)

        self.app.push_screen(AgentPickerScreen(self.default_agent_id()), guarded(self, picked))

    async def _step(self, step: int) -> None:
        self.sidebar.hits is None or self.sidebar.refresh_list()
        target = self.sidebar.neighbour(self.open_conversation_id or self.sidebar.highlighted_id, step)
        if target is not None:
            await self.open_conversation(target)

    @store_guarded
    async def action_previous_conversation(self) -> None:
        await self._step(-1)

    @store_guarded
    async def action_next_conversation(self) -> None:
        await self._step(+1)

    @store_guarded
    def action_focus_filter(self) -> None:
        self.sidebar.display = True
        self.sidebar.filter_input.focus()

    @store_guarded
    def action_show_view(self, view: str) -> None:
        self.sidebar.display = True
        self.sidebar.set_view(view)
        self.sidebar.options.focus()

    @store_guarded
    def action_toggle_sidebar(self) -> None:
        self.sidebar.display = not self.sidebar.display
        if not self.sidebar.display and self.query_one(ContentSwitcher).current == "chat":
            self.chat_pane.prompt_input.focus()

    @store_guarded
    async def action_home(self) -> None:
        await self.show_home()

    @store_guarded
    def action_focus_prompt(self) -> None:
        if self.query_one(ContentSwitcher).current == "chat":
            self.chat_pane.prompt_input.focus()

    @store_guarded
    async def action_jump_to_latest(self) -> None:
        if self.chat_mounted:
            await self.chat_pane.chat_view.jump_to_latest()

    @store_guarded
    def action_stop(self) -> None:
        if self.chat_mounted and self.chat_pane.stop():
            self.notify("Stopping: the partial answer is kept.")

    def open_agents(self) -> None:
        try:
            from agentterm.tui.screens.agents import AgentsScreen
        except ImportError:
            self.notify("The agents screen is not available in this build.", severity="warning")
            return
        if self.app.screen is self:
            self.app.push_screen(AgentsScreen())

    _shown = False

    @store_guarded
    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Back from another screen: agents may have been renamed, paused or deleted."""
        if not self._shown:
            # The first show: on_mount has just read all of it, and every widget was styled as it
            # mounted; restyling the whole screen again (Textual's default) cost a fifth of the
            # first frame's work after imports. This handler runs before Screen's own.
            self._shown = True
            event.refresh_styles = False
            # Queued behind this resume, whose handling paints the first frame (call_after_refresh
            # ran before that paint).
            self.call_later(self._mount_chat)
            self.call_later(self.app.resume_collector)
            return
        if self.sidebar.hits is None:
            self.sidebar.refresh_list()
        self.home.refresh_home()
        if self.chat_mounted:
            self.chat_pane.refresh_conversation()

    @store_guarded
    def action_edit_agent(self) -> None:
        agent = self.chat_pane.agent
        if agent is None:
            self.notify(f"This conversation has no agent; {key_label(self, 'app.agents')} opens the agents.")
            return
        from agentterm.tui.screens.agent_editor import AgentEditorScreen

        self.app.push_screen(AgentEditorScreen(agent.id))

    @store_guarded
    def action_resume_agent(self) -> None:
        agent = self.chat_pane.agent
        if agent is None or agent.status == "active":
            self.notify("This conversation's agent is neither paused nor retired.")
            return
        self.chat_pane.agent = self.store.set_agent_status(agent.id, "active")
        self.chat_pane.update_status()
        self.notify(f"Resumed {agent.name}.", markup=False)
