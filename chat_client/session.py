"""Sending a message and the interactive session with its slash commands."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .actions import Choice, Choices, FormField, form_values
from .protocol import ChatKitClient, ChatKitError
from .render import render_item
from .turn import TurnView, choice_lines

RECENT_ITEMS = 10
HELP = [
    ("/threads", "list your recent threads"),
    ("/open ID", "continue thread ID (shows its last items)"),
    ("/new", "start a new thread with the next message"),
    ("/do N", "use action [N] of a widget shown above (a form asks for its fields)"),
    ("/actions", "list the actions of the widgets shown"),
    ("/help", "this list"),
    ("/quit", "leave (Ctrl-D and Ctrl-C work too)"),
]


def send(
    client: ChatKitClient, console: Console, text: str, thread_id: str | None, choices: Choices | None = None
) -> TurnView:
    """Send `text` (new thread, or into `thread_id`) and show the reply as it streams (numbering the
    widgets' actions into `choices` when given)."""
    with TurnView(console, choices) as view, client.send(text, thread_id) as events:
        for event in events:
            view.handle(event)
    if view.thread_id is None:
        view.thread_id = thread_id
    if view.events == 0:
        view.errors.append("the backend sent no events")
        console.print(
            Text("error: the backend closed the stream without sending any event", style="bold red")
        )
    return view


def send_once(
    client: ChatKitClient, console: Console, errors: Console, text: str, thread_id: str | None
) -> int:
    """One message, its reply and the thread id to continue with; the exit status."""
    try:
        view = send(client, console, text, thread_id)
    except ChatKitError as exc:
        errors.print(Text(f"chatkit-chat: {exc}", style="red"), soft_wrap=True)
        return 1
    if view.thread_id:
        console.print(
            Text(f"thread {view.thread_id}  (continue with --thread {view.thread_id})", style="dim"),
            soft_wrap=True,
        )
    return 1 if view.errors else 0


def when(value: Any) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` in local time (as it came when it does not parse)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return (moment.astimezone() if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")


class Session:
    """The interactive loop: messages go to the current thread, lines starting with / are commands."""

    def __init__(
        self, client: ChatKitClient, console: Console, thread_id: str | None = None, *, echo: bool = False
    ) -> None:
        self.client = client
        self.console = console
        self.thread_id = thread_id
        self.echo = echo  # print each line read: input from a pipe is not echoed by a terminal
        self.choices = Choices()
        self.commands: dict[str, Callable[[list[str]], bool]] = {
            "/threads": self.list_threads,
            "/open": self.open,
            "/new": self.new,
            "/do": self.do,
            "/actions": self.list_actions,
            "/help": self.help,
            "/quit": lambda _: False,
            "/exit": lambda _: False,
        }

    def run(self) -> int:
        """Read and answer lines until /quit, end of input or Ctrl-C; the exit status."""
        self.console.print(Text(f"chatkit-chat · {self.client.url} · /help for commands", style="dim"))
        if self.thread_id is not None:
            try:
                self.show_thread(self.thread_id)
            except ChatKitError as exc:
                self.fail(exc)
                return 1
        while True:
            try:
                line = self.read(Text("› ", style="bold cyan")).strip()
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return 0
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if not self.command(line):
                        return 0
                else:
                    self.say(line)
            except ChatKitError as exc:
                self.fail(exc)
            except KeyboardInterrupt:
                self.console.print(Text("(interrupted)", style="dim"))

    def read(self, prompt: Text) -> str:
        """One line of input after `prompt` (echoed when input is not a terminal)."""
        line = self.console.input(prompt)
        if self.echo:
            self.console.print(Text(line), soft_wrap=True)
        return line

    def fail(self, exc: ChatKitError) -> None:
        """A failed request as one red line."""
        self.console.print(Text(f"error: {exc}", style="red"), soft_wrap=True)

    def command(self, line: str) -> bool:
        """Run a slash command; False when the session should end."""
        try:
            name, *args = shlex.split(line)
        except ValueError:
            name, *args = line.split()
        handler = self.commands.get(name.lower())
        if handler is None:
            self.console.print(Text(f"unknown command {name}: /help lists them", style="yellow"))
            return True
        return handler(args)

    def say(self, text: str) -> None:
        """Send a message to the current thread (a new one when there is none)."""
        self.choices.clear()
        view = send(self.client, self.console, text, self.thread_id, self.choices)
        if view.thread_id and view.thread_id != self.thread_id:
            self.thread_id = view.thread_id
            self.console.print(Text(f"thread {self.thread_id}", style="dim"))

    def list_threads(self, _: list[str]) -> bool:
        """/threads: id, title and date of the most recent threads."""
        threads = self.client.list_threads()
        if not threads:
            self.console.print(Text("no threads yet", style="dim"))
            return True
        table = Table(box=None, pad_edge=False)
        table.add_column("id", no_wrap=True, style="cyan")
        table.add_column("title", ratio=1)
        table.add_column("created", no_wrap=True, style="dim")
        for thread in threads:
            mark = " *" if thread.get("id") == self.thread_id else ""
            cells = (
                f"{thread.get('id')}{mark}",
                str(thread.get("title") or "—"),
                when(thread.get("created_at")),
            )
            table.add_row(*map(Text, cells))  # Text: a title like "[b]" is not markup
        self.console.print(table)
        return True

    def open(self, args: list[str]) -> bool:
        """/open ID: make ID the current thread and show its last items."""
        if len(args) != 1:
            self.console.print(Text("usage: /open THREAD_ID", style="yellow"))
            return True
        self.show_thread(args[0])
        self.thread_id = args[0]
        return True

    def show_thread(self, thread_id: str) -> None:
        """A thread's title and its last items."""
        thread = self.client.get_thread(thread_id)
        title = thread.get("title") or "untitled"
        self.console.print(Text.assemble((str(title), "bold"), (f"  {thread_id}", "dim")))
        self.choices.clear()
        for item in self.client.recent_items(thread_id, RECENT_ITEMS):
            renderable = render_item(item)
            if renderable is not None:
                self.console.print(renderable)
                if item.get("type") == "widget":
                    for line in choice_lines(self.choices.add(item)):
                        self.console.print(line)

    def list_actions(self, _: list[str]) -> bool:
        """/actions: the numbered actions of the widgets shown."""
        current = self.choices.current()
        if not current:
            self.console.print(Text("no widget actions on screen", style="dim"))
        for number, choice in current:
            self.console.print(Text.assemble((f"[{number}] ", "bold cyan"), choice.label))
        return True

    def do(self, args: list[str]) -> bool:
        """/do N: run action [N] of a widget shown (asking for a form's fields first)."""
        choice = self.choices.get(int(args[0])) if len(args) == 1 and args[0].isdigit() else None
        if choice is None or self.thread_id is None:
            message = (
                "usage: /do N, with N an action shown under a widget"
                if len(args) != 1 or not (args[0].isdigit())
                else f"no action [{args[0]}] on screen: /actions lists them"
            )
            self.console.print(Text(message, style="yellow"))
            return True
        payload = dict(choice.action["payload"])
        if choice.fields:
            answers = self.ask(choice.fields) if choice.submit else {}
            if answers is None:
                self.console.print(Text("(cancelled)", style="dim"))
                return True
            payload = form_values(choice.fields, answers) | payload  # as the UI: the control's keys win
        action = {"type": choice.action["type"], "payload": payload}
        self.run_action(self.thread_id, choice, action)
        return True

    def run_action(self, thread_id: str, choice: Choice, action: dict[str, Any]) -> None:
        """Send an action the way its widget would and show what it changed."""
        if choice.streaming:
            with (
                TurnView(self.console, self.choices) as view,
                self.client.custom_action(thread_id, choice.item_id, action) as events,
            ):
                for event in events:
                    view.handle(event)
            return
        item = self.client.sync_custom_action(thread_id, choice.item_id, action)
        renderable = render_item(item) if item else None
        if renderable is not None:
            self.console.print(renderable)
            for line in choice_lines(self.choices.add(item)):
                self.console.print(line)

    def ask(self, fields: list[FormField]) -> dict[str, Any] | None:
        """Each form field in turn (Enter keeps what it holds); None when the user cancels."""
        answers: dict[str, Any] = {}
        for entry in fields:
            default = entry.default
            if entry.kind == "DatePicker" and isinstance(default, str):
                default = default[:10]
            hint = f" ({'/'.join(entry.options)})" if entry.options else ""
            hint += " (YYYY-MM-DD)" if entry.kind == "DatePicker" else ""
            hint += " (y/n)" if entry.kind == "Checkbox" else ""
            shown = ("y" if default else "n") if entry.kind == "Checkbox" else (default or "")
            try:
                line = self.read(Text(f"{entry.label}{hint} [{shown}]: ", style="cyan")).strip()
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return None
            if not line:
                continue
            answers[entry.name] = line.lower().startswith("y") if entry.kind == "Checkbox" else line
        return answers

    def new(self, _: list[str]) -> bool:
        """/new: the next message starts a new thread."""
        self.thread_id = None
        self.console.print(Text("new thread: your next message starts it", style="dim"))
        return True

    def help(self, _: list[str]) -> bool:
        """/help: the commands."""
        table = Table(box=None, show_header=False, pad_edge=False)
        for name, description in HELP:
            table.add_row(Text(name, style="bold"), description)
        self.console.print(Text("Type a message to send it, or a command:"), table)
        return True
