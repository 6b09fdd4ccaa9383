"""The packaged `.widget` templates, loaded and compiled once at import."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

from chatkit.widgets import WidgetTemplate


def load_templates() -> dict[str, WidgetTemplate]:
    """Every `templates/<name>.widget` of this package, by name (read as package data, zip-safe)."""
    folder = resources.files(__package__) / "templates"
    templates: dict[str, WidgetTemplate] = {}
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".widget"):
            definition = json.loads(entry.read_text(encoding="utf-8"))
            templates[entry.name.removesuffix(".widget")] = WidgetTemplate(definition)
    return templates


TEMPLATES: Mapping[str, WidgetTemplate] = MappingProxyType(load_templates())
