"""What can be done to a conversation: rename, tag, pin, archive, trash, purge, clear, move, export, copy."""

from __future__ import annotations

import re
from pathlib import Path

from agentterm.models import Conversation
from agentterm.tui.keymap import key_label
from agentterm.tui.widgets.guard import guarded, store_guarded


def default_export_path(conversation: Conversation, fmt: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", conversation.display_title.lower()).strip("-")[:40] or "conversation"
    return Path.cwd() / f"{slug}-{conversation.id}.{'md' if fmt == 'markdown' else 'json'}"


class ConversationActions:
    """Mixed into MainScreen: each action asks first when it destroys something, then says what it did."""

    # Provided by MainScreen.
    store: object
    sidebar: object
    chat_pane: object
    app: object

    @store_guarded
    async def conversation_action(self, action: str, conversation_id: int) -> None:
        handler = getattr(self, f"_{action}", None)
        if handler is not None:
            await handler(conversation_id)

    def _target(self) -> int | None:
        cid = self.target_id()  # type: ignore[attr-defined]
        if cid is None:
            self.notify("Open or highlight a conversation first.", severity="warning")  # type: ignore[attr-defined]
        return cid

    async def _after_change(self, cid: int, *, closed: bool = False) -> None:
        if closed and self.open_conversation_id == cid:  # type: ignore[attr-defined]
            await self.show_home()  # type: ignore[attr-defined]
        self.sidebar.refresh_list()  # type: ignore[attr-defined]
        self.home.refresh_home()  # type: ignore[attr-defined]
        if self.open_conversation_id == cid:  # type: ignore[attr-defined]
            self.chat_pane.refresh_conversation()  # type: ignore[attr-defined]

    def _confirm(self, title: str, body: str, label: str, then, *, danger: bool = True) -> None:
        from agentterm.tui.screens.confirm import ConfirmScreen

        async def answered(confirmed: bool | None) -> None:
            if confirmed:
                await then()

        self.app.push_screen(ConfirmScreen(title, body, confirm_label=label, danger=danger), guarded(self, answered))

    def _conversation(self, cid: int) -> Conversation | None:
        conversation = self.store.get_conversation(cid)
        if conversation is None:
            self.notify("That conversation no longer exists.", severity="warning")
        return conversation

    # The actions on one conversation, by id (the sidebar's keys call these directly)

    async def _rename(self, cid: int) -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        if (conversation := self._conversation(cid)) is None:
            return
        if self.sidebar.start_rename(cid):  # type: ignore[attr-defined]
            return  # in place, over its row; the dialog is for when the row is not on screen

        async def renamed(title: str | None) -> None:
            if title is not None and title.strip():
                await self.rename_to(cid, title.strip())

        self.app.push_screen(TextPromptScreen("Rename the conversation", conversation.title,
                                              help="type the new title; enter saves, escape cancels",
                                              select=True), guarded(self, renamed))

    async def rename_to(self, cid: int, title: str) -> None:
        from agentterm.sanitize import one_line

        self.store.rename_conversation(cid, title)
        self.notify(f"Renamed to {one_line(title, 60)!r}.", markup=False)  # type: ignore[attr-defined]
        await self._after_change(cid)

    async def _tags(self, cid: int) -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        if (conversation := self._conversation(cid)) is None:
            return

        async def tagged(text: str | None) -> None:
            if text is not None:
                tags = [t for t in re.split(r"[,\s]+", text) if t]
                self.store.set_tags(cid, tags)
                await self._after_change(cid)

        self.app.push_screen(TextPromptScreen("Tags", " ".join(conversation.tags),
                                              help="separate tags with spaces or commas"), guarded(self, tagged))

    async def _pin(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return
        self.store.set_pinned(cid, not conversation.pinned)
        self.notify("Unpinned." if conversation.pinned else "Pinned: it stays at the top.")
        await self._after_change(cid)

    async def _archive(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return
        if conversation.archived_at is not None:
            self.store.unarchive(cid)
            self.notify("Back in the inbox.")
        else:
            self.store.archive(cid)
            self.notify("Archived: the Archive tab lists it; press "
                        f"{key_label(self, 'sidebar.archive')} there to unarchive.")
        await self._after_change(cid)

    async def _delete(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return
        if conversation.deleted_at is not None:
            await self._purge(cid)
            return

        async def trash() -> None:
            self.store.trash(cid)
            self.notify("Moved to the trash: the Trash tab lists it; press "
                        f"{key_label(self, 'sidebar.restore')} there to restore.")
            await self._after_change(cid, closed=True)

        self._confirm("Delete this conversation?",
                      f"{conversation.display_title}\n\nIt goes to the trash, where it can be restored.",
                      "Delete", trash)

    async def _restore(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return
        if conversation.deleted_at is None:
            self.notify("This conversation is not in the trash.")
            return
        self.store.restore(cid)
        self.notify("Restored.")
        await self._after_change(cid)

    async def _purge(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return
        if conversation.deleted_at is None:
            self.notify("Only a conversation in the trash can be purged; delete it first.")
            return

        async def purge() -> None:
            self.store.purge(cid)
            self.notify("Deleted for good.")
            await self._after_change(cid, closed=True)

        self._confirm("Delete for good?",
                      f"{conversation.display_title}\n\nThis cannot be undone.", "Purge", purge)

    async def _clear(self, cid: int) -> None:
        if (conversation := self._conversation(cid)) is None:
            return

        async def clear() -> None:
            removed = self.store.clear_messages(cid)
            self.notify(f"Cleared {removed} message(s).")
            if self.open_conversation_id == cid:
                await self.open_conversation(cid)
            await self._after_change(cid)

        self._confirm("Clear every message?",
                      f"{conversation.display_title}\n\nThe conversation stays; its messages are "
                      "deleted for good.", "Clear", clear)

    async def _move(self, cid: int) -> None:
        from agentterm.tui.screens.agent_picker import AgentPickerScreen

        if (conversation := self._conversation(cid)) is None:
            return

        async def moved(result: tuple[str, int | None] | None) -> None:
            if result is None:
                return
            agent_id = result[1] if result[0] == "agent" else None
            self.store.relink_conversation(cid, agent_id)
            agent = self.store.get_agent(agent_id) if agent_id else None
            self.notify(f"Moved to {agent.name if agent else 'no agent'}.", markup=False)
            if self.open_conversation_id == cid:
                self.chat_pane.agent = agent
            await self._after_change(cid)

        self.app.push_screen(AgentPickerScreen(conversation.agent_id, title="Move to agent",
                                               enter_does="moves it here", default_mark="current"),
                             guarded(self, moved))

    async def _export(self, cid: int, fmt: str = "markdown") -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        if (conversation := self._conversation(cid)) is None:
            return

        def exported(path_text: str | None) -> None:
            if not path_text or not path_text.strip():
                return
            from agentterm.export import to_json, to_markdown

            path = Path(path_text.strip()).expanduser()
            path = path if path.is_absolute() else Path.cwd() / path
            data = self.store.export_conversation(cid)
            text = to_markdown(data) if fmt == "markdown" else to_json(data)
            from agentterm.safe_write import WriteError, write_private

            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_private(path, text)  # 0600, whole or not at all, never over a file
            except WriteError as error:
                self.notify(f"{error.message[:1].upper()}{error.message[1:]} Choose another path.",
                            severity="error", markup=False)
                return
            except OSError as error:
                self.notify(f"Could not write {path}: {error.strerror or error}", severity="error",
                            markup=False)
                return
            self.notify(f"Exported to {path}", title="Export", markup=False)

        self.app.push_screen(TextPromptScreen(
            f"Export as {'Markdown' if fmt == 'markdown' else 'JSON'} to",
            str(default_export_path(conversation, fmt)),
            help="a file path; a relative one is under the current directory",
            confirm_label="Export"), guarded(self, exported))

    # The same as actions on the target conversation (keys, palette)

    @store_guarded
    async def action_rename(self) -> None:
        if (cid := self._target()) is not None:
            await self._rename(cid)

    @store_guarded
    async def action_tags(self) -> None:
        if (cid := self._target()) is not None:
            await self._tags(cid)

    @store_guarded
    async def action_pin(self) -> None:
        if (cid := self._target()) is not None:
            await self._pin(cid)

    @store_guarded
    async def action_archive(self) -> None:
        if (cid := self._target()) is not None:
            await self._archive(cid)

    @store_guarded
    async def action_delete(self) -> None:
        if (cid := self._target()) is not None:
            await self._delete(cid)

    @store_guarded
    async def action_restore(self) -> None:
        if (cid := self._target()) is not None:
            await self._restore(cid)

    @store_guarded
    async def action_purge(self) -> None:
        if (cid := self._target()) is not None:
            await self._purge(cid)

    @store_guarded
    async def action_clear(self) -> None:
        if (cid := self._target()) is not None:
            await self._clear(cid)

    @store_guarded
    async def action_move(self) -> None:
        if (cid := self._target()) is not None:
            await self._move(cid)

    @store_guarded
    async def action_export(self, fmt: str = "markdown") -> None:
        if (cid := self._target()) is not None:
            await self._export(cid, fmt)

    @store_guarded
    def action_empty_trash(self) -> None:
        trashed = self.store.list_conversations(view="trash", limit=100_000, owner=getattr(self.app, "viewer", None))
        if not trashed:
            self.notify("The trash is empty.")
            return

        async def empty() -> None:
            for conversation in trashed:
                self.store.purge(conversation.id)
            self.notify(f"Deleted {len(trashed)} conversation(s) for good.")
            self.sidebar.refresh_list()
            self.home.refresh_home()

        self._confirm("Empty the trash?", f"{len(trashed)} conversation(s) will be deleted for good.",
                      "Empty trash", empty)

    @store_guarded
    def action_copy_conversation(self) -> None:
        if (cid := self._target()) is None:
            return
        from agentterm.export import to_markdown

        self.app.copy_text(to_markdown(self.store.export_conversation(cid)), what="the conversation")

    @store_guarded
    def action_copy_last_answer(self) -> None:
        cid = self.open_conversation_id
        if cid is None:
            self.notify("Open a conversation first.", severity="warning")
            return
        answer = next((m for m in reversed(self.store.latest_messages(cid, 20))
                       if m.role == "assistant" and m.content), None)
        if answer is None:
            self.notify("There is no answer to copy yet.")
            return
        self.app.copy_text(answer.content, what="the last answer")

    @store_guarded
    async def action_retry(self) -> None:
        await self.chat_pane.retry()

    @store_guarded
    async def action_continue_answer(self) -> None:
        await self.chat_pane.retry(continue_answer=True)

    @store_guarded
    def action_edit_last_prompt(self) -> None:
        cid = self.open_conversation_id
        prompt = next((m for m in reversed(self.store.latest_messages(cid, 20)) if m.role == "user"),
                      None) if cid is not None else None
        if prompt is None:
            self.notify("There is no prompt to edit.")
            return
        self.chat_pane.edit_prompt(prompt)
