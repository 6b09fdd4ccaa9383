"""Tool result -> widget: a template per known (server, tool), a generic widget for the rest."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from chatkit.widgets import DynamicWidgetRoot
from jinja2 import TemplateError
from pydantic import ValidationError

from .controls import offered_actions
from .generic import find_records, generic_card, generic_list
from .loader import TEMPLATES
from .state import SourceCall, WidgetState
from .summary import summarize_widget
from .tree import WidgetTree

__all__ = [
    "BINDINGS",
    "Binding",
    "Rendered",
    "bind_tool_result",
    "render",
    "render_state",
    "render_tool_result",
    "summarize_widget",
]

logger = logging.getLogger(__name__)
TEMPLATE_ERRORS = (TemplateError, ValidationError, LookupError, TypeError, ValueError, AttributeError)


def _as_is(structured: Mapping[str, Any]) -> dict[str, Any]:
    return dict(structured)


def task_as_change(task: Mapping[str, Any]) -> dict[str, Any]:
    """`get_task` returns a bare Task: show it on the task card as a change of kind null (no change)."""
    return {"task_id": task["id"], "status": None, "title": task["title"], "task": dict(task)}


@dataclass(frozen=True)
class Binding:
    """Which template renders a tool's structured content, after which transformation."""

    template: str
    transform: Callable[[Mapping[str, Any]], dict[str, Any]] = _as_is


_TASK_CHANGE = Binding("task_card")
BINDINGS: Mapping[tuple[str, str], Binding] = MappingProxyType(
    {
        ("tasks", "list_tasks"): Binding("task_list"),
        ("tasks", "get_task"): Binding("task_card", task_as_change),
        **{
            ("tasks", tool): _TASK_CHANGE
            for tool in ("add_task", "update_task", "complete_task", "reopen_task", "delete_task")
        },
        ("items", "search_items"): Binding("item_results"),
        ("items", "get_item"): Binding("item_detail"),
        ("items", "list_categories"): Binding("category_list"),
    }
)


@dataclass(frozen=True)
class Rendered:
    """A widget and the state it was rendered from (with the actions its controls offer)."""

    state: WidgetState
    widget: DynamicWidgetRoot


def render(state: WidgetState) -> Rendered:
    """The widget for a state (its template, data and `ui`), and the state with its offers.

    What `WidgetTemplate.build` does, keeping the JSON tree on the way: the offers are read from it,
    and the widget keeps it (see `WidgetTree`)."""
    tree = json.loads(TEMPLATES[state.template].template.render(**state.template_input()))
    widget = WidgetTree.of(tree)
    return Rendered(state.model_copy(update={"offers": offered_actions(tree)}), widget)


def render_state(state: WidgetState) -> DynamicWidgetRoot:
    """The widget for a state."""
    return render(state).widget


def _generic(tool: str, structured: Mapping[str, Any] | Sequence[Any]) -> tuple[str, dict[str, Any]] | None:
    found = find_records(structured)
    if found is not None:
        return "generic_list", generic_list(structured, *found).model_dump()
    if isinstance(structured, Mapping) and (card := generic_card(tool, structured)) is not None:
        return "generic_card", card.model_dump()
    return None


def bind_tool_result(
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
    binding = BINDINGS.get((server, tool))
    if binding is not None and isinstance(structured, Mapping):
        try:
            state = WidgetState(template=binding.template, data=binding.transform(structured), source=source)
            return render(state)
        except TEMPLATE_ERRORS as exc:
            # A shape the template does not know (a newer server?): still show something.
            logger.warning(
                "%s/%s result does not fit %s.widget (%r); using the generic widget",
                server,
                tool,
                binding.template,
                exc,
            )
    generic = _generic(tool, structured)
    if generic is None:
        return None
    return render(WidgetState(template=generic[0], data=generic[1], source=source))


def render_tool_result(
    server: str, tool: str, structured: Mapping[str, Any] | Sequence[Any] | None
) -> DynamicWidgetRoot | None:
    """The widget for one tool result's `structuredContent`, or None when there is nothing to show."""
    bound = bind_tool_result(server, tool, structured)
    return bound.widget if bound is not None else None
