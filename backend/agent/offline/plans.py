"""What a request asks for, as a plan the offline model follows one model call at a time.

A plan is rebuilt from the input on every call (the model keeps no state): the request says what
to do, the tool calls already made for it (the conversation's steps) say how far it got. Each
`next()` answers with the next tool call, or with what to say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backend.agent.offline import outputs
from backend.agent.offline.conversation import Conversation
from backend.agent.offline.toolbox import Toolbox
from backend.agent.offline.words import squash


@dataclass(frozen=True, slots=True)
class Call:
    """A tool call the offline model makes."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Say:
    """A reply in words."""

    text: str


Decision = Call | Say


@dataclass(frozen=True)
class Context:
    """What a plan may look at: the conversation, the tools offered, and today's date."""

    conversation: Conversation
    toolbox: Toolbox
    today: date


class Plan:
    """A request understood. `tool` is the tool it needs first (None: none); a weak plan gives
    way to another tool that fits the words better."""

    tool: str | None = None
    weak: bool = False

    def next(self, context: Context) -> Decision:
        """The next call, or the reply."""
        raise NotImplementedError


def _finished(context: Context, label: str = "") -> Say:
    """The reply once the calls are done: what the last one returned, in one line."""
    steps = context.conversation.steps
    output = steps[-1].output if steps else None
    if not output:
        return Say("Done.")
    tool = context.toolbox.get(steps[-1].name)
    line = outputs.summary(output, label or (tool.label if tool is not None else ""))
    page = outputs.cursor(output) if steps[-1].name == "search_items" else None
    if page:  # kept in the reply: the next turn's input has no tool outputs, only the replies
        line += f" Say “more” for the next page (next_cursor: {page})."
    return Say(line)


@dataclass(frozen=True)
class Reply(Plan):
    """Words only."""

    text: str

    def next(self, context: Context) -> Decision:
        return Say(self.text)


@dataclass(frozen=True)
class Direct(Plan):
    """One call, then its result in a line (`note` before it)."""

    call: Call
    weak: bool = False
    note: str = ""

    @property
    def tool(self) -> str | None:  # type: ignore[override]
        return self.call.name

    def next(self, context: Context) -> Decision:
        if not context.conversation.steps:
            return self.call
        done = _finished(context)
        return Say(f"{self.note} {done.text}".strip())


@dataclass(frozen=True)
class Ask(Plan):
    """A call that lacks an argument: ask for it (the next message answers)."""

    question: str
    call: Call
    missing: str

    @property
    def tool(self) -> str | None:  # type: ignore[override]
        return self.call.name

    def next(self, context: Context) -> Decision:
        return Say(self.question)


def which_one(lead: str, entries: list[outputs.Entry]) -> str:
    """The question when several tasks fit: `lead`, each task with its id, numbered, then how to
    pick one."""
    lines = [f"{number}. {entry.id} '{entry.title}'" for number, entry in enumerate(entries, 1)]
    return (
        f"{lead}:\n"
        + "\n".join(lines)
        + "\nWhich one do you mean (say “the first one”, its title or its id)?"
    )


@dataclass(frozen=True)
class Choose(Plan):
    """An action on one of several shown tasks: ask which."""

    action: str
    arguments: dict[str, Any]
    entries: list[outputs.Entry]

    @property
    def tool(self) -> str | None:  # type: ignore[override]
        return self.action

    def next(self, context: Context) -> Decision:
        return Say(which_one("You were shown several tasks", self.entries))


@dataclass(frozen=True)
class OnTask(Plan):
    """An action on a task named by its title: find it with `list_tasks` (`query`, and the
    status it must have), then act when exactly one matches (or one's title is exactly the words
    given), ask which when several do, say so when none does."""

    action: str
    reference: str
    arguments: dict[str, Any] = field(default_factory=dict)
    status: str = "all"
    tool: str | None = "list_tasks"

    def next(self, context: Context) -> Decision:
        steps = context.conversation.steps
        if not steps:
            lookup: dict[str, Any] = {"query": self.reference}
            if self.status != "all":
                lookup["status"] = self.status
            return Call("list_tasks", lookup)
        if len(steps) > 1:
            return _finished(context)
        output = steps[0].output or ""
        matches, total = outputs.task_matches(output)
        data = outputs.as_json(output)
        if not (isinstance(data, dict) and "tasks" in data) and "task(s) found" not in output:
            return Say(outputs.summary(output))  # the lookup failed: say why
        if not matches:
            which = "" if self.status == "all" else f"{self.status} "
            return Say(f"No {which}task matches “{self.reference}”. Say “list tasks” to see them all.")
        exact = [entry for entry in matches if squash(entry.title) == squash(self.reference)]
        if len(matches) == 1 or len(exact) == 1:
            chosen = matches[0] if len(matches) == 1 else exact[0]
            return Call(self.action, {"task_id": chosen.id, **self.arguments})
        more = f" (showing {len(matches)} of {total})" if total > len(matches) else ""
        return Say(which_one(f"Several tasks match “{self.reference}”{more}", matches))


def cheap_limit(found: list[float]) -> float:
    """What "cheap" means for these prices: the top of the lowest third of their range (lowest +
    (highest - lowest) / 3), rounded up to the cent; the lowest price when they are all the same."""
    low, high = min(found), max(found)
    return math.ceil((low + (high - low) / 3) * 100) / 100


@dataclass(frozen=True)
class CheapSearch(Plan):
    """ "Cheap" things: search, then search again with `max_price` at the lower third of the price
    range of what the first search returned (`cheap_limit`), and say which limit that was."""

    arguments: dict[str, Any]
    tool: str | None = "search_items"

    def next(self, context: Context) -> Decision:
        steps = context.conversation.steps
        if not steps:
            return Call("search_items", self.arguments)
        if len(steps) == 1:
            found = outputs.prices(steps[0].output or "")
            if not found:
                return _finished(context)
            return Call("search_items", {**self.arguments, "max_price": cheap_limit(found)})
        limit = steps[1].arguments.get("max_price")
        done = _finished(context)
        if not isinstance(limit, int | float):
            return done
        return Say(
            f"“Cheap” here means up to ${limit:.2f}, the lower third of the price range the first "
            f"search found. {done.text}"
        )
