"""Widget actions: the one generic handler behind `threads.custom_action` and
`threads.sync_custom_action`. It knows nothing of tasks or items: the action table says what an
action type does, and the clicked widget's stored state says what it shows.

An action runs without the model: check the request against the table, the widget the Store has
(it must offer that action with that payload) and the tool's input schema; call the tool with the
user's identity; re-render the widget (or add a new one) and note what was done for the model.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import Action, HiddenContextItem, ThreadItem, ThreadMetadata, WidgetItem
from mcp_types import CallToolResult, TextContent

from backend.actions.arguments import ArgumentChecker
from backend.actions.notes import WIDGET_NOTES, widget_notes
from backend.context import RequestContext
from backend.mcp.hub import McpHub, ToolUnavailable
from backend.request_checks import RequestRejected
from backend.store import SqlStore
from shared_widgets import (
    BUILTIN,
    TEMPLATE_ERRORS,
    ActionRefused,
    ActionSpec,
    Rendered,
    SourceCall,
    WidgetLibrary,
    WidgetState,
    matching_action,
)
from shared_widgets.outcomes import outcome, with_notice

MAX_PAYLOAD_KEYS = 50
MAX_CHECKED = 256
MAX_NOTES = 20
MAX_PAYLOAD_BYTES = 64 * 1024
SAVE_ATTEMPTS = 5
NOTICE_CHARS = 200
IdentityMeta = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Prepared:
    """A checked action: what it is, what it acts on, and the tool call it makes (if any)."""

    type: str
    spec: ActionSpec
    payload: dict[str, Any]
    sender: WidgetItem
    state: WidgetState
    version: int
    call: SourceCall | None


@dataclass(frozen=True)
class Done:
    """What an action changed: the clicked widget (same id) and the items it added."""

    sender: WidgetItem | None
    added: list[ThreadItem]


def _refused(message: str) -> RequestRejected:
    return RequestRejected(400, "invalid_action", message)


def _payload(action: Action[str, Any]) -> dict[str, Any]:
    payload = action.payload if action.payload is not None else {}
    if not isinstance(payload, dict) or not all(isinstance(key, str) for key in payload):
        raise _refused("An action's payload must be an object.")
    if len(payload) > MAX_PAYLOAD_KEYS or len(json.dumps(payload, default=str)) > MAX_PAYLOAD_BYTES:
        raise _refused("The action's payload is too large.")
    return payload


def _text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent)).strip()


def short_error(text: str) -> str:
    """A tool's error as a line for a widget: its first sentence (the rest is advice for models)."""
    text = re.sub(r"^Error executing tool \S+: ", "", " ".join(text.split()))
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] or "The action did not work."
    return first if len(first) <= NOTICE_CHARS else first[: NOTICE_CHARS - 1] + "…"


