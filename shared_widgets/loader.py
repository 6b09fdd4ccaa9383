"""The packaged `.widget` templates and the action table, loaded and compiled once at import.

Templates compile in the SDK's template language (Jinja, strict about undefined names) with one
helper of ours, `action(type, **payload)`, which writes an ActionConfig the way the action table
says that type is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

from chatkit.widgets import WidgetTemplate
from jinja2 import Environment, StrictUndefined

from .actions import ActionTable


def load_actions() -> ActionTable:
    """`templates/actions.json` of this package."""
    source = resources.files(__package__) / "templates" / "actions.json"
    return ActionTable.model_validate({"actions": json.loads(source.read_text(encoding="utf-8"))})


def template_environment(actions: ActionTable) -> Environment:
    """The environment `.widget` templates compile in: the SDK's settings plus `action()`."""
    environment = Environment(undefined=StrictUndefined)

    def action(action_type: str, **payload: Any) -> str:
        return actions.config(action_type, payload)

    environment.globals["action"] = action
    return environment


def load_templates(actions: ActionTable | None = None) -> dict[str, WidgetTemplate]:
    """Every `templates/<name>.widget` of this package, by name (read as package data, zip-safe)."""
    environment = template_environment(actions or ACTIONS)
    folder = resources.files(__package__) / "templates"
    templates: dict[str, WidgetTemplate] = {}
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".widget"):
            definition = json.loads(entry.read_text(encoding="utf-8"))
            definition["template"] = environment.from_string(definition["template"])
            templates[entry.name.removesuffix(".widget")] = WidgetTemplate(definition)
    return templates


ACTIONS: ActionTable = load_actions()
TEMPLATES: Mapping[str, WidgetTemplate] = MappingProxyType(load_templates(ACTIONS))
