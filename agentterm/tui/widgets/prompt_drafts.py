"""The chat pane's drafts (what is typed and not sent stays with its conversation, issue 12.4)
and the prompt history it reads for the prompt's up and down (issue 12.5)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import TextArea

if TYPE_CHECKING:
    from agentterm.models import Conversation
    from agentterm.tui.widgets.prompt_input import PromptInput

# Typing pauses this long before its draft is written: one write a pause, never one a key.
DRAFT_DELAY = 0.6
# Up goes back this many prompts at most: this conversation's, then the others', newest first.
HISTORY_LIMIT = 500


class PromptDrafts:
    """Mixed into ChatPane. Each conversation's draft is its `draft` column, written through
    AsyncStore after a pause in typing, at once on leaving it, and at quit. The new-conversation
    prompt has a draft of its own, kept per store in a small file of the state dir
    (agentterm/new_draft.py; docs/keys.md, "Drafts")."""

    conversation: Conversation | None
    prompt_input: PromptInput
    astore: Any
    _draft_timer: Any = None

    @property
    def _drafts(self) -> dict[int | None, str]:
        # What the store holds for each conversation seen in this run (None: the new prompt's).
        # Read before the store's copy, which a queued write may not have reached yet.
        return self.__dict__.setdefault("_draft_cache", {})

    @property
    def _drafts_stored(self) -> dict[int, str]:
        # What each write that ended left in the store: the quit writes whatever differs.
        return self.__dict__.setdefault("_draft_stored", {})

    @property
    def _draft_key(self) -> int | None:
        return self.conversation.id if self.conversation is not None else None

    def leave_draft(self) -> None:
        """Before another conversation is shown: keep what is typed with this one."""
        self._stop_draft_timer()
        if self._draft_key not in self._drafts:
            return  # never shown in this run: the prompt's text is not its draft (the dashboard's)
        self._keep_draft(self._draft_key, self.prompt_input.text)

    def enter_draft(self) -> None:
        """After a conversation is shown: its draft in the prompt (a new one: the new prompt's)."""
        key = self._draft_key
        drafts = self._drafts
        if key not in drafts:
            drafts[key] = self.conversation.draft if self.conversation is not None else self._new_draft_on_disk()
            if key is not None:
                self._drafts_stored.setdefault(key, drafts[key])
                self._take_unsaved_draft(key)
        text = drafts[key]
        prompt = self.prompt_input
        prompt.forget_history()
        if prompt.text != text:
            prompt.load_text(text)
            prompt.move_cursor(prompt.document.end)

    def draft_sent(self, conversation_id: int | None) -> None:
        """The prompt was stored: that conversation's draft is empty again, and the history
        has one prompt more."""
        self._keep_draft(conversation_id, "")
        self.prompt_input.forget_history()

    def on_prompt_input_history_wanted(self, event: Any) -> None:
        event.stop()
        self._read_history(self._draft_key)

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _read_history(self, conversation_id: int | None) -> None:
        from agentterm.store import StoreError

        try:
            prompts = await self.astore.prompt_history(conversation_id, HISTORY_LIMIT)
        except StoreError:
            self.prompt_input.forget_history()  # a locked store: the next up asks again
            return
        if self._draft_key == conversation_id:
            self.prompt_input.set_history(prompts)

    def draft_created(self, conversation_id: int) -> None:
        """The new prompt's first send made a conversation: its text now belongs to that one."""
        drafts = self._drafts
        drafts[conversation_id] = drafts.pop(None, "")
        drafts[None] = ""
        self._write_new_draft("")

    def _new_draft_on_disk(self) -> str:
        from agentterm.new_draft import read_new_draft

        return read_new_draft(self._store_target())

    def _store_target(self) -> object:
        return getattr(getattr(self.astore, "store", None), "path", None) or ":memory:"

    @property
    def _drafts_on_disk(self) -> set[int]:
        # Conversations whose draft came from the state dir (their store would not take it).
        return self.__dict__.setdefault("_draft_on_disk", set())

    def _take_unsaved_draft(self, key: int) -> None:
        """A draft the store would not take at the last quit (its server away) is newer than the
        row's: it goes in the prompt, and to the store now (else at the next pause or quit)."""
        if "_unsaved_drafts" not in self.__dict__:  # the file once a run, not at every first open
            from agentterm.new_draft import unsaved_drafts

            self.__dict__["_unsaved_drafts"] = unsaved_drafts(self._store_target())
        unsaved = self.__dict__["_unsaved_drafts"].pop(key, "")
        if unsaved:  # written even when the row has it already: then the file's copy goes
            self._drafts_on_disk.add(key)
            self._drafts[key] = unsaved
            self._write_draft(key, unsaved)

    async def _stored_draft(self, key: int, text: str) -> None:
        """The store took `text`: a copy of it waiting in the state dir is no longer needed."""
        self._drafts_stored[key] = text
        if key in self._drafts_on_disk:
            self._drafts_on_disk.discard(key)
            await asyncio.to_thread(self._keep_unsaved_draft, key, "")

    def _keep_unsaved_draft(self, key: int, text: str) -> None:
        from agentterm.new_draft import WRITING, write_new_draft

        with WRITING:
            write_new_draft(self._store_target(), text, key)

    def _write_new_draft(self, text: str) -> None:
        self.__dict__["_new_draft_wanted"] = text
        self._write_new_draft_file()

    @work(group="new-draft", thread=True, exit_on_error=False)
    def _write_new_draft_file(self) -> None:
        from agentterm.new_draft import WRITING, write_new_draft

        with WRITING:  # the newest text wins, whichever thread gets here last
            write_new_draft(self._store_target(), self.__dict__.get("_new_draft_wanted", ""))

    def _keep_draft(self, key: int | None, text: str) -> None:
        drafts = self._drafts
        if drafts.get(key) == text:
            return
        drafts[key] = text
        if key is not None:
            self._write_draft(key, text)
        else:
            self._write_new_draft(text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Not stopped: the app warms the model client up on the first text typed.
        if event.text_area is not self.prompt_input:
            return
        if self._drafts.get(self._draft_key) == event.text_area.text:
            return  # a draft just restored, or typed back to what is kept
        if self._draft_key is None:
            # Kept in memory at once (the quit may come before the pause); the file after it.
            self._drafts[None] = event.text_area.text
        self._stop_draft_timer()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._draft_pause)  # type: ignore[attr-defined]

    def _draft_pause(self) -> None:
        self._draft_timer = None
        if self._draft_key is None:
            self._write_new_draft(self.prompt_input.text)
        else:
            self._keep_draft(self._draft_key, self.prompt_input.text)

    def _stop_draft_timer(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None

    @work(group="draft", exit_on_error=False)
    async def _write_draft(self, conversation_id: int, text: str) -> None:
        from agentterm.store import StoreError

        try:
            await self.astore.set_draft(conversation_id, text)
        except StoreError:
            return  # deleted meanwhile, or the store is locked: the text is still in the box
        await self._stored_draft(conversation_id, text)

    async def flush_draft(self) -> None:
        """At quit: every draft not yet written (typed since the last pause, or a write the
        quit cancelled before it ran) is written before the app ends."""
        self._stop_draft_timer()
        try:
            if self._draft_key in self._drafts:  # not the dashboard's prompt, never a draft
                self._drafts[self._draft_key] = self.prompt_input.text
        except Exception:  # noqa: BLE001 - the prompt is gone already: nothing new to keep
            pass
        from agentterm.store import StoreError

        stored = self._drafts_stored
        if None in self._drafts:
            from agentterm.new_draft import WRITING, write_new_draft

            with WRITING:
                write_new_draft(self._store_target(), self._drafts[None])
        for key, text in list(self._drafts.items()):
            if key is None or stored.get(key) == text:
                continue
            try:
                await self.astore.set_draft(key, text)
            except StoreError as error:
                from agentterm.store import GoneError, ValueRefused

                if not isinstance(error, GoneError | ValueRefused):  # away or locked: kept for later
                    self._drafts_on_disk.add(key)
                    self._keep_unsaved_draft(key, text)
                continue
            await self._stored_draft(key, text)
