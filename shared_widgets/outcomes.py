"""What an action's result does to the thread: the clicked widget re-rendered, or a new widget.

`replace`: a result its tool renders with the clicked widget's own template takes the widget's place
(a task card completed, a list filtered); otherwise the record the result is about replaces the
record with the same id in the widget's data (a task completed from a list), or leaves its list
(`remove`); a result that fits neither is shown as its own widget in the clicked one's place.
`add`: the result's widget is a new item; the clicked widget stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatkit.widgets import DynamicWidgetRoot

from .actions import ActionSpec
from .library import TEMPLATE_ERRORS, Rendered, WidgetLibrary
from .state import SourceCall, WidgetState, merge_record, result_record
from .tree import WidgetTree

ERROR_ICON = "lucide:circle-alert"


@dataclass(frozen=True)
class ActionOutcome:
    """The clicked widget's new form (None: unchanged) and a widget to add (None: nothing)."""

    sender: Rendered | None
    added: Rendered | None


def _rendered(library: WidgetLibrary, state: WidgetState) -> Rendered | None:
    try:
        return library.render(state)
    except TEMPLATE_ERRORS:
        return None


def outcome(
    library: WidgetLibrary,
    spec: ActionSpec,
    sender: WidgetState,
    payload: Mapping[str, Any],
    call: SourceCall | None,
    structured: Mapping[str, Any] | None,
) -> ActionOutcome:
    """The thread's new widgets after an action that succeeded (`call` is None for a ui-only one)."""
    ui = spec.ui_for(payload)

    def same() -> Rendered | None:  # the clicked widget again, with its new `ui`
        return _rendered(library, sender.model_copy(update={"ui": ui}))

    if call is None:
        return ActionOutcome(sender=same(), added=None)
    result = library.bind_tool_result(call.server, call.tool, structured, call.arguments)
    if spec.show == "add":
        return ActionOutcome(sender=same() if ui != sender.ui else None, added=result)
    if result is not None and result.state.template == sender.template:
        if ui == result.state.ui:
            return ActionOutcome(sender=result, added=None)
        return ActionOutcome(
            sender=_rendered(library, result.state.model_copy(update={"ui": ui})), added=None
        )
    record = result_record(structured) if structured else None
    merged = merge_record(sender.data, record, remove=spec.remove) if record is not None else None
    if merged is not None:
        rendered = _rendered(library, sender.model_copy(update={"data": merged, "ui": ui}))
        if rendered is not None:
            return ActionOutcome(sender=rendered, added=None)
    return ActionOutcome(sender=result or same(), added=None)


def with_notice(widget: DynamicWidgetRoot, text: str) -> DynamicWidgetRoot:
    """The widget with `text` as its status line (why an action did not work), any template."""
    tree = widget.model_dump(exclude_none=True)
    return WidgetTree.of({**tree, "status": {"text": text, "icon": ERROR_ICON}})
