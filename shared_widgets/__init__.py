"""Widgets for MCP tool results: `.widget` templates and the registry that picks one per tool.

A leaf package: it depends on `chatkit` widget types (plus jinja2 and pydantic) and nothing of ours.
"""

from .loader import TEMPLATES
from .registry import BINDINGS, Binding, render_tool_result
from .summary import summarize_widget

__all__ = ["BINDINGS", "TEMPLATES", "Binding", "render_tool_result", "summarize_widget"]
