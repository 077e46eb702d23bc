"""Every binding that has an id, where it applies, its key under the user's keymap, and clashes."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from textual.app import App
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
# The place of the ids named in the app's own words (dashboard, placeholder, notices): found
# without importing every screen, which start-up does not need.
PREFIX_PLACES = {"app": 0, "chat": 1, "sidebar": 2, "message": 3, "picker": 7}


@dataclass
class KeyRow:
    place: str
    id: str
    keys: str
    """The keys as mapped now, comma-separated; "" when a clash left it none."""
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


def _expanded(bindings: list[Binding]) -> list[Binding]:
    """One binding a key, as Textual holds them ("d,delete" is two)."""
    return [b.with_key(key.strip()) for b in bindings for key in b.key.split(",")]


def _applied(bindings: list[Binding], keymap: dict[str, str]) -> dict[str, list[str]]:
    """Each id's keys once the keymap is applied the way Textual applies it (BindingsMap)."""
    applied = BindingsMap(_expanded(bindings))
    applied.apply_keymap(App._normalize_keymap(keymap))  # as App.set_keymap holds it
    keys: dict[str, list[str]] = {b.id or "": [] for b in bindings}
    for key, on_key in applied.key_to_bindings.items():
        for binding in on_key:
            if binding.id in keys and key not in keys[binding.id]:
                keys[binding.id].append(key)
    return keys


def key_rows(keymap: dict[str, str]) -> list[KeyRow]:
    """The bindings as they are now: what the keys do, clashes included."""
    rows: list[KeyRow] = []
    for place, target in PLACES:
        bindings = _bindings(target)
        live = _applied(bindings, keymap)
        for binding in bindings:
            rows.append(KeyRow(place, binding.id or "", ",".join(live[binding.id or ""]), binding.key,
                               binding.description))
    return rows


def live_key(keymap: dict[str, str], binding_id: str) -> str:
    """The key that does this now (the first, as shown), or "" when none does."""
    index = PREFIX_PLACES.get(binding_id.partition(".")[0])
    targets = [PLACES[index][1]] if index is not None else [target for _place, target in PLACES]
    for target in targets:
        live = _applied(_bindings(target), keymap)
        if binding_id in live:
            return live[binding_id][0] if live[binding_id] else ""
    return ""


def key_label(node: Any, binding_id: str) -> str:
    """The key for the app's own words ("ctrl+n starts one"); "no key" when a clash took it."""
    keymap = getattr(getattr(node, "app", None), "keymap", None) or {}
    return live_key(keymap, binding_id) or "no key"


def unknown_ids(keymap: dict[str, str]) -> set[str]:
    known = {row.id for row in key_rows({})}
    return set(keymap) - known


def clashes(keymap: dict[str, str]) -> list[str]:
    """One line for each key the keymap gave an id that another id in the same place held.

    Textual resolves it one way: the id the keymap names gets the key, the other loses it (and
    keeps its other keys, if any). Each line names both ids and says what the loser has left.
    """
    lines: list[str] = []
    for place, target in PLACES:
        bindings = _bindings(target)
        mine = {b.id for b in bindings}
        live = _applied(bindings, keymap)
        defaults = {b.id: [k.strip() for k in b.key.split(",")] for b in bindings}
        for winner, keys in keymap.items():
            if winner not in mine:
                continue
            for key in (k.strip() for k in keys.split(",")):
                for loser, held in defaults.items():
                    if loser == winner or loser in keymap or key not in held:
                        continue
                    left = live.get(loser) or []
                    rest = f"keeps {', '.join(left)}" if left else "now has no key"
                    lines.append(f'{winner} = "{key}" takes {key} from {loser}, which {rest}'
                                 f" ({place.lower()}).")
        taken: dict[str, list[str]] = {}
        for binding_id, keys in keymap.items():
            if binding_id in mine:
                for key in (k.strip() for k in keys.split(",")):
                    taken.setdefault(key, []).append(binding_id)
        for key, ids in taken.items():
            if len(ids) > 1:
                lines.append(f'{" and ".join(ids)} are all set to "{key}" ({place.lower()}); '
                             "give each its own key.")
    return lines
