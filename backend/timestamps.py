"""The timezone policy, in one place.

ChatKit stamps items with naive `datetime.now()` (local time) and does arithmetic between that and
the `created_at` of items it loads from the Store (continuing a stored workflow, the "Thought for
Ns" summary). So the three boundaries are:
- into the database: every timestamp becomes UTC-aware (a naive one is read as local time);
- out of the Store: timestamps come back as naive local time, the SDK's own convention, so every
  SDK path that subtracts them from `datetime.now()` works;
- onto the wire: every timestamp the protocol sends (stored or freshly stamped) is UTC with an
  offset, so a browser in another time zone reads the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatkit.types import (
    Page,
    SyncCustomActionResponse,
    Thread,
    ThreadCreatedEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadUpdatedEvent,
)
from pydantic import BaseModel


def to_utc(moment: datetime) -> datetime:
    """For storage: UTC-aware (naive means local time)."""
    return moment.astimezone(UTC)


def from_storage(moment: datetime) -> datetime:
    """A stored timestamp (UTC; SQLite hands them back naive) as naive local time, like the SDK's."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone().replace(tzinfo=None)


def _stamped(model: Any) -> Any:
    """A shallow copy of a thread or item with a UTC-aware `created_at`."""
    moment = getattr(model, "created_at", None)
    if not isinstance(moment, datetime) or moment.tzinfo is UTC:
        return model
    return model.model_copy(update={"created_at": moment.astimezone(UTC)})


def for_the_wire(obj: BaseModel) -> BaseModel:
    """`obj` as the protocol sends it: the threads and items it carries with UTC timestamps."""
    if isinstance(obj, ThreadItemAddedEvent | ThreadItemDoneEvent | ThreadItemReplacedEvent):
        return obj.model_copy(update={"item": _stamped(obj.item)})
    if isinstance(obj, ThreadCreatedEvent | ThreadUpdatedEvent):
        return obj.model_copy(update={"thread": for_the_wire(obj.thread)})
    if isinstance(obj, Thread):
        items = obj.items.model_copy(update={"data": [_stamped(item) for item in obj.items.data]})
        return _stamped(obj).model_copy(update={"items": items})  # type: ignore[no-any-return]
    if isinstance(obj, ThreadMetadata):
        return _stamped(obj)  # type: ignore[no-any-return]
    if isinstance(obj, Page):
        data = [for_the_wire(e) if isinstance(e, ThreadMetadata) else _stamped(e) for e in obj.data]
        return obj.model_copy(update={"data": data})
    if isinstance(obj, SyncCustomActionResponse) and obj.updated_item is not None:
        return obj.model_copy(update={"updated_item": _stamped(obj.updated_item)})
    return obj
