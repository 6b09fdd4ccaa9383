"""What the offline model says in words: help for the tools offered right now, the answer when it
does not understand, greetings, attachments it cannot read, tools it cannot reach. Each one says
that this is the offline model."""

from __future__ import annotations

import re
from collections.abc import Sequence

from backend.agent.offline.conversation import Attachment
from backend.agent.offline.toolbox import ITEM_TOOLS, TASK_TOOLS, OfferedTool, Toolbox

OFFLINE = (
    "I'm the built-in offline model: no AI provider key is set, so I follow fixed rules instead of a "
    "language model."
)
SHORT = "I'm the built-in offline model (no AI provider key is set)"
REAL_MODEL = "Set OPENAI_API_KEY or GEMINI_API_KEY (or LLM_PROVIDER) for a real model."
QUOTE_CHARS = 200
TASK_EXAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "add_task": ("add", ("add task <title>", "remind me to call mom tomorrow, high priority")),
    "list_tasks": ("list", ("list tasks", "what's left?", "tasks about groceries", "what have I finished?")),
    "complete_task": ("complete", ("complete task <id>", "mark the milk one as done")),
    "reopen_task": ("reopen", ("reopen task <id>", "reopen buy milk")),
    "update_task": (
        "change",
        ("rename task <id> to <title>", "move the report to friday", "make the taxes task high priority"),
    ),
    "delete_task": ("delete", ("delete task <id>", "delete the dentist task")),
    "get_task": ("open", ("show task <id>", "show the first one")),
}
ITEM_EXAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "search_items": (
        "search",
        ("search <words>", "cheap headphones under 50", "desk lamps in stock", "more"),
    ),
    "get_item": ("open an item", ("show item <id>", "show the second one")),
    "list_categories": ("list the categories", ("list categories",)),
}
CLASSIC = (
    "add task <title>",
    "list tasks",
    "complete task <id>",
    "reopen task <id>",
    "delete task <id>",
    "rename task <id> to <title>",
    "search <words>",
    "show item <id>",
)


def quoted(examples: Sequence[str]) -> str:
    """Examples in quotes, separated by commas."""
    return ", ".join(f"“{example}”" for example in examples)


def _sentence(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0]
    return first.rstrip(".") if first else ""


def example(tool: OfferedTool) -> str:
    """A way to ask for `tool`: its title in lowercase and its required arguments."""
    words = tool.label.lower()
    return " ".join([words, *(f"<{param.label}>" for param in tool.required)])


def _group(toolbox: Toolbox, examples: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    return [f"{verb} ({quoted(said)})" for name, (verb, said) in examples.items() if toolbox.has(name)]


def help_text(toolbox: Toolbox) -> str:
    """What I can do with the tools offered right now, a couple of example phrasings each."""
    if not toolbox:
        return (
            f"{OFFLINE} No tools are connected right now, so I can't act on anything yet. When the tasks "
            f"and catalog servers are connected I understand, for example: {quoted(CLASSIC)}. {REAL_MODEL}"
        )
    lines = [f"{OFFLINE} With the tools I have right now I can:"]
    tasks, items = _group(toolbox, TASK_EXAMPLES), _group(toolbox, ITEM_EXAMPLES)
    if tasks:
        lines.append("- Tasks: " + "; ".join(tasks) + ".")
        if toolbox.has("add_task") or toolbox.has("update_task"):
            lines.append(
                "  Due dates in words (today, tomorrow, friday, next friday, in 3 days, Dec 5, 2026-12-24) "
                "and priorities (urgent, important, asap, low priority, someday) go with a task you add or "
                "change."
            )
    if items:
        lines.append("- Catalog: " + "; ".join(items) + ".")
    for tool in toolbox.others():
        where = f" ({tool.server})" if tool.server else ""
        about = _sentence(tool.description)
        lines.append(f"- {tool.label}{where}: {about + '. ' if about else ''}Say e.g. “{example(tool)}”.")
    lines.append("I ask when something a tool needs is missing. " + REAL_MODEL)
    return "\n".join(lines)


def abilities(toolbox: Toolbox) -> str:
    """The kinds of things I can do right now, in one phrase."""
    kinds = []
    task_verbs = [
        TASK_EXAMPLES[name][0] for name in TASK_TOOLS if name in TASK_EXAMPLES and toolbox.has(name)
    ]
    if task_verbs:
        kinds.append("your tasks (" + ", ".join(task_verbs) + ")")
    item_verbs = [ITEM_EXAMPLES[name][0] for name in ITEM_TOOLS if toolbox.has(name)]
    if item_verbs:
        kinds.append("the catalog (" + ", ".join(item_verbs) + ")")
    kinds += [tool.label for tool in toolbox.others()]
    if len(kinds) > 1:
        return ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return kinds[0] if kinds else ""


def not_understood(text: str, toolbox: Toolbox) -> str:
    """The answer to a message I could not map to a tool."""
    said = re.sub(r"\s+", " ", text).strip()
    said = said if len(said) <= QUOTE_CHARS else said[: QUOTE_CHARS - 3] + "..."
    if not toolbox:
        return (
            f"You said: “{said}”. {SHORT} and no tools are connected right now, so I can't act on that. "
            "Say “help” for what I understand."
        )
    return (
        f"You said: “{said}”. {SHORT}, so I only understand requests for the tools I have: "
        f"{abilities(toolbox)}. Say “help” for examples."
    )


def greeting(toolbox: Toolbox) -> str:
    """Hello, and what I can do."""
    if not toolbox:
        return f"Hello! {SHORT} and no tools are connected right now. Say “help” for what I understand."
    return f"Hello! {SHORT}. I can help with {abilities(toolbox)}. Say “help” for examples."


def thanks() -> str:
    """The answer to thanks."""
    return f"You're welcome! ({SHORT}: say “help” for what I can do.)"


def cant_reach(tool: str) -> str:
    """A tool the request needs is not offered now."""
    return f"I can't reach the {tool} tool right now: its server is unavailable. Try again soon."


def attachments_note(attachments: Sequence[Attachment]) -> str:
    """What was attached, and what the offline model cannot do with it."""
    names = []
    for attachment in attachments:
        if attachment.name:
            names.append(f"{attachment.name} ({attachment.kind})")
        else:
            names.append("an image" if attachment.kind == "image" else "a file")
    images = any(a.kind == "image" or a.kind.startswith("image/") for a in attachments)
    documents = any(not (a.kind == "image" or a.kind.startswith("image/")) for a in attachments)
    cannot = " or ".join(
        part for part, wanted in (("look at images", images), ("read documents", documents)) if wanted
    )
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    note = f"You sent {listed}. As the offline model I can't {cannot}"
    return note + "; I can still act on the words of your message."
