"""The phrases the offline model understands, and which tool each one calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Intent:
    """A tool call the user asked for in plain words."""

    tool: str
    arguments: dict[str, Any]


_ID = r"([A-Za-z0-9_\-]+)"
_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"^(?:add|create|new)\s+(?:a\s+)?task[:\s]+(.+)$", re.IGNORECASE),
        lambda m: ("add_task", {"title": m[1]}),
    ),
    (re.compile(r"^(?:list|show)\s+(?:my\s+|all\s+)?tasks$", re.IGNORECASE), lambda m: ("list_tasks", {})),
    (
        re.compile(r"^(?:list|show)\s+(?:my\s+)?(completed|done|finished)\s+tasks$", re.IGNORECASE),
        lambda m: ("list_tasks", {"status": "completed"}),
    ),
    (
        re.compile(r"^(?:list|show)\s+(?:my\s+)?(pending|open|todo)\s+tasks$", re.IGNORECASE),
        lambda m: ("list_tasks", {"status": "pending"}),
    ),
    (
        re.compile(rf"^(?:complete|finish)\s+task\s+{_ID}$", re.IGNORECASE),
        lambda m: ("complete_task", {"task_id": m[1]}),
    ),
    (re.compile(rf"^reopen\s+task\s+{_ID}$", re.IGNORECASE), lambda m: ("reopen_task", {"task_id": m[1]})),
    (
        re.compile(rf"^(?:delete|remove)\s+task\s+{_ID}$", re.IGNORECASE),
        lambda m: ("delete_task", {"task_id": m[1]}),
    ),
    (
        re.compile(rf"^rename\s+task\s+{_ID}\s+to\s+(.+)$", re.IGNORECASE),
        lambda m: ("update_task", {"task_id": m[1], "title": m[2]}),
    ),
    (re.compile(rf"^(?:show|get)\s+task\s+{_ID}$", re.IGNORECASE), lambda m: ("get_task", {"task_id": m[1]})),
    (re.compile(rf"^(?:show|get)\s+item\s+{_ID}$", re.IGNORECASE), lambda m: ("get_item", {"item_id": m[1]})),
    (re.compile(r"^(?:list|show)\s+categories$", re.IGNORECASE), lambda m: ("list_categories", {})),
    (
        re.compile(r"^(?:search|find)(?:\s+for)?\s+(.+)$", re.IGNORECASE),
        lambda m: ("search_items", {"query": m[1]}),
    ),
]
PHRASES = (
    "add task <title>",
    "list tasks",
    "show completed tasks",
    "complete task <id>",
    "reopen task <id>",
    "delete task <id>",
    "rename task <id> to <title>",
    "search <words>",
    "show item <id>",
)
CONFIRMATIONS = {
    "add_task": "Added.",
    "list_tasks": "Here are your tasks.",
    "get_task": "Here it is.",
    "update_task": "Renamed.",
    "complete_task": "Marked as done.",
    "reopen_task": "Reopened.",
    "delete_task": "Deleted.",
    "search_items": "Here is what I found.",
    "get_item": "Here is the item.",
    "list_categories": "These are the categories.",
}


def parse_intent(text: str) -> Intent | None:
    """The tool call a message asks for, if it is one of the known phrases."""
    cleaned = re.sub(r"\s+", " ", text).strip().rstrip(".!")
    for pattern, build in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            tool, arguments = build(match)
            return Intent(tool=tool, arguments={key: value.strip() for key, value in arguments.items()})
    return None
