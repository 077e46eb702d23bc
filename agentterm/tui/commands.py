"""The command palette's provider: every action of the app, by name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    action: str
    """An action of the main screen, or of the app when it starts with 'app.'."""


COMMANDS: list[Command] = [
    Command("New conversation", "Pick an agent (or none) and start a conversation", "new_conversation"),
    Command("Previous conversation", "Open the conversation above in the sidebar", "previous_conversation"),
    Command("Next conversation", "Open the conversation below in the sidebar", "next_conversation"),
    Command("Search", "Filter titles as you type; enter searches every message", "focus_filter"),
    Command("Show inbox", "List the conversations in use", "show_view('inbox')"),
    Command("Show archive", "List archived conversations", "show_view('archive')"),
    Command("Show trash", "List deleted conversations, to restore or purge", "show_view('trash')"),
    Command("Toggle sidebar", "Show or hide the list of conversations", "toggle_sidebar"),
    Command("Home", "Close the conversation and show the dashboard", "home"),
    Command("Rename conversation", "Give the conversation a title of your own", "rename"),
    Command("Edit tags", "Set the conversation's tags", "tags"),
    Command("Pin or unpin conversation", "Pinned conversations stay at the top", "pin"),
    Command("Archive or unarchive conversation", "Move it out of the inbox, or back", "archive"),
    Command("Delete conversation", "Move it to the trash (it can be restored)", "delete"),
    Command("Restore conversation", "Bring a conversation back from the trash", "restore"),
    Command("Purge conversation", "Delete a trashed conversation for good", "purge"),
    Command("Empty trash", "Delete every trashed conversation for good", "empty_trash"),
    Command("Clear messages", "Delete every message but keep the conversation", "clear"),
    Command("Move to another agent", "Link the conversation to another agent, or none", "move"),
    Command("Export as Markdown", "Write the conversation to a Markdown file", "export('markdown')"),
    Command("Export as JSON", "Write the conversation to a JSON file", "export('json')"),
    Command("Import conversations", "From a file: agentterm JSON or ChatGPT's conversations.json",
            "import_file"),
    Command("Open another store", "Reopen the app on another store: one opened lately, or a path",
            "open_store"),
    Command("Copy conversation", "Copy the whole conversation as Markdown", "copy_conversation"),
    Command("Copy last answer", "Copy the newest answer to the clipboard", "copy_last_answer"),
    Command("Stop answer", "Stop the streaming answer; the partial text is kept", "stop"),
    Command("Retry answer", "Answer the last prompt again, replacing a failed answer", "retry"),
    Command("Continue answer", "Extend an interrupted answer where it stopped", "continue_answer"),
    Command("Edit last prompt", "Change the last prompt and send it again", "edit_last_prompt"),
    Command("Fork here", "A new conversation with the history up to the focused (or newest) message",
            "fork_here"),
    Command("Jump to latest", "Scroll to the newest message", "jump_to_latest"),
    Command("Focus prompt", "Put the cursor in the prompt", "focus_prompt"),
    Command("Agents", "Create, edit, pause and retire agents", "app.agents"),
    Command("Edit agent", "Open this conversation's agent in the editor", "edit_agent"),
    Command("Resume agent", "Set this conversation's paused or retired agent active again", "resume_agent"),
    Command("Switch model", "Pick the model (and provider) for this conversation's next answers", "switch_model"),
    Command("System prompt for this conversation", "Override the agent's instructions here only", "instructions"),
    Command("Open the parent conversation", "Back to the conversation this fork branched from", "open_parent"),
    Command("Make room in the context", "Summarise or drop every turn but the newest (they stay here)", "make_room"),
    Command("Toggle dark / light", "Switch between the dark and light themes", "app.toggle_dark"),
    Command("Help", "The keys, as they are mapped now", "app.help"),
]


class AgentTermCommands(Provider):
    """Every action, found by fuzzy match; the same actions the keys run."""

    def _run(self, command: Command) -> None:
        app = self.app
        if command.action.startswith("app."):
            app.run_worker(app.run_action(command.action[4:]), group="palette")
        else:
            main = app.main_screen  # type: ignore[attr-defined]
            app.run_worker(main.run_action(command.action), group="palette")

    async def discover(self) -> Hits:
        for command in COMMANDS:
            yield DiscoveryHit(command.title, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in COMMANDS:
            if (score := matcher.match(command.title)) > 0:
                yield Hit(score, matcher.highlight(command.title), partial(self._run, command),
                          help=command.help)
