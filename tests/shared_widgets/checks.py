"""Checks shared by the widget tests: strict props per component, lossless round trips, schema shapes."""

from __future__ import annotations

import json
from typing import Any

from chatkit import widgets
from chatkit.widgets import DynamicWidgetRoot, WidgetRoot, WidgetTemplate
from pydantic import BaseModel, TypeAdapter

# The SDK's named classes are deprecated for building widgets; here they only check props and values.
COMPONENTS: dict[str, type[BaseModel]] = {
    name: getattr(widgets, name)
    for name in (
        "Card", "ListView", "ListViewItem", "Text", "Title", "Caption", "Badge", "Markdown",
        "Box", "Row", "Col", "Divider", "Icon", "Image", "Button", "Spacer",
        "Form", "Input", "Textarea", "Select", "DatePicker", "Label",
    )
}  # fmt: skip
ROOTS = {"Card", "ListView"}
WIDGET_ROOT: TypeAdapter[Any] = TypeAdapter(WidgetRoot)


def render_json(template: WidgetTemplate, data: dict[str, Any]) -> str:
    """The template's raw output: the JSON text before the SDK parses it."""
    return template.template.render(**data)


def assert_strict(node: Any, path: str = "root") -> None:
    """Every node is a known component whose props exist on its SDK class and hold allowed values."""
    assert isinstance(node, dict), f"{path}: not an object"
    kind = node.get("type")
    assert kind in COMPONENTS, f"{path}: unknown component {kind!r}"
    component = COMPONENTS[kind]
    unknown = set(node) - set(component.model_fields)
    assert not unknown, f"{path} ({kind}): props the SDK does not know: {sorted(unknown)}"
    own = {key: value for key, value in node.items() if key != "children"}
    if "children" in component.model_fields:
        own["children"] = []
    component.model_validate(own)  # raises on a bad value (a Badge colour, a Text size, an icon name...)
    children = node.get("children") or []
    for index, child in enumerate(children):
        if kind == "ListView":
            assert child.get("type") == "ListViewItem", f"{path}: a ListView holds ListViewItems only"
        assert_strict(child, f"{path}.{kind}[{index}]")


def _without_null_children(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_null_children(v) for k, v in node.items() if not (k == "children" and v is None)}
    if isinstance(node, list):
        return [_without_null_children(v) for v in node]
    return node


def check_widget(template: WidgetTemplate, data: dict[str, Any]) -> tuple[DynamicWidgetRoot, dict[str, Any]]:
    """Build `data` with `template` and prove the result valid, strict and lossless; return both forms."""
    text = render_json(template, data)
    assert "</script" not in text.lower(), "markup must leave the template escaped"
    raw = json.loads(text)
    assert raw["type"] in ROOTS
    assert_strict(raw)
    widget = template.build(data)
    assert isinstance(widget, DynamicWidgetRoot)
    dumped = widget.model_dump(mode="json")
    assert _without_null_children(dumped) == raw
    # The SDK's WidgetRoot union (how a stored widget item is read back) keeps every prop.
    strict = WIDGET_ROOT.validate_python(raw)
    assert _without_null_children(strict.model_dump(mode="json")) == raw
    return widget, raw


def walk(node: Any) -> list[dict[str, Any]]:
    """Every component under (and including) `node`, depth first."""
    if not isinstance(node, dict):
        return []
    found = [node]
    for child in node.get("children") or []:
        found.extend(walk(child))
    return found


def texts(node: Any) -> list[str]:
    """The visible strings of a raw widget: values, labels and the status header."""
    found = [
        component["value"] if "value" in component else component["label"]
        for component in walk(node)
        if isinstance(component.get("value", component.get("label")), str)
    ]
    status = node.get("status") if isinstance(node, dict) else None
    return ([status["text"]] if status else []) + found


ANNOTATIONS = {"title", "description", "examples", "default", "$comment"}


def normalize_schema(schema: Any, root: dict[str, Any] | None = None) -> Any:
    """A JSON schema with `$ref`s inlined, annotations dropped and `required` sorted: its shape alone."""
    root = schema if root is None else root
    if isinstance(schema, list):
        return [normalize_schema(entry, root) for entry in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return normalize_schema(target, root)
    shape: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS or key == "$defs":
            continue
        if key == "properties":
            shape[key] = {name: normalize_schema(sub, root) for name, sub in value.items()}
        elif key == "required":
            shape[key] = sorted(value)
        else:
            shape[key] = normalize_schema(value, root)
    return shape
