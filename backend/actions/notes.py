"""The hidden thread items in which widget actions tell the model what the user did."""

from __future__ import annotations

from chatkit.types import HiddenContextItem

WIDGET_NOTES = "widget_actions"  # the one key of such an item's content (other hidden items differ)


def widget_notes(item: HiddenContextItem) -> list[str] | None:
    """The notes of a hidden item written by widget actions, or None for any other hidden item."""
    content = item.content
    notes = content.get(WIDGET_NOTES) if isinstance(content, dict) and len(content) == 1 else None
    return notes if isinstance(notes, list) and all(isinstance(note, str) for note in notes) else None
