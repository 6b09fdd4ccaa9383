"""What a widget was rendered from, kept server side so an action can render it again.

A widget item with actions keeps its template, the data the template was given, the tool call
that produced the data, and its `ui` state (a form open, a deletion being confirmed). None of it
reaches the client: the client only ever sees the rendered widget.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .controls import OfferedAction

# Names every template may read besides its data: the widget's `ui` state and the `call` behind it.
RESERVED_NAMES = frozenset({"ui", "call"})


class SourceCall(BaseModel):
    """The tool call whose result a widget shows."""

    model_config = ConfigDict(extra="forbid")

    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class WidgetState(BaseModel):
    """A widget's template, its data, where the data came from and its `ui` state; and, once
    rendered, the actions its controls offer (what an action request must match)."""

    model_config = ConfigDict(extra="forbid")

    template: str
    data: dict[str, Any]
    source: SourceCall | None = None
    ui: dict[str, Any] = Field(default_factory=dict)
    offers: list[OfferedAction] = Field(default_factory=list)

    def template_input(self) -> dict[str, Any]:
        """What the template renders: the data, plus the reserved `ui` and `call` names."""
        call = self.source.model_dump() if self.source is not None else {}
        return {**self.data, "ui": self.ui, "call": call}


def _has_id(value: Any, record_id: Any) -> bool:
    return isinstance(value, Mapping) and value.get("id") == record_id


def find_record(data: Mapping[str, Any], record_id: Any) -> Mapping[str, Any] | None:
    """The record with `id == record_id`: the data itself, a top-level object, or an element of a
    top-level list of objects (where tool results keep their records)."""
    if record_id is None or isinstance(record_id, bool | dict | list):
        return None
    if _has_id(data, record_id):
        return data
    for value in data.values():
        if _has_id(value, record_id):
            return value  # type: ignore[no-any-return]
        if isinstance(value, list):
            for entry in value:
                if _has_id(entry, record_id):
                    return entry  # type: ignore[no-any-return]
    return None


def result_record(structured: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The record a tool result is about: the result itself when it has an `id`, else its first
    top-level object with one (a change such as `{"status": "completed", "task": {...}}`)."""
    if "id" in structured:
        return structured
    return next(
        (value for value in structured.values() if isinstance(value, Mapping) and "id" in value), None
    )


def merge_record(
    data: Mapping[str, Any], record: Mapping[str, Any], *, remove: bool = False
) -> dict[str, Any] | None:
    """`data` with the record of the same id replaced by `record` (or, with `remove`, taken out of
    its list, and a sibling `total` count lowered); None when `data` holds no such record."""
    record_id = record.get("id")
    merged = copy.deepcopy(dict(data))
    if _has_id(merged, record_id):
        return None if remove else dict(record)
    for key, value in merged.items():
        if _has_id(value, record_id):
            if remove:
                return None
            merged[key] = dict(record)
            return merged
        if isinstance(value, list):
            for index, entry in enumerate(value):
                if not _has_id(entry, record_id):
                    continue
                if remove:
                    del value[index]
                    total = merged.get("total")
                    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
                        merged["total"] = total - 1
                else:
                    value[index] = dict(record)
                return merged
    return None
