"""Each action of the app (palette action or key id) and its command-line twin, for the docs and a test."""

from __future__ import annotations

# action -> the twin's words after `agentterm` (the first options show how), or APP_ONLY with why.
# Keys are the palette's actions (agentterm/tui/commands.py) and the ids of the app's key bindings;
# tests/test_cli_twins.py fails when the app gains an action missing here, or a twin goes away.
APP_ONLY = "app only"

TWINS: dict[str, str | tuple[str, str]] = {
    # The command palette
    "new_conversation": "ask -a AGENT PROMPT",
    "focus_filter": "chats search QUERY",
    "show_view('inbox')": "chats list",
    "show_view('archive')": "chats list --view archive",
    "show_view('trash')": "chats list --view trash",
    "rename": "chats rename ID TITLE",
    "tags": "chats tag ID TAG",
    "pin": "chats pin ID",
    "archive": "chats archive ID",
    "delete": "chats rm ID",
    "restore": "chats restore ID",
    "purge": "chats purge ID",
    "empty_trash": "chats purge --all",
    "clear": "chats clear ID --yes",
    "move": "chats move ID AGENT",
    "export('markdown')": "chats export ID --format md",
    "export('json')": "chats export ID --format json",
    "import_file": "chats import FILE",
    "open_store": "chats list --db PATH",  # every command takes --db; `agentterm --db PATH` opens the app there
    "copy_conversation": "chats copy ID",
    "copy_last_answer": "chats copy ID --last",
    "retry": "chats regenerate ID",
    "continue_answer": "chats continue ID",
    "edit_last_prompt": "chats edit-prompt ID PROMPT",
    "fork_here": "chats fork ID --at MESSAGE_ID",
    "app.agents": "agents list",
    "edit_agent": "agents edit NAME",
    "resume_agent": "agents resume NAME",
    "stop": (APP_ONLY, "ctrl+c stops `agentterm ask`; the partial answer is kept"),
    "previous_conversation": (APP_ONLY, "moving through the sidebar"),
    "next_conversation": (APP_ONLY, "moving through the sidebar"),
    "toggle_sidebar": (APP_ONLY, "layout"),
    "home": (APP_ONLY, "the dashboard: `chats list` and `agents list` print its data"),
    "jump_to_latest": (APP_ONLY, "scrolling"),
    "focus_prompt": (APP_ONLY, "focus"),
    "app.toggle_dark": (APP_ONLY, "theme"),
    "app.help": (APP_ONLY, "`agentterm --help` and `agentterm COMMAND --help`"),
    # Key bindings of the app, by id
    "app.new_conversation": "ask -a AGENT PROMPT",
    "app.previous_conversation": (APP_ONLY, "moving through the sidebar"),
    "app.next_conversation": (APP_ONLY, "moving through the sidebar"),
    "app.search": "chats search QUERY",
    "app.toggle_sidebar": (APP_ONLY, "layout"),
    "app.rename": "chats rename ID TITLE",
    "app.delete": "chats rm ID",
    "app.edit_agent": "agents edit NAME",  # (app.agents, the key, is the palette's entry above)
    "app.stop": (APP_ONLY, "ctrl+c stops `agentterm ask`; the partial answer is kept"),
    "app.copy_last_answer": "chats copy ID --last",
    "app.command_palette": (APP_ONLY, "the palette itself"),
    "app.quit": (APP_ONLY, "leaving the app"),
    "chat.send": "ask --conversation ID PROMPT",
    "chat.newline": (APP_ONLY, "editing the prompt"),
    "sidebar.rename": "chats rename ID TITLE",
    "sidebar.delete": "chats rm ID",
    "sidebar.archive": "chats archive ID",
    "sidebar.pin": "chats pin ID",
    "sidebar.restore": "chats restore ID",
    "sidebar.tags": "chats tag ID TAG",
    "message.copy": "chats copy ID --message MESSAGE_ID",
    "message.copy_code": "chats copy ID --message MESSAGE_ID --code",
    "message.delete": "chats rm-message MESSAGE_ID",
    "message.retry": "chats regenerate ID",
    "message.continue": "chats continue ID",
    "message.edit": "chats edit-prompt ID PROMPT",
    "message.fork": "chats fork ID --at MESSAGE_ID",
    "message.variant_previous": "chats variants ID --prompt MESSAGE_ID --select VERSION",
    "message.variant_next": "chats variants ID --prompt MESSAGE_ID --select VERSION",
    "agents.new": "agents create NAME",
    "agents.edit": "agents edit NAME",
    "agents.chat": "ask -a AGENT PROMPT",
    "agents.duplicate": "agents duplicate NAME",
    "agents.pause": "agents pause NAME",
    "agents.retire": "agents retire NAME",
    "agents.delete": "agents rm NAME",
    "agents.versions": "agents versions NAME",
    "agents.export": "agents export NAME",
    "agents.import": "agents import FILE",
    "agents.close": (APP_ONLY, "closing a screen"),
    "editor.save": "agents edit NAME",
    "editor.cancel": (APP_ONLY, "closing a screen"),
    "editor.versions": "agents versions NAME",
    "versions.restore": "agents restore NAME VERSION",
    "versions.close": (APP_ONLY, "closing a screen"),
    "picker.cancel": (APP_ONLY, "closing a dialog"),
    "picker.toggle_inactive": "agents list --all",
    "confirm.yes": (APP_ONLY, "a dialog's answer"),
    "confirm.no": (APP_ONLY, "a dialog's answer"),
    "choice.cancel": (APP_ONLY, "a dialog's answer"),
    "text_prompt.cancel": (APP_ONLY, "a dialog's answer"),
    "text_prompt.save": (APP_ONLY, "a dialog's answer"),
    "help.close": (APP_ONLY, "closing a screen"),
}


def twin_command(action: str) -> str | None:
    """The twin's words for an action, or None when it is an app-only action."""
    twin = TWINS[action]
    return None if isinstance(twin, tuple) else twin
