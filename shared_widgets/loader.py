"""Widget folders: `.widget` templates and a `widgets.json` manifest, read and checked when they load.

A folder holds `<name>.widget` files (ChatKit's widget template format: a Jinja `template` and the
`jsonSchema` of its data) and, optionally, `widgets.json`:

    {"server": "tasks",                       # only where no config entry names the folder
     "tools": {"list_tasks": {"template": "task_list", "progress": "Looking at your tasks…"}},
     "actions": {"tasks.complete": {"tool": "complete_task", "payload": {"task_id": "task_id"}}}}

`tools` says which template renders each tool's structured result (and, optionally, the progress
line while it runs, for a tool without an MCP title); `actions` is that folder's part of the action
table (`shared_widgets.actions`), an action's `server` defaulting to the folder's. Templates compile
in the SDK's template language (Jinja, strict about undefined names) with one helper of ours,
`action(type, **payload)`, which writes an ActionConfig the way the action table says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from chatkit.widgets import WidgetTemplate
from jinja2 import Environment, StrictUndefined, TemplateError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .actions import ActionSpec, ActionTable

MANIFEST = "widgets.json"
SUFFIX = ".widget"
# `action("type", ...)` in a template: each type it names must be in the table.
_ACTION_CALL = re.compile(r"""\baction\(\s*["']([^"']+)["']""")


class WidgetsError(ValueError):
    """A widget folder that cannot be used; the message names the file and what is wrong."""


class ToolBinding(BaseModel):
    """Which template of the folder renders one tool's result, and its progress line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    """A `.widget` file of the same folder, by name (without the suffix)."""
    progress: str | None = Field(default=None, max_length=120)
    """The line shown while the tool runs, when the tool has no MCP title."""


class Manifest(BaseModel):
    """`widgets.json`: the folder's bindings and actions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server: str | None = None
    """The MCP server the bindings are for, when no config entry names the folder."""
    tools: dict[str, ToolBinding] = Field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class WidgetFolder:
    """A folder of widgets to load: for `server` (the config entry naming it), or for the server
    its manifest names (the packaged folders)."""

    path: Traversable
    server: str | None = None
    packaged: bool = False


@dataclass(frozen=True)
class Binding:
    """A tool's template (its library name), progress line, the file that said so, and whether
    that file is one of this package's (whose servers may offer fewer tools: `deny_tools`)."""

    template: str
    progress: str | None = None
    source: str = ""
    packaged: bool = False


@dataclass
class Loaded:
    """What a set of folders holds, before the templates compile."""

    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # template name -> its file
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    action_files: dict[str, str] = field(default_factory=dict)
    bindings: dict[tuple[str, str], Binding] = field(default_factory=dict)


def packaged_folders() -> list[WidgetFolder]:
    """This package's widgets: `templates/` (generic, approval) and each folder under it."""
    root = resources.files(__package__) / "templates"
    folders = [WidgetFolder(root, packaged=True)]
    folders.extend(
        WidgetFolder(entry, packaged=True)
        for entry in sorted(root.iterdir(), key=lambda entry: entry.name)
        if entry.is_dir() and not entry.name.startswith(("_", "."))
    )
    return folders


def configured_folder(path: str | Path, server: str) -> WidgetFolder:
    """A server's `widgets` folder from the MCP config; `WidgetsError` when it is not a folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise WidgetsError(f"widgets folder {folder} (server {server!r}) is not a directory")
    return WidgetFolder(folder, server=server)


def _read_json(entry: Traversable) -> Any:
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WidgetsError(f"{entry}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise WidgetsError(f"{entry}: not valid JSON ({exc})") from None


def _manifest(folder: WidgetFolder) -> tuple[Manifest, str]:
    entry = folder.path / MANIFEST
    if not entry.is_file():
        return Manifest(), str(entry)
    try:
        return Manifest.model_validate(_read_json(entry)), str(entry)
    except ValidationError as exc:
        raise WidgetsError(f"{entry}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _read_folder(folder: WidgetFolder, loaded: Loaded) -> None:
    manifest, manifest_file = _manifest(folder)
    server = folder.server or manifest.server
    if manifest.tools and server is None:
        raise WidgetsError(f"{manifest_file}: binds tools but names no server (give `server`)")
    names: dict[str, str] = {}
    for entry in sorted(folder.path.iterdir(), key=lambda entry: entry.name):
        if not entry.name.endswith(SUFFIX) or not entry.is_file():
            continue
        stem = entry.name.removesuffix(SUFFIX)
        name = stem if folder.packaged else f"{server}/{stem}"
        definition = _read_json(entry)
        if not isinstance(definition, dict) or not isinstance(definition.get("template"), str):
            raise WidgetsError(f"{entry}: a .widget file is an object with a `template` string")
        if not isinstance(definition.get("jsonSchema", {}), dict):
            raise WidgetsError(f"{entry}: `jsonSchema` must be an object")
        if name in loaded.definitions:
            raise WidgetsError(
                f"{entry}: a template named {name!r} is already loaded from {loaded.files[name]}"
            )
        loaded.definitions[name], loaded.files[name] = definition, str(entry)
        names[stem] = name
    for action_type, raw in manifest.actions.items():
        if action_type in loaded.actions:
            first = loaded.action_files[action_type]
            raise WidgetsError(f"{manifest_file}: action {action_type!r} is already declared in {first}")
        entry_spec = dict(raw)
        if "tool" in entry_spec and "server" not in entry_spec and server is not None:
            entry_spec["server"] = server
        try:
            loaded.actions[action_type] = ActionSpec.model_validate(entry_spec)
        except ValidationError as exc:
            raise WidgetsError(f"{manifest_file}: action {action_type!r}: {_first_error(exc)}") from None
        loaded.action_files[action_type] = manifest_file
    for tool, binding in manifest.tools.items():
        if binding.template not in names:
            known = ", ".join(sorted(names)) or "none"
            raise WidgetsError(
                f"{manifest_file}: tool {tool!r} names template {binding.template!r}, which is not a "
                f"{SUFFIX} file of this folder (it has: {known})"
            )
        assert server is not None
        loaded.bindings[server, tool] = Binding(
            names[binding.template], binding.progress, manifest_file, folder.packaged
        )


def template_environment(actions: ActionTable) -> Environment:
    """The environment `.widget` templates compile in: the SDK's settings plus `action()`."""
    environment = Environment(undefined=StrictUndefined)

    def action(action_type: str, **payload: Any) -> str:
        return actions.config(action_type, payload)

    environment.globals["action"] = action
    return environment


def compile_templates(
    definitions: Mapping[str, dict[str, Any]], files: Mapping[str, str], actions: ActionTable
) -> dict[str, WidgetTemplate]:
    """Each definition compiled against `actions`; a syntax error or an action type the table does
    not declare is a `WidgetsError` naming the file."""
    environment = template_environment(actions)
    templates: dict[str, WidgetTemplate] = {}
    for name, definition in definitions.items():
        source = definition["template"]
        unknown = sorted({found for found in _ACTION_CALL.findall(source) if found not in actions.actions})
        if unknown:
            raise WidgetsError(
                f"{files[name]}: uses action types no widgets.json declares: {', '.join(unknown)}"
            )
        try:
            compiled = environment.from_string(source)
        except TemplateError as exc:
            raise WidgetsError(f"{files[name]}: the template does not compile ({exc})") from None
        templates[name] = WidgetTemplate({**definition, "template": compiled})
    return templates


def read_folders(folders: Iterable[WidgetFolder]) -> Loaded:
    """Every folder's templates, actions and bindings (a later folder's binding of a tool wins)."""
    loaded = Loaded()
    for folder in folders:
        _read_folder(folder, loaded)
    return loaded
