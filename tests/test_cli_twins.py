"""Every action of the app has a command-line twin, or says in agentterm/cli/twins.py why it is the app's alone."""

from __future__ import annotations

import argparse

import pytest

from agentterm.cli import build_parser
from agentterm.cli.twins import APP_ONLY, TWINS, twin_command


def app_actions() -> set[str]:
    """The command palette's actions and the ids of every key binding the app has."""
    from agentterm.tui.commands import COMMANDS
    from agentterm.tui.keymap import key_rows

    return {c.action for c in COMMANDS} | {row.id for row in key_rows({})}


def cli_commands() -> set[str]:
    """Every command path of the parser: "ask", "chats rename", "agents versions" ..."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.add(f"{prefix}{name}")
                    walk(sub, f"{prefix}{name} ")

    walk(build_parser(), "")
    return found


def test_every_action_of_the_app_is_in_the_twins_table():
    missing = sorted(app_actions() - set(TWINS))
    assert not missing, f"add these app actions to agentterm/cli/twins.py, with their twin: {missing}"


def test_every_entry_of_the_table_is_an_action_the_app_has():
    stale = sorted(set(TWINS) - app_actions())
    assert not stale, f"agentterm/cli/twins.py names actions the app no longer has: {stale}"


def test_each_twin_is_a_command_that_parses():
    commands, parser = cli_commands(), build_parser()
    for action, twin in TWINS.items():
        if twin_command(action) is None:
            assert twin[0] == APP_ONLY and twin[1], f"{action}: say why it is the app's alone"
            continue
        words = twin.split()
        path = " ".join(words[:2]) if words[0] in ("chats", "agents") else words[0]
        assert path in commands, f"{action}: no command `agentterm {path}`"
        # With its placeholders filled in, the example parses: its options exist.
        filled = [{"ID": "1", "MESSAGE_ID": "2", "VERSION": "3"}.get(w, w.lower() if w.isupper() else w)
                  for w in words]
        try:
            parser.parse_args(filled)
        except SystemExit:
            pytest.fail(f"{action}: `agentterm {twin}` does not parse")



def test_docs_cli_lists_every_command():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = sorted(path for path in cli_commands() if " " in path and f"`{path.split()[1]}" not in text)
    assert not missing, f"docs/cli.md does not mention: {missing}"
