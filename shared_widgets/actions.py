"""The action table: what each widget action type does, as data (the `actions` of each widget
folder's `widgets.json`).

A widget's buttons and forms carry ActionConfigs whose `type` is a key of the table. An entry says
which MCP tool the action calls (or none: an action may only change what the widget shows), which
payload keys it takes and which tool argument each becomes, further arguments as templates over the
payload and the record the action is about, and how the result is shown: it replaces the clicked
widget, or it is added to the thread as a new widget.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from chatkit.actions import LoadingBehavior
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import htmlsafe_json_dumps
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .state import WidgetState, find_record

# Table templates are data, rendered with untrusted payload values: sandboxed, and strict about names.
_TEMPLATES = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class ActionRefused(ValueError):
    """An action request that cannot run as sent; the message says why, for the person or client."""


class ActionSpec(BaseModel):
    """One row of the action table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server: str | None = None
    """The MCP server (its name in the server config) whose tool the action calls."""
    tool: str | None = None
    """The tool; with no server and tool the action only changes the widget's `ui` state."""
    payload: dict[str, str | None] = Field(default_factory=dict)
    """Payload key -> the tool argument it becomes (null: accepted, but not passed to the tool)."""
    arguments: dict[str, str] = Field(default_factory=dict)
    """More tool arguments: Jinja templates over `payload` and `record`."""
    record: str | None = None
    """A payload key whose value is the `id` of a record shown in the widget: `record` in templates."""
    inherit: list[str] = Field(default_factory=list)
    """Arguments kept from the call that rendered the widget, when it was a call of the same tool."""
    show: Literal["replace", "add"] = "replace"
    """`replace` re-renders the clicked widget; `add` adds the result as a new widget item."""
    remove: bool = False
    """With `replace`, the record the tool returns leaves the lists of the widget (a deletion)."""
    ui: dict[str, str] = Field(default_factory=dict)
    """The widget's `ui` state after the action: ui key -> the payload key that gives its value."""
    streaming: bool = False
    """Whether the widget sends it as `threads.custom_action` (true) or `threads.sync_custom_action`."""
    loading: LoadingBehavior = "self"
    """Where the UI shows the action's spinner."""
    note: str | Literal[False] | None = None
    """What the model is told afterwards (a hidden context item): a Jinja template over `payload`,
    `record`, `result` (structured) and `text` (the tool's text); null: a generic sentence; false: nothing."""
    decide: Literal["approve", "reject"] | None = None
    """The action decides a tool call that waits for the user's approval (its `approval_id`), and
    the paused run goes on: no tool of the table's is called."""

    @model_validator(mode="after")
    def _consistent(self) -> ActionSpec:
        if (self.server is None) != (self.tool is None):
            raise ValueError("give both `server` and `tool`, or neither")
        if self.decide is not None and (self.tool is not None or "approval_id" not in self.payload):
            raise ValueError("`decide` takes an `approval_id` payload key, and no tool")
        if self.tool is None and (self.arguments or self.inherit or self.show == "add" or self.remove):
            raise ValueError("`arguments`, `inherit`, `remove` and `show: add` need a tool")
        if self.record is not None and self.record not in self.payload:
            raise ValueError(f"`record` names {self.record!r}, which is not a payload key")
        unknown = sorted(set(self.ui.values()) - set(self.payload))
        if unknown:
            raise ValueError(f"`ui` takes values from payload keys {unknown}, which the payload lacks")
        mapped = [argument for argument in self.payload.values() if argument is not None]
        clashes = sorted(set(mapped) & (set(self.arguments) | set(self.inherit)))
        if len(set(mapped)) != len(mapped) or clashes:
            raise ValueError(f"each tool argument comes from one place only (clash: {clashes or mapped})")
        for name, source in self.arguments.items():
            try:
                _TEMPLATES.from_string(source)
            except TemplateError as exc:
                raise ValueError(f"argument {name!r}: {exc}") from None
        if isinstance(self.note, str):
            try:
                _TEMPLATES.from_string(self.note)
            except TemplateError as exc:
                raise ValueError(f"note: {exc}") from None
        return self

    @cached_property
    def _compiled(self) -> dict[str, Any]:
        return {name: _TEMPLATES.from_string(source) for name, source in self.arguments.items()}

    @cached_property
    def _note(self) -> Any:
        return _TEMPLATES.from_string(self.note) if isinstance(self.note, str) else None

    def arguments_for(self, payload: Mapping[str, Any], sender: WidgetState | None) -> dict[str, Any]:
        """The tool arguments for a checked `payload`, before the tool's input schema coerces them:
        mapped payload keys, templated arguments and inherited ones."""
        record = self.record_for(payload, sender)
        arguments = {
            argument: payload[key]
            for key, argument in self.payload.items()
            if argument is not None and key in payload
        }
        for name, template in self._compiled.items():
            try:
                arguments[name] = template.render(payload=payload, record=record)
            except TemplateError as exc:
                raise ActionRefused(f"The widget's data does not fit this action ({exc}).") from None
        source = sender.source if sender is not None else None
        if source is not None and (source.server, source.tool) == (self.server, self.tool):
            for name in self.inherit:
                if name in source.arguments and name not in arguments:
                    arguments[name] = source.arguments[name]
        return arguments

    def record_for(self, payload: Mapping[str, Any], sender: WidgetState | None) -> Mapping[str, Any] | None:
        """The record of the sender's data that the payload's `record` key names (None without one)."""
        if self.record is None:
            return None
        record = find_record(sender.data, payload.get(self.record)) if sender is not None else None
        if record is None:
            raise ActionRefused(f"This widget shows no record with that {self.record}.")
        return record

    def ui_for(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The sender's `ui` state after this action."""
        return {key: payload.get(source) for key, source in self.ui.items()}

    def note_for(
        self,
        payload: Mapping[str, Any],
        sender: WidgetState | None,
        result: Mapping[str, Any] | None,
        text: str,
    ) -> str | None:
        """The hidden context sentence for the model, or None when this action records none."""
        if self.note is False or (self.note is None and self.tool is None):
            return None
        if self.note is None:
            return f"From a widget, the user called {self.tool}: {text}".strip()
        try:
            record = self.record_for(payload, sender)
            return str(self._note.render(payload=payload, record=record, result=result or {}, text=text))
        except (TemplateError, ActionRefused):  # a result of another shape: still say what ran
            return f"From a widget, the user called {self.tool}: {text}".strip()


class ActionTable(BaseModel):
    """Action type -> what it does: the `actions` of every loaded widget folder, merged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actions: dict[str, ActionSpec]

    def get(self, action_type: str) -> ActionSpec:
        """The entry for `action_type`, or `ActionRefused`."""
        spec = self.actions.get(action_type)
        if spec is None:
            raise ActionRefused(f"Unknown action type {action_type[:80]!r}.")
        return spec

    def config(self, action_type: str, payload: Mapping[str, Any]) -> str:
        """An ActionConfig as JSON text, for templates: `{{ action("tasks.complete", task_id=t.id) }}`.

        The table decides how the UI sends it (`streaming`) and where its spinner shows."""
        spec = self.actions.get(action_type)
        if spec is None:
            raise TemplateError(f"the action table has no type {action_type!r}")
        config = {
            "type": action_type,
            "handler": "server",
            "payload": dict(payload),
            "streaming": spec.streaming,
            "loadingBehavior": spec.loading,
        }
        return str(htmlsafe_json_dumps(config, dumps=json.dumps))
