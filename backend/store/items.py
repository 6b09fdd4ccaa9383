"""Stored thread items back into `ThreadItem`s, keeping parsed items between loads."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime

from chatkit.types import ThreadItem, WidgetItem
from pydantic import TypeAdapter

from backend.timestamps import from_storage
from shared_widgets import WidgetTree

ITEM_ADAPTER: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
# Enough for the history of a few thousand active threads; parsed, the items take ~4x this.
CACHE_BYTES = 8 * 2**20
# Kinds whose loaded copies nobody changes below the top level. A loaded workflow is continued
# in place by the SDK (tasks appended, summary set), so it is parsed afresh every time.
CACHED_KINDS = frozenset({"user_message", "assistant_message", "widget"})


class ItemDecoder:
    """Decodes item rows, reusing the parsed item while its stored JSON is unchanged.

    Every turn reads the thread's newest items again (the model's history, and the SDK's look at
    the last ones). Parsing a message costs ~30 µs and validating a widget's tree 40-250 µs; a copy
    of the parsed item costs ~3 µs. The cache is keyed by the stored JSON itself, so it can never
    serve other data (another user's item would have to be byte-identical, ids included), and it
    is bounded by the bytes of that JSON, least recently used first out.
    """

    def __init__(self, capacity_bytes: int = CACHE_BYTES) -> None:
        self._items: OrderedDict[str, ThreadItem] = OrderedDict()
        self._bytes = 0
        self._capacity = capacity_bytes

    def decode(self, created_at: datetime, kind: str, data: str) -> ThreadItem:
        """The item stored as `data`; the row's `created_at` wins over the payload's copy."""
        if kind not in CACHED_KINDS:
            item = self._parse(kind, data)
            item.created_at = from_storage(created_at)
            return item
        parsed = self._items.get(data)
        if parsed is not None:
            self._items.move_to_end(data)
        else:
            parsed = self._items[data] = self._parse(kind, data)
            self._bytes += len(data)
            while self._bytes > self._capacity and len(self._items) > 1:
                self._bytes -= len(self._items.popitem(last=False)[0])
        # Callers set top-level fields (created_at, signed attachments); nested parts of these
        # kinds are only read, so a shallow copy keeps the cached item intact.
        item = parsed.model_copy()
        item.created_at = from_storage(created_at)
        return item

    @staticmethod
    def _parse(kind: str, data: str) -> ThreadItem:
        if kind != "widget":
            return ITEM_ADAPTER.validate_json(data)
        # The SDK's WidgetRoot union would coerce template widgets into the deprecated named
        # classes and drop props those classes lack: keep the stored JSON as a dynamic widget
        # (one that serializes as that JSON: see `WidgetTree`).
        fields = json.loads(data)
        widget = WidgetTree.of(fields.pop("widget"))
        return WidgetItem.model_validate({**fields, "widget": widget})
