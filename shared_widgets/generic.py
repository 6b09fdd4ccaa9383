"""Data for the generic widgets: any structured result without a template of its own.

A list becomes `generic_list` (a label per row, a few short fields and badges beside it); one record
becomes `generic_card` (a title, its prose, field: value rows). Values are shown by `values`:
as what they are, nested ones summarized, all cut to fit. The model's text reply carries the full
result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .values import (
    CURRENCY_KEYS,
    LABEL_CHARS,
    Units,
    collapse,
    cut,
    fallback_key,
    fields_of,
    humanize,
    is_id,
    is_list,
    is_scalar,
    is_status_key,
    is_url,
    name_key,
    norm,
    status_text,
    value_text,
    words,
)

__all__ = [
    "GenericBadge",
    "GenericCard",
    "GenericField",
    "GenericList",
    "GenericRow",
    "find_records",
    "generic_card",
    "generic_list",
    "humanize",
]

MAX_LIST_ROWS = 20
MAX_ROW_CAPTIONS = 3
MAX_ROW_BADGES = 2
MAX_CARD_ROWS = 12
# A list of objects is the result when at most this many other fields sit beside it.
MAX_LIST_CONTEXT = 3
TITLE_CHARS = LABEL_CHARS
CAPTION_CHARS = 40
CARD_CHARS = 120
BODY_CHARS = 300

PROSE_KEYS = frozenset(
    {"description", "body", "content", "text", "summary", "message", "details", "notes", "note", "comment",
     "bio", "abstract", "overview", "snippet", "excerpt"}
)  # fmt: skip
PAGING_KEYS = frozenset(
    {"total", "totalcount", "count", "totalresults", "totalitems", "totalhits", "nextcursor", "cursor",
     "next", "nextpage", "nextpagetoken", "nextlink", "page", "pagesize", "perpage", "limit", "offset",
     "hasmore", "more", "incompleteresults"}
)  # fmt: skip
TOTAL_KEYS = ("total", "totalcount", "totalresults", "totalitems", "totalhits", "count")

BadgeColor = Literal["secondary", "success", "danger", "warning", "info", "discovery"]
STATUS_COLORS: dict[str, BadgeColor] = {
    **dict.fromkeys(
        ("open", "active", "ok", "success", "succeeded", "successful", "passed", "pass", "done", "complete",
         "completed", "healthy", "online", "up", "available", "enabled", "approved", "resolved", "ready",
         "live", "running", "published", "delivered", "paid", "valid", "green"),
        "success",
    ),
    **dict.fromkeys(
        ("failed", "failure", "fail", "error", "errored", "critical", "fatal", "down", "offline", "rejected",
         "blocked", "broken", "invalid", "expired", "overdue", "red", "urgent", "high"),
        "danger",
    ),
    **dict.fromkeys(
        ("pending", "warning", "warn", "queued", "waiting", "in progress", "degraded", "paused", "partial",
         "stale", "yellow", "medium", "in review", "on hold"),
        "warning",
    ),
    **dict.fromkeys(("draft", "new", "info", "scheduled", "planned", "todo", "to do"), "info"),
    "merged": "discovery",
}  # fmt: skip
_COUNT = re.compile(r"[\d,]+ (?:fields?|entry|entries)")


class GenericBadge(BaseModel):
    label: str
    color: BadgeColor


class GenericRow(BaseModel):
    key: str
    title: str
    captions: list[str]
    badges: list[GenericBadge]


class GenericList(BaseModel):
    """The data of `generic_list.widget`: `more` counts the entries cut from the end."""

    title: str
    rows: list[GenericRow]
    more: int


class GenericField(BaseModel):
    label: str
    value: str


class GenericCard(BaseModel):
    """The data of `generic_card.widget`: `body` is the record's prose ("" for none), `more` counts
    the fields left out."""

    title: str
    body: str
    rows: list[GenericField]
    more: int


def _singular(field: str) -> str:
    """ "weather_stations" -> "Weather station"; "Record" when the field is no plain plural."""
    field_words = words(field)
    last = field_words[-1] if field_words else ""
    if len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches", "shes")):
        last = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    else:
        return "Record"
    return humanize("_".join([*field_words[:-1], last]))


def _id_key(fields: Mapping[str, Any]) -> str | None:
    ids = [
        key
        for key, value in fields.items()
        if isinstance(value, str | int) and not isinstance(value, bool) and is_id(key)
    ]
    return min(ids, key=lambda key: norm(key) not in ("id", "_id"), default=None)


def _badge(key: str, value: Any) -> tuple[int, GenericBadge] | None:
    """A status word or a boolean as a badge, ranked (status first, then true, then false)."""
    if isinstance(value, bool):
        if value:
            return 1, GenericBadge(label=f"✓ {humanize(key)}", color="success")
        return 2, GenericBadge(label=f"✗ {humanize(key)}", color="secondary")
    if isinstance(value, str) and is_status_key(key) and (text := status_text(collapse(value))):
        return 0, GenericBadge(label=text, color=STATUS_COLORS.get(text.lower(), "secondary"))
    return None


def _is_currency(key: str, units: Units) -> bool:
    """The currency field, when the record's money already shows it."""
    return units.currency is not None and norm(key) in CURRENCY_KEYS


