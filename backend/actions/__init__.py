"""Widget actions: buttons and forms that act on the data through MCP tools, without the model."""

from backend.actions.notes import widget_notes
from backend.actions.runner import Done, Prepared, WidgetActions

__all__ = ["Done", "Prepared", "WidgetActions", "widget_notes"]