class WidgetActions:
    """Checks and runs widget actions for one backend: its Store, its MCP servers, its widget
    library (templates and the action table)."""

    def __init__(
        self,
        store: SqlStore,
        hub: McpHub | None,
        identity: IdentityMeta,
        library: WidgetLibrary = BUILTIN,
    ) -> None:
        self.store, self.hub, self.identity = store, hub, identity
        self.library, self.table = library, library.actions
        self.arguments = ArgumentChecker()
        # What `check` prepared for a request, for its `run` moments later (the SDK loads the
        # thread and the sender in between): each request is checked once, not twice.
        # Keyed by the request's context object too: its request id may be the client's X-Request-ID.
        self._checked: OrderedDict[tuple[str, int, str, str], Prepared] = OrderedDict()

    async def check(
        self, thread_id: str, item_id: str | None, action: Action[str, Any], context: RequestContext
    ) -> None:
        """Raise `RequestRejected` unless this action request would run (called before streaming)."""
        if item_id is None:
            raise _refused("Widget actions must name the widget they come from (item_id).")
        try:
            sender = await self.store.load_item(thread_id, item_id, context)
        except NotFoundError:
            raise RequestRejected(404, "not_found", f"No item with id '{item_id}'.") from None
        if not isinstance(sender, WidgetItem):
            raise _refused("Actions come from widgets; that item is not one.")
        prepared = await self.prepare(thread_id, action, sender, context)
        if context.request_id:
            self._checked[context.request_id, id(context), thread_id, item_id] = prepared
            while len(self._checked) > MAX_CHECKED:  # requests that failed before they ran
                self._checked.popitem(last=False)

    async def prepare(
        self, thread_id: str, action: Action[str, Any], sender: WidgetItem, context: RequestContext
    ) -> Prepared:
        """Everything checked, nothing called: `RequestRejected` says what is wrong."""
        try:
            spec = self.table.get(action.type)
        except ActionRefused as exc:
            raise _refused(str(exc)) from None
        payload = _payload(action)
        stored = await self.store.widget_states.load(thread_id, sender.id, context)
        if stored is None:
            raise _refused("This widget has no actions.")
        state, version = stored
        # What the widget offers was noted when it was rendered, with its state (the same widget the
        # Store holds): a request must be one of those controls, ids and all.
        control = matching_action(state.offers, action.type, payload)
        if control is None:
            raise _refused(await self._not_offered(spec, payload, context))
        unexpected = sorted(set(payload) - set(spec.payload) - control.fields)
        if unexpected:
            raise _refused(f"Unexpected payload keys for {action.type}: {', '.join(unexpected)}.")
        kept = {key: value for key, value in payload.items() if key in spec.payload}
        call = None
        if spec.server is not None and spec.tool is not None:
            schema = self._schema(spec.server, spec.tool)
            try:
                arguments = spec.arguments_for(kept, state)
                arguments = self.arguments.check(spec.tool, arguments, schema)
            except ActionRefused as exc:
                raise _refused(str(exc)) from None
            call = SourceCall(server=spec.server, tool=spec.tool, arguments=arguments)
        return Prepared(action.type, spec, kept, sender, state, version, call)

    async def _not_offered(self, spec: ActionSpec, payload: dict[str, Any], context: RequestContext) -> str:
        """Why a widget does not offer an action: for a decision on a settled request, what it was."""
        approval_id = payload.get("approval_id")
        if spec.decide is not None and isinstance(approval_id, str):
            approval = await self.store.approvals.load(approval_id, context)
            if approval is not None and approval.status != "pending":
                return f"This request was {approval.status} already: a request is decided once."
        return "This widget does not offer that action with that payload."

    def _schema(self, server: str, tool: str) -> dict[str, Any]:
        if self.hub is None or not self.hub.configured(server):
            raise _refused(f"This backend has no {server} tool server configured.")
        schema = self.hub.tool_schema(server, tool)
        if schema is None:
            if self.hub.status().get(server, "ok") != "ok":
                raise RequestRejected(
                    503,
                    "unavailable",
                    f"The {server} tool server is unavailable right now. Try again shortly.",
                )
            raise _refused(f"The {server} tool server does not offer {tool}.")
        return schema

    async def prepared(
        self, thread: ThreadMetadata, action: Action[str, Any], sender: WidgetItem, context: RequestContext
    ) -> Prepared:
        """The action as `check` prepared it for this request, or prepared now."""
        prepared = self._checked.pop((context.request_id, id(context), thread.id, sender.id), None)
        if prepared is None or prepared.type != action.type or prepared.sender.widget is not sender.widget:
            prepared = await self.prepare(thread.id, action, sender, context)
        return prepared

    async def run(
        self, thread: ThreadMetadata, action: Action[str, Any], sender: WidgetItem, context: RequestContext
    ) -> Done:
        """Check, call the tool, save the widget's new state and say what changed (not yet streamed
        or saved as items: the caller does that)."""
        return await self.execute(thread, await self.prepared(thread, action, sender, context), context)

    async def execute(self, thread: ThreadMetadata, prepared: Prepared, context: RequestContext) -> Done:
        """Run a prepared action (one that calls a tool, or only changes the widget's `ui`)."""
        sender = prepared.sender
        result: CallToolResult | None = None
        failure: str | None = None
        if prepared.call is not None:
            assert self.hub is not None  # a call is only prepared with a hub that offers the tool
            call = prepared.call
            try:
                result = await self.hub.call_tool(
                    call.server, call.tool, call.arguments, self.identity(context.user_id)
                )
            except ToolUnavailable as exc:
                failure = str(exc)
            else:
                failure = short_error(_text(result) or "The tool failed.") if result.is_error else None
        structured = result.structured_content if result is not None and not failure else None
        structured = structured if isinstance(structured, Mapping) else None
        state, version = prepared.state, prepared.version
        changed: Rendered | None = None
        added: Rendered | None = None
        for _ in range(SAVE_ATTEMPTS):
            if failure is not None:
                changed, added = _failed(self.library, state, sender.widget, failure), None
            else:
                done = outcome(
                    self.library, prepared.spec, state, prepared.payload, prepared.call, structured
                )
                changed, added = done.sender, done.added
            if changed is None:
                break
            states = self.store.widget_states
            if await states.save(thread.id, sender.id, changed.state, context, expected=version) is not None:
                break
            reloaded = await states.load(thread.id, sender.id, context)
            if reloaded is None:  # the widget was deleted meanwhile: nothing left to re-render
                changed = None
                break
            state, version = reloaded  # another action got there first: apply this result to its state
        else:
            changed = None  # it kept changing under us: leave it to the other actions
        items: list[ThreadItem] = []
        if added is not None:
            items.append(await self._add_widget(thread, added, context))
        text = _text(result) if result is not None else ""
        note = None if failure else prepared.spec.note_for(prepared.payload, prepared.state, structured, text)
        if note:
            items.append(await self._noted(thread, note, context, fresh=bool(items)))
        updated = sender.model_copy(update={"widget": changed.widget}) if changed is not None else None
        return Done(sender=updated, added=items)

    async def _noted(
        self, thread: ThreadMetadata, note: str, context: RequestContext, *, fresh: bool
    ) -> HiddenContextItem:
        """The hidden item that tells the model what was done from widgets. Clicks in a row (nothing
        else said or shown since) share one item, so they cannot crowd the conversation out of the
        model's history window; it keeps their last `MAX_NOTES` notes."""
        if not fresh:
            last = (await self.store.load_thread_items(thread.id, None, 1, "desc", context)).data
            if last and isinstance(last[0], HiddenContextItem) and widget_notes(last[0]) is not None:
                notes = [*(widget_notes(last[0]) or []), note][-MAX_NOTES:]
                return last[0].model_copy(update={"content": {WIDGET_NOTES: notes}})
        return HiddenContextItem(
            id=self.store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            content={WIDGET_NOTES: [note]},
        )

    async def _add_widget(
        self, thread: ThreadMetadata, added: Rendered, context: RequestContext
    ) -> WidgetItem:
        item = WidgetItem(
            id=self.store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            widget=added.widget,
        )
        if added.state.offers:
            await self.store.widget_states.save(thread.id, item.id, added.state, context)
        return item


def _failed(library: WidgetLibrary, state: WidgetState, shown: Any, message: str) -> Rendered:
    """The clicked widget again (any form closed), saying why the action did not work."""
    closed = state.model_copy(update={"ui": {}})
    try:
        rendered = library.render(closed)
    except TEMPLATE_ERRORS:  # the stored state no longer renders: keep the widget the user saw
        rendered = Rendered(state, shown)
    return Rendered(rendered.state, with_notice(rendered.widget, message))