def _rank(key: str, value: Any, text: str) -> int:
    """How soon a field is shown: plain values first, then ids, then URLs, counts and cut text."""
    if is_id(key, value):
        return 1
    if is_url(value) or _COUNT.fullmatch(text) or text.endswith("…"):
        return 2
    return 0


def _row(index: int, entry: Any, noun: str) -> GenericRow:
    if not isinstance(entry, Mapping):
        text = value_text(noun, entry, TITLE_CHARS)
        return GenericRow(key=str(index), title=text or "—", captions=[], badges=[])
    fields = fields_of(entry)
    units = Units.of(fields)
    title_key = name_key(fields) or fallback_key(fields)
    id_key = _id_key(fields)
    if title_key is not None:
        title = cut(collapse(fields[title_key]), TITLE_CHARS)
    elif id_key is not None:
        title = f"{noun} {index + 1} · {humanize(id_key)} {value_text(id_key, fields[id_key], CAPTION_CHARS)}"
    else:
        title = f"{noun} {index + 1}"
    badges: list[tuple[int, int, GenericBadge]] = []
    captions: list[tuple[int, int, str]] = []
    for position, (key, value) in enumerate(fields.items()):
        if key == title_key or (key == id_key and title_key is None) or _is_currency(key, units):
            continue
        if (badge := _badge(key, value)) is not None:
            badges.append((badge[0], position, badge[1]))
        elif (text := value_text(key, value, CAPTION_CHARS, units)) and text != title:
            captions.append((_rank(key, value, text), position, f"{humanize(key)}: {text}"))
    return GenericRow(
        key=str(fields[id_key]) if id_key else str(index),
        title=title,
        captions=[caption for *_, caption in sorted(captions)[:MAX_ROW_CAPTIONS]],
        badges=[badge for *_, badge in sorted(badges, key=lambda entry: entry[:2])[:MAX_ROW_BADGES]],
    )


@dataclass(frozen=True)
class _Found:
    container: Mapping[str, Any] | None
    field: str
    records: list[Any]


def _content(structured: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields_of(structured).items() if norm(key) not in PAGING_KEYS}


def _locate(structured: Mapping[str, Any] | Sequence[Any], depth: int = 0) -> _Found | None:
    if not isinstance(structured, Mapping):
        entries = list(structured) if is_list(structured) else []
        return _Found(None, "results", entries) if entries and depth == 0 else None
    content = _content(structured)
    if depth == 0:
        for key, value in structured.items():
            if is_list(value) and value and all(isinstance(entry, Mapping) for entry in value):
                # Beside a few fields (a query, a name) the list is the result; beside many it is
                # a part of one record (the card summarizes it).
                if len([other for other in content if other != key]) <= MAX_LIST_CONTEXT:
                    return _Found(structured, str(key), list(value))
                break
    if len(content) != 1:
        return None
    ((key, value),) = content.items()
    if is_list(value) and (
        all(is_scalar(entry) for entry in value) or (depth and all(isinstance(e, Mapping) for e in value))
    ):
        return _Found(structured, key, list(value))
    # A wrapper such as {"data": {"items": [...], "total": 40}}: the list inside.
    return _locate(value, depth + 1) if isinstance(value, Mapping) and depth < 2 else None


