"""Stored thread items back into `ThreadItem`s, keeping parsed widgets between loads."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime

from chatkit.types import ThreadItem, WidgetItem
from chatkit.widgets import DynamicWidgetRoot
from pydantic import TypeAdapter

ITEM_ADAPTER: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
WIDGET_CACHE_SIZE = 1024


def loaded(moment: datetime) -> datetime:
    """A stored timestamp as UTC (SQLite hands them back naive; they were stored as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ItemDecoder:
    """Decodes item rows. Validating a widget's tree costs 40-250 µs, and the newest items (the
    model's history, the SDK's look at the last two) are read again every turn, so a widget whose
    stored JSON is unchanged reuses its parsed tree (keyed by that JSON: it cannot serve other data)."""

    def __init__(self, capacity: int = WIDGET_CACHE_SIZE) -> None:
        self._widgets: OrderedDict[str, WidgetItem] = OrderedDict()
        self._capacity = capacity

    def decode(self, created_at: datetime, kind: str, data: str) -> ThreadItem:
        """The item stored as `data`; the row's `created_at` wins over the payload's copy."""
        item = self._widget(data) if kind == "widget" else ITEM_ADAPTER.validate_json(data)
        item.created_at = loaded(created_at)
        return item

    def _widget(self, data: str) -> WidgetItem:
        parsed = self._widgets.get(data)
        if parsed is not None:
            self._widgets.move_to_end(data)
        else:
            # The SDK's WidgetRoot union would coerce template widgets into the deprecated named
            # classes and drop props those classes lack: keep the stored JSON as a dynamic widget.
            fields = json.loads(data)
            widget = DynamicWidgetRoot.model_validate(fields.pop("widget"))
            parsed = self._widgets[data] = WidgetItem.model_validate({**fields, "widget": widget})
            if len(self._widgets) > self._capacity:
                self._widgets.popitem(last=False)
        return parsed.model_copy()  # callers may set fields; the shared tree is only read
