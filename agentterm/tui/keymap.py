"""Every binding that has an id, where it applies, and its key under the user's keymap."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap

# (where it applies, "module:Class"): the app first, then the widgets and screens with keys.
PLACES: list[tuple[str, str]] = [
    ("Everywhere", "agentterm.tui.app:AgentTermApp"),
    ("Prompt", "agentterm.tui.widgets.prompt_input:PromptInput"),
    ("Sidebar list", "agentterm.tui.widgets.conversation_list:ConversationOptions"),
    ("A focused message", "agentterm.tui.widgets.message:MessageView"),
    ("Agents screen", "agentterm.tui.screens.agents:AgentsScreen"),
    ("Agent editor", "agentterm.tui.screens.agent_editor:AgentEditorScreen"),
    ("Agent versions", "agentterm.tui.screens.agent_versions:VersionsScreen"),
    ("Agent picker", "agentterm.tui.screens.agent_picker:AgentPickerScreen"),
    ("Dialogs", "agentterm.tui.screens.confirm:ConfirmScreen"),
    ("Choice dialogs", "agentterm.tui.screens.confirm:ChoiceScreen"),
    ("Text dialogs", "agentterm.tui.screens.text_prompt:TextPromptScreen"),
    ("Help", "agentterm.tui.screens.help:HelpScreen"),
]


@dataclass
class KeyRow:
    place: str
    id: str
    keys: str
    default: str
    description: str

    @property
    def remapped(self) -> bool:
        return self.keys != self.default


def _bindings(target: str) -> list[Binding]:
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return []
    bindings = [b for b in cls.BINDINGS if isinstance(b, Binding)]
    return [b for b in bindings if b.id]


def key_rows(keymap: dict[str, str]) -> list[KeyRow]:
    """The bindings as they are now: each default key replaced where the keymap names its id."""
    normalized = {binding_id: keys for binding_id, keys in keymap.items()}
    rows: list[KeyRow] = []
    for place, target in PLACES:
        for binding in _bindings(target):
            # BindingsMap.apply_keymap is how Textual itself applies a keymap: reuse it, so what
            # Help shows is what the keys do.
            applied = BindingsMap([binding])
            applied.apply_keymap(normalized)
            keys = ",".join(applied.key_to_bindings) or binding.key
            rows.append(KeyRow(place, binding.id or "", keys, binding.key, binding.description))
    return rows


def unknown_ids(keymap: dict[str, str]) -> set[str]:
    known = {row.id for row in key_rows({})}
    return set(keymap) - known
