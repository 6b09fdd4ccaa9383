"""Widgets for MCP tool results: `.widget` templates, the registry that picks one per tool, and the
action table that says what each widget action does.

A leaf package: it depends on `chatkit` widget types (plus jinja2 and pydantic) and nothing of ours.
"""

from .actions import ActionRefused, ActionSpec, ActionTable
from .controls import OfferedAction, matching_action, offered_actions
from .loader import ACTIONS, TEMPLATES
from .registry import BINDINGS, Binding, Rendered, bind_tool_result, render, render_state, render_tool_result
from .state import SourceCall, WidgetState, find_record, merge_record, result_record
from .summary import summarize_widget
from .tree import WidgetTree

__all__ = [
    "ACTIONS",
    "BINDINGS",
    "TEMPLATES",
    "ActionRefused",
    "ActionSpec",
    "ActionTable",
    "Binding",
    "OfferedAction",
    "Rendered",
    "SourceCall",
    "WidgetState",
    "WidgetTree",
    "bind_tool_result",
    "find_record",
    "matching_action",
    "merge_record",
    "offered_actions",
    "render",
    "render_state",
    "render_tool_result",
    "result_record",
    "summarize_widget",
]
