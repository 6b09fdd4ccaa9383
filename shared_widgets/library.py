"""The widget library: templates, which tool each renders, and the action table, from widget folders.

`BUILTIN` holds this package's folders; a backend adds each MCP server's configured `widgets`
folder with `load_library`. A tool result becomes the widget its binding names, else a generic one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate
from jinja2 import TemplateError
from pydantic import ValidationError

from .actions import ActionTable
from .controls import offered_actions
from .generic import find_records, generic_card, generic_list
from .loader import Binding, WidgetFolder, WidgetsError, compile_templates, packaged_folders, read_folders
from .schema_fit import misfits
from .state import SourceCall, WidgetState
from .tree import WidgetTree

logger = logging.getLogger(__name__)
TEMPLATE_ERRORS = (TemplateError, ValidationError, LookupError, TypeError, ValueError, AttributeError)
PROGRESS_CHARS = 80


@dataclass(frozen=True)
class Rendered:
    """A widget and the state it was rendered from (with the actions its controls offer)."""

    state: WidgetState
    widget: DynamicWidgetRoot


class WidgetLibrary:
    """Templates by name, bindings by (server, tool), and the action table their controls use."""

    def __init__(
        self,
        templates: Mapping[str, WidgetTemplate],
        bindings: Mapping[tuple[str, str], Binding],
        actions: ActionTable,
        files: Mapping[str, str],
    ) -> None:
        self.templates: Mapping[str, WidgetTemplate] = MappingProxyType(dict(templates))
        self.bindings: Mapping[tuple[str, str], Binding] = MappingProxyType(dict(bindings))
        self.actions = actions
        self.files: Mapping[str, str] = MappingProxyType(dict(files))

    def render(self, state: WidgetState) -> Rendered:
        """The widget for a state (its template, data and `ui`), and the state with its offers.

        What `WidgetTemplate.build` does, keeping the JSON tree on the way: the offers are read
        from it, and the widget keeps it (see `WidgetTree`)."""
        tree = json.loads(self.templates[state.template].template.render(**state.template_input()))
        widget = WidgetTree.of(tree)
        return Rendered(state.model_copy(update={"offers": offered_actions(tree)}), widget)

    def bind_tool_result(
        self,
        server: str,
        tool: str,
        structured: Mapping[str, Any] | Sequence[Any] | None,
        arguments: Mapping[str, Any] | None = None,
    ) -> Rendered | None:
        """The state and widget for one tool result's `structuredContent` (None: nothing to show)."""
        if not structured or isinstance(structured, str | bytes):
            return None
        if not isinstance(structured, Mapping | Sequence):
            return None
        source = SourceCall(server=server, tool=tool, arguments=dict(arguments or {}))
        binding = self.bindings.get((server, tool))
        if binding is not None and isinstance(structured, Mapping):
            try:
                return self.render(
                    WidgetState(template=binding.template, data=dict(structured), source=source)
                )
            except TEMPLATE_ERRORS as exc:
                # A shape the template does not know (a newer server?): still show something.
                logger.warning(
                    "%s/%s result does not fit %s (%r); using the generic widget",
                    server,
                    tool,
                    self.files.get(binding.template, binding.template),
                    exc,
                )
        generic = _generic(tool, structured)
        if generic is None:
            return None
        return self.render(WidgetState(template=generic[0], data=generic[1], source=source))

    def render_tool_result(
        self, server: str, tool: str, structured: Mapping[str, Any] | Sequence[Any] | None
    ) -> DynamicWidgetRoot | None:
        """The widget for one tool result's `structuredContent`, or None when there is nothing to show."""
        bound = self.bind_tool_result(server, tool, structured)
        return bound.widget if bound is not None else None

    def progress(self, server: str, tool: str, title: str | None = None) -> str:
        """The line shown while a tool runs: its MCP title, else its binding's, else "Running <tool>…"."""
        binding = self.bindings.get((server, tool))
        if title and title.strip():
            text = title.strip().rstrip(".…") + "…"
        elif binding is not None and binding.progress:
            text = binding.progress
        else:
            text = f"Running {tool}…"
        return text if len(text) <= PROGRESS_CHARS else text[: PROGRESS_CHARS - 1].rstrip() + "…"

    def misfits(self, server: str, tools: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
        """Why this library's bindings for `server` do not fit the tools it lists (name -> output
        schema): a bound tool it does not offer, or a template that does not take its results."""
        problems = []
        for (bound_server, tool), binding in sorted(self.bindings.items()):
            if bound_server != server:
                continue
            if tool not in tools:
                if not binding.packaged:
                    offered = ", ".join(sorted(tools)) or "none"
                    problems.append(
                        f"{binding.source}: binds tool {tool!r}, which server {server!r} does not offer "
                        f"(it offers {offered})"
                    )
                continue
            output = tools[tool]
            if not output:
                continue
            template_file = self.files.get(binding.template, binding.template)
            found = misfits(self.templates[binding.template].data_schema, output)
            if found:
                problems.append(
                    f"{template_file} does not fit the output schema of {server}/{tool}: "
                    + "; ".join(found[:5])
                )
        return problems


def _generic(tool: str, structured: Mapping[str, Any] | Sequence[Any]) -> tuple[str, dict[str, Any]] | None:
    found = find_records(structured)
    if found is not None:
        return "generic_list", generic_list(structured, *found).model_dump()
    if isinstance(structured, Mapping) and (card := generic_card(tool, structured)) is not None:
        return "generic_card", card.model_dump()
    return None


def load_library(folders: Iterable[WidgetFolder] = ()) -> WidgetLibrary:
    """This package's widgets plus `folders` (a server's configured folder), checked as they load:
    `WidgetsError` names the file that does not hold together."""
    loaded = read_folders([*packaged_folders(), *folders])
    actions = ActionTable(actions=loaded.actions)
    templates = compile_templates(loaded.definitions, loaded.files, actions)
    return WidgetLibrary(templates, loaded.bindings, actions, loaded.files)


BUILTIN: WidgetLibrary = load_library()

__all__ = ["BUILTIN", "TEMPLATE_ERRORS", "Rendered", "WidgetLibrary", "WidgetsError", "load_library"]
