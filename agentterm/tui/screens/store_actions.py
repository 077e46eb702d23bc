"""The palette's store actions: import conversations from a file, and open another store."""

from __future__ import annotations

from pathlib import Path

from agentterm.store import StoreError
from agentterm.tui.widgets.guard import guarded, store_guarded

OTHER = "\x00other"
"""The choice that asks for a path instead of a recent store."""


def import_summary(result) -> str:
    """ "3 imported, 1 already there, 0 refused", and the first refusal's reason."""
    line = (f"{len(result.imported)} imported, {len(result.already)} already there, "
            f"{len(result.refused)} refused.")
    if result.refused:
        number, title, why = result.refused[0]
        line += f" Item {number}{f' ({title!r})' if title else ''}: {why}"
    if result.already:
        line += " (`agentterm chats import FILE --duplicate` imports those again.)"
    return line


def _store_path(text: str):
    from agentterm.store.target import parse_target

    target = parse_target(text.strip())  # a URL of another scheme: a StoreError, one line
    return target if isinstance(target, str) else target.absolute()


class StoreActions:
    """Mixed into MainScreen. The import reuses Store.import_conversations (as `chats import`
    does); opening another store builds a new main screen over it and closes the old store."""

    # Provided by MainScreen.
    app: object
    sidebar: object
    chat_pane: object

    # Import

    @store_guarded
    def action_import_file(self) -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        async def chosen(text: str | None) -> None:
            if text and text.strip():
                await self.import_from(text.strip())

        self.app.push_screen(TextPromptScreen(  # type: ignore[attr-defined]
            "Import conversations from", str(Path.cwd() / "conversations.json"),
            help="an agentterm JSON export or ChatGPT's conversations.json; a relative path is "
                 "under the current directory", confirm_label="Import", select=True),
            guarded(self, chosen))

    @store_guarded
    async def import_from(self, source: str) -> None:
        from agentterm.import_file import ImportFileError, load_conversations

        path = Path(source).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        astore = self.app.astore  # type: ignore[attr-defined]
        try:
            # Read and parsed on the store's thread: a big export holds up no key.
            items = await astore.run(load_conversations, str(path), files_only=True)
        except ImportFileError as error:
            self.notify(f"{error.message[:1].upper()}{error.message[1:]} {error.hint}".strip(),  # type: ignore[attr-defined]
                        title="Nothing imported", severity="error", markup=False)
            return
        result = await astore.import_conversations(items)
        severity = "warning" if result.refused or not result.imported else "information"
        self.notify(import_summary(result), title="Import", severity=severity, markup=False)  # type: ignore[attr-defined]
        self.sidebar.refresh_list()  # type: ignore[attr-defined]
        self.home.refresh_home()  # type: ignore[attr-defined]

    # Another store

    @store_guarded
    async def action_open_store(self) -> None:
        from agentterm.recent_stores import recent_stores, shown_name
        from agentterm.store.target import mask
        from agentterm.tui.screens.confirm import ChoiceScreen

        here = shown_name(self.app.store.path)  # type: ignore[attr-defined]
        stores = [s for s in await self.app.astore.run(recent_stores) if s != here]  # type: ignore[attr-defined]
        choices = [(store, store) for store in stores] + [("Another store: type its path...", OTHER)]

        async def picked(choice: str | None) -> None:
            if choice == OTHER:
                self._ask_store_path()
            elif choice:
                await self.switch_store(choice)

        body = f"This one is {mask(here or self.app.store.path)}. " + (  # type: ignore[attr-defined]
            "The stores opened lately:" if stores else "No other store was opened lately.")
        self.app.push_screen(ChoiceScreen("Open another store", body, choices),  # type: ignore[attr-defined]
                             guarded(self, picked))

    def _ask_store_path(self) -> None:
        from agentterm.tui.screens.text_prompt import TextPromptScreen

        async def typed(text: str | None) -> None:
            if text and text.strip():
                await self.switch_store(text.strip())

        self.app.push_screen(TextPromptScreen(  # type: ignore[attr-defined]
            "Open the store at", "", help="a SQLite file (agentterm.db) or a postgresql:// URL",
            confirm_label="Open"), guarded(self, typed))

    async def switch_store(self, text: str, *, create: bool = False) -> bool:
        """Reopen the app on the store at `text`: the new one opened first (a bad one changes
        nothing), then a new main screen over it, then the old store closed."""
        from agentterm.store.target import is_postgres, mask

        app = self.app
        if self.chat_pane.streaming:  # type: ignore[attr-defined]
            self.notify("An answer is still streaming: stop it (escape) or let it end, then "  # type: ignore[attr-defined]
                        "open another store.", severity="warning")
            return False
        try:
            target = _store_path(text)
        except StoreError as error:
            self.notify(str(error), title="Not opened", severity="error", markup=False)  # type: ignore[attr-defined]
            return False
        if not is_postgres(target):
            problem = self._path_problem(target)
            if problem == "missing" and not create:
                self._offer_to_create(text, target)
                return False
            if problem not in (None, "missing"):
                self.notify(problem, title="Not opened", severity="error", markup=False)  # type: ignore[attr-defined]
                return False
        from agentterm.store import AsyncStore

        try:
            new = await AsyncStore.open(target)
        except StoreError as error:
            self.notify(str(error), title="Not opened", severity="error", markup=False)  # type: ignore[attr-defined]
            return False
        # The app's worker, not this screen's: this screen is taken down on the way.
        app.run_worker(app.reopen_on(new, f"Opened the store {mask(target)}."),  # type: ignore[attr-defined]
                       group="reopen", exclusive=True)
        return True

    async def reopened(self) -> None:
        """The app runs on another store: every widget made anew over it, read as at start."""
        await self.recompose()  # type: ignore[attr-defined]
        self.sidebar.refresh_list()  # type: ignore[attr-defined]
        self.home.refresh_home()  # type: ignore[attr-defined]
        self.sidebar.options.focus()  # type: ignore[attr-defined]
        self.call_after_refresh(self._mount_chat)  # type: ignore[attr-defined]

    @staticmethod
    def _path_problem(path: Path) -> str | None:
        if path.is_dir():
            return f"{path} is a directory: give the path of a store's file (agentterm.db)."
        if not path.exists():
            return "missing" if path.parent.is_dir() else \
                f"There is no store at {path}: its directory {path.parent} does not exist."
        return None

    def _offer_to_create(self, text: str, path: Path) -> None:
        from agentterm.tui.screens.confirm import ConfirmScreen

        async def answered(confirmed: bool | None) -> None:
            if confirmed:
                await self.switch_store(text, create=True)

        self.app.push_screen(ConfirmScreen(  # type: ignore[attr-defined]
            "Create a new store?", f"There is no store at {path}.\nCreate an empty one there and open it?",
            confirm_label="Create and open"), guarded(self, answered))
