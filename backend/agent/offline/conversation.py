"""What the offline model reads in its input: the thread's messages, the user's current request,
and the tool calls made for it so far (with their outputs).

The input is what the Agents SDK hands a model: the thread's newest items as `backend.agent.history`
converts them (typed messages; widgets as `[Shown to the user as a widget: ...]`; widget actions as
`[Done from widgets, ...]`; attachments as parts of the user message), then, within a turn, each
`function_call` and its `function_call_output`. A tool result reaches the model as the MCP result's
text (`[{"type": "input_text", "text": ...}]`): the servers' one-line summary, or JSON for a
structured result with no summary. Earlier turns' tool calls are not in the input: only the widgets
they showed and the replies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ATTACHED = re.compile(r"^\[The user attached a file: (?P<name>.*) \((?P<mime>[^()]*)\)\]")
NOTE_PREFIXES = ("[Shown to the user as a widget:", "[Done from widgets", "[Hidden context:")
CONTEXT_PREFIXES = ("The user is referring to this in particular:", "# User-provided context for @-mentions")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent with a message: its name (if known) and kind (MIME type or "image")."""

    name: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message: `typed` (by the user), `note` (a widget, a widget action, hidden context),
    `context` (a quote or @-mention details) or `assistant`."""

    kind: str
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """A tool call made for the current request, and its output (None while it has none)."""

    name: str
    arguments: dict[str, Any]
    output: str | None


@dataclass(frozen=True)
class Conversation:
    """The messages up to the current request (the last typed message), and the steps after it."""

    messages: tuple[Message, ...]
    request_index: int | None
    steps: tuple[Step, ...] = field(default=())

    @property
    def request(self) -> Message | None:
        """The user's current request."""
        return self.messages[self.request_index] if self.request_index is not None else None

    def before(self, index: int) -> Conversation:
        """The conversation as it was when message `index` was the last one (no steps: earlier
        turns' tool calls are not in the input)."""
        typed = [i for i, message in enumerate(self.messages[: index + 1]) if message.kind == "typed"]
        return Conversation(self.messages[: index + 1], typed[-1] if typed else None)

    def earlier(self) -> list[tuple[int, Message]]:
        """The messages before the request, newest first, with their indexes."""
        end = self.request_index if self.request_index is not None else len(self.messages)
        return [(index, self.messages[index]) for index in range(end - 1, -1, -1)]

    def previous_reply(self) -> tuple[int, Message] | None:
        """The assistant's last message before the request, when nothing typed came between."""
        for index, message in self.earlier():
            if message.kind == "assistant":
                return index, message
            if message.kind == "typed":
                return None
        return None

    def recent_texts(self) -> list[str]:
        """What was shown or said lately, newest first: this turn's tool outputs, then each earlier
        message (widgets, replies, notes)."""
        texts = [step.output for step in reversed(self.steps) if step.output]
        return texts + [message.text for _, message in self.earlier() if message.kind != "context"]

    def blocks(self) -> list[list[str]]:
        """What answered each earlier request, newest first: this turn's outputs, then for each
        earlier typed message the widgets, notes and replies that followed it."""
        blocks: list[list[str]] = []
        current = [step.output for step in reversed(self.steps) if step.output]
        if current:
            blocks.append(current)
        block: list[str] = []
        for _, message in self.earlier():
            if message.kind == "typed":
                if block:
                    blocks.append(block)
                block = []
            elif message.kind != "context":
                block.append(message.text)
        if block:
            blocks.append(block)
        return blocks


def text_of(content: Any) -> str:
    """The text of a message's content or a tool output (a string, a part, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "\n".join(text for part in content if (text := text_of(part)))
    return ""


def _plain(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else item


def _user_message(content: Any) -> Message:
    if isinstance(content, str):
        parts: list[Any] = [{"type": "input_text", "text": content}]
    else:
        parts = [_plain(part) for part in content] if isinstance(content, list) else []
    texts: list[str] = []
    attachments: list[Attachment] = []
    noted_image = False  # an image's note comes before its `input_image` part: one attachment
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "input_image":
            if not noted_image:
                attachments.append(Attachment(part.get("filename") or None, "image"))
            noted_image = False
        elif kind == "input_file":
            attachments.append(Attachment(part.get("filename") or None, "file"))
        elif isinstance(part.get("text"), str):
            text = part["text"]
            attached = ATTACHED.match(text)
            noted_image = attached is not None and attached["mime"].startswith("image/") and "\n" not in text
            if attached:
                attachments.append(Attachment(attached["name"], attached["mime"]))
            else:
                texts.append(text)
    text = " ".join(texts).strip()
    if text.startswith(NOTE_PREFIXES):
        return Message("note", text)
    if text.startswith(CONTEXT_PREFIXES):
        return Message("context", text)
    return Message("typed", text, tuple(attachments))


def _arguments(raw: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def read(model_input: str | Sequence[Any]) -> Conversation:
    """The conversation in a model input."""
    items: Iterable[Any] = (
        [{"role": "user", "content": model_input}] if isinstance(model_input, str) else model_input
    )
    messages: list[Message] = []
    calls: list[tuple[int, str, dict[str, Any], str]] = []  # (after message n, name, arguments, call id)
    outputs: dict[str, str] = {}
    for raw in items:
        item = _plain(raw)
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            calls.append(
                (
                    len(messages),
                    str(item.get("name", "")),
                    _arguments(item.get("arguments")),
                    str(item.get("call_id", "")),
                )
            )
        elif kind == "function_call_output":
            outputs[str(item.get("call_id", ""))] = text_of(item.get("output"))
        elif item.get("role") == "user" and kind in (None, "message"):
            messages.append(_user_message(item.get("content")))
        elif item.get("role") == "assistant" and kind in (None, "message"):
            text = text_of(item.get("content")).strip()
            if text:
                messages.append(Message("assistant", text))
    typed = [index for index, message in enumerate(messages) if message.kind == "typed"]
    request_index = typed[-1] if typed else None
    steps = tuple(
        Step(name, arguments, outputs.get(call_id))
        for after, name, arguments, call_id in calls
        if request_index is not None and after > request_index
    )
    return Conversation(tuple(messages), request_index, steps)
