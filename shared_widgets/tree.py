"""`WidgetTree`: a widget root that keeps the JSON tree it was built from, and serializes as it.

The SDK's widget components each drop `None` values from their whole subtree when serialized, so a
widget costs time in proportion to its size times its depth: a list of 20 tasks with their buttons
took 2.6 ms per serialization, and a tool turn serializes its widget three times (the SSE event,
the Store, the model's summary). A `WidgetTree` drops them once, when built, and serializes as that
tree (0.3 ms). It is still a `DynamicWidgetRoot` with its components built, so code that reads it,
or a serializer that ignores the subclass, sees the same widget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatkit.widgets import DynamicWidgetRoot
from pydantic import PrivateAttr, SerializerFunctionWrapHandler, model_serializer


def without_none(value: Any) -> Any:
    """`value` without the `None`s the SDK's widget serializer leaves out (a null `children` stays)."""
    if isinstance(value, Mapping):
        return {
            key: without_none(item) for key, item in value.items() if item is not None or key == "children"
        }
    if isinstance(value, list):
        return [without_none(item) for item in value if item is not None]
    return value


class WidgetTree(DynamicWidgetRoot):
    """A widget root built from a JSON tree, which it keeps and serializes as.

    Serializing through a parent type (a `WidgetItem`) uses this serializer only with
    `serialize_as_any=True`, as the backend's Store and protocol serialization do."""

    _tree: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, tree: Mapping[str, Any]) -> WidgetTree:
        """The widget for `tree` (validated as the SDK would)."""
        clean = without_none(tree)
        widget = cls.model_validate(clean)
        widget._tree = clean
        return widget

    @model_serializer(mode="wrap")
    def serialize(self, next_: SerializerFunctionWrapHandler) -> Any:
        """The kept tree (pydantic copies it out); without one, what the SDK's serializer gives."""
        if self._tree:
            return self._tree
        dumped = without_none(next_(self))
        if isinstance(dumped, dict):
            dumped["type"] = self.type
        return dumped

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> WidgetTree:
        """A copy; one with changed fields no longer serializes as the old tree."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied._tree = {}
        return copied
