"""Built-in agent templates: TOML files shipped inside the package."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from typing import Any

from agentterm.models import AGENT_FIELDS

TEMPLATE_FIELDS = frozenset(AGENT_FIELDS)


def list_templates() -> list[str]:
    """The templates' names (their file names without .toml), sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in files(__package__).iterdir()
        if entry.name.endswith(".toml")
    )


def load_template(name: str) -> dict[str, Any]:
    """The agent fields a template sets; ValueError names the templates there are."""
    if name not in list_templates():
        known = ", ".join(list_templates())
        raise ValueError(f"No agent template named {name!r}; the templates are: {known}")
    data = tomllib.loads(files(__package__).joinpath(f"{name}.toml").read_text("utf-8"))
    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        # A packaging mistake, caught by the tests rather than by a user.
        raise ValueError(f"Template {name!r} sets unknown fields: {', '.join(sorted(unknown))}")
    return data
