"""The actions a widget offers, as numbered choices the terminal user can trigger (`/do N`).

Read from the widget JSON alone, as the ChatKit UI reads it: buttons, clickable rows and forms
whose `onClickAction` / `onSubmitAction` are handled by the server. An action inside a form carries
the form's field values, as the UI sends them; a form's submit asks for each field first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .render import Node, child_nodes, string_at

FIELD_TYPES = {"Input", "Textarea", "Select", "DatePicker", "Checkbox", "RadioGroup"}
ICON_WORDS = {
    "empty-circle": "Complete", "check-circle-filled": "Reopen", "write": "Edit",
    "lucide:trash-2": "Delete", "plus": "Add", "reload": "Reopen", "check": "Done",
}  # fmt: skip


@dataclass(frozen=True)
class FormField:
    """One field of a form: its name, the component that holds it, what it offers and starts with."""

    name: str
    kind: str
    label: str
    default: Any = None
    options: tuple[str, ...] = ()
    required: bool = False


@dataclass
class Choice:
    """One action of one widget item."""

    item_id: str
    words: str  # what the control says ("Complete")
    about: str  # what it acts on: the row's or card's first text ("Buy milk"), or ""
    action: dict[str, Any]
    streaming: bool
    fields: list[FormField] = field(default_factory=list)
    submit: bool = False  # a form's submit: ask for its fields before sending

    @property
    def label(self) -> str:
        """`Complete · Buy milk`."""
        return f"{self.words} · {self.about}" if self.about and self.about != self.words else self.words


def _first_text(node: Node) -> str:
    """The first Title or Text of a subtree: what a row or card is about."""
    if node.get("type") in {"Title", "Text"} and string_at(node, "value").strip():
        return " ".join(string_at(node, "value").split())
    for child in child_nodes(node):
        if found := _first_text(child):
            return found
    return ""


def _fields(node: Node, labels: dict[str, str]) -> Iterator[FormField]:
    kind = str(node.get("type"))
    if kind == "Label" and isinstance(node.get("fieldName"), str):
        labels[node["fieldName"]] = string_at(node, "value")
    if kind in FIELD_TYPES and isinstance(node.get("name"), str):
        name = node["name"]
        listed = node.get("options")
        options = listed if isinstance(listed, list) else []
        default = node.get("defaultChecked") if kind == "Checkbox" else node.get("defaultValue")
        yield FormField(
            name=name,
            kind=kind,
            label=labels.get(name) or string_at(node, "label") or string_at(node, "placeholder") or name,
            default=default,
            options=tuple(str(option.get("value")) for option in options if isinstance(option, Mapping)),
            required=bool(node.get("required")),
        )
    editable = node.get("editable")
    if isinstance(editable, Mapping) and isinstance(editable.get("name"), str):
        name = editable["name"]
        yield FormField(name=name, kind="Input", label=labels.get(name) or name, default=node.get("value"))
    for child in child_nodes(node):
        yield from _fields(child, labels)


def _server_action(value: Any) -> dict[str, Any] | None:
    server = isinstance(value, Mapping) and value.get("handler", "server") == "server"
    return dict(value) if server and isinstance(value.get("type"), str) else None


def _button_label(node: Node) -> str:
    return (
        string_at(node, "label")
        or ICON_WORDS.get(string_at(node, "iconStart"), "")
        or string_at(node, "iconStart")
    )


def widget_choices(item: Node) -> list[Choice]:
    """Every server-handled action of a widget item, in reading order."""
    widget = item.get("widget")
    item_id = item.get("id")
    if not isinstance(widget, Mapping) or not isinstance(item_id, str):
        return []
    found: list[Choice] = []

    def add(config: dict[str, Any], label: str, about: str, form: list[FormField], submit: bool) -> None:
        payload = config.get("payload")
        action = {"type": config["type"], "payload": dict(payload) if isinstance(payload, Mapping) else {}}
        words = label or config["type"].rsplit(".", 1)[-1].replace("_", " ").capitalize()
        found.append(
            Choice(
                item_id=item_id,
                words=words,
                about=about,
                action=action,
                streaming=config.get("streaming", True) is not False,
                fields=list(form),
                submit=submit,
            )
        )

    def visit(node: Node, about: str, form: list[FormField], submit: dict[str, Any] | None) -> None:
        kind = node.get("type")
        if kind in {"ListViewItem", "Card"}:
            about = _first_text(node) or about
        if kind == "Form" or (kind == "Card" and node.get("asForm")):
            form = list(_fields(node, {}))
            submit = _server_action(node.get("onSubmitAction"))
        if kind == "Button" and node.get("submit") and submit is not None:
            add(submit, _button_label(node) or "Submit", about, form, True)
        for key in ("onClickAction", "onChangeAction"):
            config = _server_action(node.get(key))
            if config is not None:
                add(config, _button_label(node) if kind == "Button" else "Open", about, form, False)
        for child in child_nodes(node):
            visit(child, about, form, submit)
        for key in ("confirm", "cancel"):  # a card's footer buttons come after its content
            holder = node.get(key)
            config = _server_action(holder.get("action")) if isinstance(holder, Mapping) else None
            if config is not None and isinstance(holder, Mapping):
                asks = bool(node.get("asForm")) and key == "confirm"
                add(config, string_at(holder, "label"), about, form, asks)

    visit(widget, "", [], None)
    return found


def form_values(fields: list[FormField], answers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the form sends: each field's answer, else its starting value (as the UI would)."""
    values: dict[str, Any] = {}
    for entry in fields:
        value = (answers or {}).get(entry.name, entry.default)
        if entry.kind == "DatePicker" and isinstance(value, str) and len(value) >= 10 and "T" in value:
            value = value[:10]
        values[entry.name] = "" if value is None and entry.kind != "Checkbox" else value
    return values


class Choices:
    """The numbered choices shown so far; a widget re-rendered replaces its own."""

    def __init__(self) -> None:
        self._numbered: dict[int, Choice] = {}
        self._next = 1

    def clear(self) -> None:
        """Start numbering again (a new message)."""
        self._numbered.clear()
        self._next = 1

    def add(self, item: Node) -> list[tuple[int, Choice]]:
        """Number the choices of a widget item (dropping those of its previous rendering)."""
        item_id = item.get("id")
        for number in [n for n, choice in self._numbered.items() if choice.item_id == item_id]:
            del self._numbered[number]
        numbered = []
        for choice in widget_choices(item):
            self._numbered[self._next] = choice
            numbered.append((self._next, choice))
            self._next += 1
        return numbered

    def get(self, number: int) -> Choice | None:
        """The choice shown with `number`, if it still stands."""
        return self._numbered.get(number)

    def current(self) -> list[tuple[int, Choice]]:
        """Every choice that still stands, by number."""
        return sorted(self._numbered.items(), key=lambda entry: entry[0])
