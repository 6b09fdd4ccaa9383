"""`WidgetTree` serializes exactly as the SDK's widget classes do, by every path, only faster."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from chatkit.types import ThreadItemDoneEvent, WidgetItem
from chatkit.widgets import DynamicWidgetRoot

from shared_widgets import TEMPLATES, WidgetTree
from tests.shared_widgets import samples
from tests.shared_widgets.checks import render_json

CASES = samples.TEMPLATE_CASES


def sdk(tree: dict[str, Any]) -> DynamicWidgetRoot:
    return DynamicWidgetRoot.model_validate(tree)


def wire(model: Any, **options: Any) -> Any:
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True, **options))


@pytest.mark.parametrize(("name", "data"), CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_a_tree_serializes_as_the_sdk_widget(name: str, data: dict[str, Any]) -> None:
    tree = json.loads(render_json(TEMPLATES[name], data))
    ours, theirs = WidgetTree.of(tree), sdk(tree)
    assert wire(ours) == wire(theirs) == tree
    assert ours.model_dump(exclude_none=True) == theirs.model_dump(exclude_none=True)
    item = {"id": "msg_1", "thread_id": "thr_1", "created_at": datetime(2026, 1, 2)}
    event, sdk_event = (
        ThreadItemDoneEvent(item=WidgetItem(**item, widget=widget)) for widget in (ours, theirs)
    )
    assert isinstance(event.item, WidgetItem) and event.item.widget is ours  # kept as it is
    assert wire(event, serialize_as_any=True) == wire(sdk_event)  # the fast path
    assert wire(event) == wire(sdk_event)  # a serializer that ignores the subclass: same output


def test_nones_are_dropped_once_as_the_sdk_drops_them() -> None:
    tree = {
        "type": "Card",
        "status": None,
        "children": [
            {"type": "Button", "label": None, "onClickAction": {"type": "x", "payload": {"a": None}}}
        ],
    }
    assert (
        wire(WidgetTree.of(tree))
        == wire(sdk(tree))
        == {
            "type": "Card",
            "children": [{"type": "Button", "onClickAction": {"type": "x", "payload": {}}}],
        }
    )


def test_a_changed_copy_no_longer_serializes_as_the_old_tree() -> None:
    widget = WidgetTree.of({"type": "Card", "size": "md", "children": []})
    changed = widget.model_copy(update={"size": "lg"})
    assert wire(changed)["size"] == "lg" and wire(widget)["size"] == "md"
    assert wire(widget.model_copy()) == wire(widget)


def test_dumps_are_copies() -> None:
    widget = WidgetTree.of({"type": "Card", "children": [{"type": "Text", "value": "a"}]})
    dumped = widget.model_dump()
    dumped["children"][0]["value"] = "changed"
    assert wire(widget)["children"][0]["value"] == "a"
