"""Reading what tools returned and what the user was shown: tasks and items with their ids,
prices, page cursors, category names, and a one-line summary of any output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SUMMARY_CHARS = 300
ID_PREFIXES = {"task": "task_", "item": "itm_"}
ANY_ID = re.compile(r"\b(?:task|itm)_[0-9A-Za-z]+\b")
# `task_x 'title' (pending, medium priority, due 2026-03-12)`: the tasks server's summaries.
DESCRIBED_TASK = re.compile(r"\b(task_[0-9A-Za-z]+) '(.*?)' \((pending|completed), (\w+) priority")
# `- title · task_x · Medium`: a task list widget's line; `Task created · task_x · title · ...`: a card.
LISTED_TASK = re.compile(r"^- (.*?) · (?:Due [^·]* · )?(task_[0-9A-Za-z]+)\b", re.MULTILINE)
CARD_TASK = re.compile(r"(task_[0-9A-Za-z]+) · (.*?) · (?:Pending|Completed)\b")
# `itm_00042 Name ($12.00, ...)`: the items server's summaries; `- Name · Category · ★ 4.5 · itm_x`.
DESCRIBED_ITEM = re.compile(r"\b(itm_[0-9A-Za-z]+) (.*?) \(\$")
LISTED_ITEM = re.compile(r"^- (.*?) · [^·\n]* · ★ [\d.]+ · (itm_[0-9A-Za-z]+)\b", re.MULTILINE)
# `1. task_x 'title'`: the offline model's own "which one?" lists.
NUMBERED = re.compile(r"^\d+\. ((?:task|itm)_[0-9A-Za-z]+) '(.*)'$", re.MULTILINE)
PRICE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
CURSOR = re.compile(r"\bnext[_ ]cursor[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-=.]+)")
CATEGORY_COUNT = re.compile(r"(?:^|: |, )([A-Z][^(),:\n]*?) \(\d+\)")
CATEGORY_LINE = re.compile(r"^- ([^·\n]+?) · \d+ in stock", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Entry:
    """Something shown with its id: a task or an item, and its title (or name) when known."""

    id: str
    title: str = ""


def as_json(text: str) -> Any:
    """`text` parsed as JSON, or None."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _json_entries(data: Any, prefix: str) -> list[Entry]:
    found: list[Entry] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            identifier = node.get("id") or node.get("task_id") or node.get("item_id")
            if isinstance(identifier, str) and identifier.startswith(prefix):
                found.append(Entry(identifier, str(node.get("title") or node.get("name") or "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


def entries(text: str, kind: str) -> list[Entry]:
    """The tasks (`kind` "task") or items ("item") in a text, in order, each once, with titles
    where the text gives them."""
    prefix = ID_PREFIXES[kind]
    data = as_json(text)
    if data is not None:
        found = _json_entries(data, prefix)
    else:
        titled: dict[str, str] = {}
        patterns = (
            (NUMBERED, DESCRIBED_TASK, LISTED_TASK, CARD_TASK)
            if kind == "task"
            else (NUMBERED, DESCRIBED_ITEM, LISTED_ITEM)
        )
        for pattern in patterns:
            for match in pattern.finditer(text):
                groups = match.groups()
                identifier, title = (
                    (groups[0], groups[1]) if groups[0].startswith(prefix) else (groups[1], groups[0])
                )
                titled.setdefault(identifier, title.strip())
        found = [Entry(m[0], titled.get(m[0], "")) for m in ANY_ID.finditer(text) if m[0].startswith(prefix)]
    unique: dict[str, Entry] = {}
    for entry in found:
        if entry.id not in unique or not unique[entry.id].title:
            unique[entry.id] = entry
    return list(unique.values())


def last_shown(blocks: Iterable[Iterable[str]], kinds: Iterable[str]) -> tuple[str, list[Entry]] | None:
    """The tasks or items shown last: of the newest block (what answered one request) that shows
    any, the text that shows the most; as (kind, entries)."""
    kinds = tuple(kinds)
    for block in blocks:
        best: tuple[str, list[Entry]] | None = None
        for text in block:
            for kind in kinds:
                found = entries(text, kind)
                if found and (best is None or len(found) > len(best[1])):
                    best = (kind, found)
        if best is not None:
            return best
    return None


def task_matches(text: str) -> tuple[list[Entry], int]:
    """The tasks a `list_tasks` output shows, and how many matched in all."""
    data = as_json(text)
    if isinstance(data, dict):
        found = _json_entries(data.get("tasks", []), "task_")
        total = data.get("total")
        return found, total if isinstance(total, int) else len(found)
    found = entries(text, "task")
    total = re.match(r"\s*(\d+) (?:\w+ )?task\(s\) found", text)
    return found, int(total[1]) if total else len(found)


def prices(text: str) -> list[float]:
    """The prices an item search output shows."""
    data = as_json(text)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return [
            float(item["price"])
            for item in data["items"]
            if isinstance(item, dict) and isinstance(item.get("price"), int | float)
        ]
    return [float(value.replace(",", "")) for value in PRICE.findall(text)]


def cursor(text: str) -> str | None:
    """The next page's cursor an output gives, if any."""
    data = as_json(text)
    if isinstance(data, dict):
        value = data.get("next_cursor") or data.get("nextCursor")
        return value if isinstance(value, str) and value else None
    match = CURSOR.search(text)
    return match[1] if match else None


def categories(text: str) -> list[str]:
    """The category names a `list_categories` output or its widget shows."""
    data = as_json(text)
    if isinstance(data, dict) and isinstance(data.get("categories"), list):
        return [
            str(entry["name"])
            for entry in data["categories"]
            if isinstance(entry, dict) and entry.get("name")
        ]
    if "categories" not in text.lower():
        return []
    return [name.strip() for name in CATEGORY_COUNT.findall(text) + CATEGORY_LINE.findall(text)]


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str) and str(value).strip():
        return str(value)
    return None


def summary(text: str, label: str = "") -> str:
    """One line for the user about an output: its first line (cut to SUMMARY_CHARS), or for JSON
    its scalar fields and how many entries its lists hold."""
    data = as_json(text)
    if isinstance(data, dict):
        parts = []
        for key, value in data.items():
            words = key.replace("_", " ")
            scalar = _scalar(value)
            if scalar is not None:
                parts.append(f"{words} {scalar}")
            elif isinstance(value, list):
                parts.append(f"{words}: {len(value)}")
            elif isinstance(value, dict):
                inner = [
                    f"{k.replace('_', ' ')} {s}" for k, v in value.items() if (s := _scalar(v)) is not None
                ]
                if inner:
                    parts.append(f"{words}: " + ", ".join(inner[:4]))
        line = (f"{label}: " if label else "") + (", ".join(parts) or "done") + "."
    elif isinstance(data, list):
        line = (f"{label}: " if label else "") + f"{len(data)} result(s)."
    else:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        line = lines[0].strip() if lines else "Done."
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 3] + "..."