def find_records(structured: Mapping[str, Any] | Sequence[Any]) -> tuple[str, list[Any]] | None:
    """The field and entries to list: a top-level list, else the first non-empty list of objects,
    else a list of plain values (or a list inside a wrapper object) that is all the result holds."""
    found = _locate(structured)
    return (found.field, found.records) if found is not None else None


def _total(container: Mapping[str, Any] | None, shown: int) -> int:
    norms = {norm(str(key)): value for key, value in (container or {}).items()}
    for key in TOTAL_KEYS:
        total = norms.get(key)
        if isinstance(total, int) and not isinstance(total, bool) and total >= shown:
            return total
    return shown


def generic_list(
    structured: Mapping[str, Any] | Sequence[Any], field: str, records: list[Any]
) -> GenericList:
    """A row per entry (the first `MAX_LIST_ROWS`) under a header naming the field and the count
    (the result's own total when it gives one), after the name of what holds the list if it has one."""
    found = _locate(structured)
    container = found.container if found is not None and found.field == field else None
    if container is None and isinstance(structured, Mapping):
        container = structured
    total = _total(container, len(records))
    shown = records[:MAX_LIST_ROWS]
    count = f"{total:,}" if len(shown) == total else f"{len(shown):,} of {total:,}"
    noun = _singular(field)
    rows: list[GenericRow] = []
    keys: set[str] = set()
    for index, entry in enumerate(shown):
        row = _row(index, entry, noun)
        if row.key in keys:  # ListView keys must be unique
            row = row.model_copy(update={"key": f"{row.key}#{index}"})
        keys.add(row.key)
        rows.append(row)
    owner = {key: value for key, value in _content(container or {}).items() if key != field}
    owner_key = name_key(owner)
    header = f"{humanize(field)}: {count}"
    if owner_key is not None:
        header = f"{cut(collapse(owner[owner_key]), CAPTION_CHARS)} · {header}"
    return GenericList(title=header, rows=rows, more=len(records) - len(shown))


def generic_card(tool: str, record: Mapping[str, Any]) -> GenericCard | None:
    """One record: its name (else the tool's) as the title, its prose, then field: value rows
    (ids and URLs last, at most `MAX_CARD_ROWS`); None when it holds nothing to show."""
    fields = fields_of(record)
    if not fields:
        return None
    if len(fields) == 1 and isinstance(only := next(iter(fields.values())), Mapping):
        return generic_card(tool, only)  # a wrapper such as {"result": {...}}: the object inside
    units = Units.of(fields)
    title_key = name_key(fields)
    body_key = next(
        (
            key
            for key, value in fields.items()
            if key != title_key and isinstance(value, str) and norm(key) in PROSE_KEYS
        ),
        None,
    )
    order = sorted(
        (int(is_id(key, value) or is_url(value)), position, key)
        for position, (key, value) in enumerate(fields.items())
        if key not in (title_key, body_key) and not _is_currency(key, units)
    )
    rows = [
        GenericField(label=humanize(key), value=text)
        for *_, key in order
        if (text := value_text(key, fields[key], CARD_CHARS, units)) is not None
    ]
    return GenericCard(
        title=cut(collapse(fields[title_key]), TITLE_CHARS) if title_key else humanize(tool),
        body=cut(collapse(fields[body_key]), BODY_CHARS) if body_key else "",
        rows=rows[:MAX_CARD_ROWS],
        more=max(len(rows) - MAX_CARD_ROWS, 0),
    )
