"""One turn's events on the console: live (streamed text, spinner) on a terminal, plain lines otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from .actions import Choice, Choices
from .protocol import MALFORMED, Event
from .render import MessageMarkdown, item_text, mapping, render_item, task_title

SILENT = {"stream_options", "client_effect", "thread.item.removed"}
HIDDEN_ITEMS = {"user_message", "end_of_turn", "hidden_context_item", "sdk_hidden_context"}


def choice_lines(numbered: list[tuple[int, Choice]]) -> list[Text]:
    """A widget's numbered actions, one line per thing they act on: `  Buy milk: [4] Complete  [5] Edit`."""
    groups: dict[str, list[tuple[int, Choice]]] = {}
    for number, choice in numbered:
        groups.setdefault(choice.about, []).append((number, choice))
    lines = []
    for about, entries in groups.items():
        line = Text("  ", style="dim")
        if about:
            line.append(f"{about}: ", style="dim")
        for index, (number, choice) in enumerate(entries):
            line.append(("  " if index else "") + f"[{number}] ", style="bold cyan")
            line.append(choice.words, style="cyan")
        lines.append(line)
    return lines


class TurnView:
    """Shows the events of one streamed response as they arrive; remembers the thread and any error.
    With `choices`, each widget's actions are numbered under it (for `/do N`)."""

    def __init__(self, console: Console, choices: Choices | None = None) -> None:
        self.console = console
        self.choices = choices
        self.thread_id: str | None = None
        self.errors: list[str] = []
        self.events = 0
        self._texts: dict[str, str] = {}  # assistant messages being streamed: item id -> text so far
        self._open_line: str | None = None  # plain mode: the message whose text ends the current line
        self._status: str | None = "waiting for the backend…"
        self._live: Live | None = None

    def __enter__(self) -> TurnView:
        if self.console.is_terminal:
            self._live = Live(self._view(), console=self.console, refresh_per_second=12, transient=True)
            self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            for text in self._texts.values():  # an interrupted stream: keep what arrived
                self.console.print(MessageMarkdown(text))
        self._end_line()

    def _view(self) -> RenderableType:
        parts: list[RenderableType] = [MessageMarkdown(text) for text in self._texts.values() if text]
        if self._status:
            parts.append(Spinner("dots", Text(self._status, style="dim")))
        return Group(*parts)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._view(), refresh=True)

    def _end_line(self) -> None:
        if self._open_line is not None:
            self.console.print()
            self._open_line = None

    def _print(self, renderable: RenderableType) -> None:
        self._end_line()
        self.console.print(renderable)

    def _set_status(self, text: str | None) -> None:
        if self._live is None:
            if text:
                self._print(Text(f"… {text}", style="dim"))
        else:
            self._status = text
            self._refresh()

    def handle(self, event: Event) -> None:
        """Show one event."""
        self.events += 1
        kind = event.get("type")
        if kind in {"thread.created", "thread.updated"}:
            thread_id = mapping(event.get("thread")).get("id")
            self.thread_id = thread_id if isinstance(thread_id, str) else self.thread_id
        elif kind == "thread.item.added":
            item = mapping(event.get("item"))
            if item.get("type") == "assistant_message" and isinstance(item.get("id"), str):
                self._texts.setdefault(item["id"], "")
                self._append(item["id"], item_text(item))
        elif kind == "thread.item.updated":
            self._update(str(event.get("item_id")), mapping(event.get("update")))
        elif kind in {"thread.item.done", "thread.item.replaced"}:
            self._done(mapping(event.get("item")))
        elif kind == "progress_update":
            self._set_status(str(event.get("text") or "working…"))
        elif kind == "notice":
            title = event.get("title")
            message = f"{title}: {event.get('message')}" if title else str(event.get("message"))
            self._print(Text(message, style="red" if event.get("level") == "danger" else "yellow"))
        elif kind == "error":
            message = event.get("message") or "the backend reported an error"
            self.errors.append(f"{message} ({event.get('code', 'custom')})")
            self._print(Text(f"error: {self.errors[-1]}", style="bold red"))
        elif kind == MALFORMED:
            self._print(Text(f"· malformed event: {event.get('data')}", style="dim"))
        elif kind not in SILENT:
            self._print(Text(f"· {kind} event", style="dim"))

    def _append(self, item_id: str, delta: str) -> None:
        if not delta:
            return
        self._texts[item_id] = self._texts.get(item_id, "") + delta
        if self._live is None:
            if self._open_line != item_id:
                self._end_line()
            self.console.print(Text(delta), end="", soft_wrap=True)
            self._open_line = item_id
        else:
            self._status = None
            self._refresh()

    def _update(self, item_id: str, update: Mapping[str, Any]) -> None:
        kind = update.get("type")
        if kind == "assistant_message.content_part.text_delta":
            self._append(item_id, str(update.get("delta") or ""))
        elif kind == "assistant_message.content_part.added":
            self._append(item_id, str(mapping(update.get("content")).get("text") or ""))
        elif kind in {"workflow.task.added", "workflow.task.updated"}:
            self._set_status(task_title(mapping(update.get("task"))))

    def _done(self, item: Mapping[str, Any]) -> None:
        kind, item_id = item.get("type"), item.get("id")
        if kind in HIDDEN_ITEMS:
            return
        if kind == "assistant_message":
            streamed = self._texts.pop(str(item_id), None)
            if self._live is not None:
                self._status = None
                self._refresh()
                self.console.print(MessageMarkdown(item_text(item) or streamed or ""))
            elif streamed:
                self._end_line()
            else:
                self._print(Text(item_text(item)))
            return
        renderable = render_item(item)
        if renderable is not None:
            self._status = None
            self._refresh()
            self._print(renderable)
            if self.choices is not None and kind == "widget":
                for line in choice_lines(self.choices.add(item)):
                    self._print(line)
