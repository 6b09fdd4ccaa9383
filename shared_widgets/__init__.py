"""Widgets for MCP tool results: widget folders (`.widget` templates and a `widgets.json` manifest
saying which tool each renders and what its actions do), loaded into a `WidgetLibrary`.

A leaf package: it depends on `chatkit` widget types (plus jinja2 and pydantic) and nothing of ours.
"""

from .actions import ActionRefused, ActionSpec, ActionTable
from .controls import OfferedAction, matching_action, offered_actions
from .library import BUILTIN, TEMPLATE_ERRORS, Rendered, WidgetLibrary, load_library
from .loader import Binding, WidgetFolder, WidgetsError, configured_folder
from .state import SourceCall, WidgetState, find_record, merge_record, result_record
from .summary import summarize_widget
from .tree import WidgetTree

# The packaged library's templates, action table and rendering (what a client or a test uses; a
# backend renders with the library its MCP config loads).
TEMPLATES = BUILTIN.templates
ACTIONS = BUILTIN.actions
render = BUILTIN.render
bind_tool_result = BUILTIN.bind_tool_result
render_tool_result = BUILTIN.render_tool_result

__all__ = [
    "ACTIONS",
    "BUILTIN",
    "TEMPLATES",
    "TEMPLATE_ERRORS",
    "ActionRefused",
    "ActionSpec",
    "ActionTable",
    "Binding",
    "OfferedAction",
    "Rendered",
    "SourceCall",
    "WidgetFolder",
    "WidgetLibrary",
    "WidgetState",
    "WidgetTree",
    "WidgetsError",
    "bind_tool_result",
    "configured_folder",
    "find_record",
    "load_library",
    "matching_action",
    "merge_record",
    "offered_actions",
    "render",
    "render_tool_result",
    "result_record",
    "summarize_widget",
]
