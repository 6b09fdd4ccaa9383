"""The actions a rendered widget offers: what its buttons and forms would send when used.

An action request is only honoured when the widget it names (the Store's copy, never the
client's) has a control that sends that type with that payload; a form adds the values of its
fields, so an action inside a form may also carry those field names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

# Components whose `name` is a form field (their value is sent with the form's actions).
FIELD_COMPONENTS = frozenset({"Input", "Textarea", "Select", "DatePicker", "Checkbox", "RadioGroup"})


class OfferedAction(BaseModel):
    """One control's action: its type and payload, and the form fields sent with it."""

    model_config = ConfigDict(frozen=True)

    type: str
    payload: dict[str, Any]
    fields: frozenset[str] = frozenset()
    streaming: bool = True


def _fields(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if node.get("type") in FIELD_COMPONENTS and isinstance(node.get("name"), str):
            yield node["name"]
        editable = node.get("editable")
        if isinstance(editable, Mapping) and isinstance(editable.get("name"), str):
            yield editable["name"]
        for value in node.values():
            yield from _fields(value)
    elif isinstance(node, list):
        for entry in node:
            yield from _fields(entry)


def _config(value: Any) -> Mapping[str, Any] | None:
    """`value` when it is an ActionConfig handled by the server."""
    server = isinstance(value, Mapping) and value.get("handler", "server") == "server"
    return value if server and isinstance(value.get("type"), str) else None


def offered_actions(widget: Mapping[str, Any]) -> list[OfferedAction]:
    """Every server-handled action in a widget tree (as JSON), with the fields of its form."""
    found: list[OfferedAction] = []

    def visit(node: Any, fields: frozenset[str]) -> None:
        if isinstance(node, list):
            for entry in node:
                visit(entry, fields)
            return
        if not isinstance(node, Mapping):
            return
        if node.get("type") == "Form" or (node.get("type") == "Card" and node.get("asForm")):
            fields = fields | frozenset(_fields(node.get("children")))
        for key, value in node.items():
            holder = (
                value.get("action") if key in ("confirm", "cancel") and isinstance(value, Mapping) else value
            )
            config = _config(holder) if key.endswith("Action") or key in ("confirm", "cancel") else None
            if config is not None:
                payload = config.get("payload")
                found.append(
                    OfferedAction(
                        type=config["type"],
                        payload=dict(payload) if isinstance(payload, Mapping) else {},
                        fields=fields,
                        streaming=config.get("streaming", True) is not False,
                    )
                )
            elif key != "type":
                visit(value, fields)

    visit(widget, frozenset())
    return found


def matching_action(
    offered: Iterable[OfferedAction], action_type: str, payload: Mapping[str, Any]
) -> OfferedAction | None:
    """The control that would send this request: same type, its payload within the request's
    (same values), and any other key one of its form's fields."""
    for control in offered:
        if control.type != action_type:
            continue
        if any(key not in payload or payload[key] != value for key, value in control.payload.items()):
            continue
        if set(payload) - set(control.payload) <= control.fields:
            return control
    return None
