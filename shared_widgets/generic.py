"""Data for the generic widgets: any structured result without a template of its own.

A list of records becomes `generic_list` (a name per row, a few short fields beside it); one record
becomes `generic_card` (field: value rows). Nested and long values are left out: the model's text
reply carries the full result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

NAME_FIELDS = ("title", "name", "label", "display_name", "subject", "summary", "id")
MAX_LIST_ROWS = 50
MAX_ROW_FIELDS = 3
MAX_CARD_ROWS = 12
SHORT_TEXT = 80
CARD_TEXT = 200

BadgeColor = Literal["secondary", "success", "danger", "warning", "info", "discovery"]


class GenericBadge(BaseModel):
    label: str
    color: BadgeColor


class GenericRow(BaseModel):
    key: str
    title: str
    captions: list[str]
    badges: list[GenericBadge]


class GenericList(BaseModel):
    """The data of `generic_list.widget`."""

    title: str
    rows: list[GenericRow]


class GenericField(BaseModel):
    label: str
    value: str


class GenericCard(BaseModel):
    """The data of `generic_card.widget`."""

    title: str
    rows: list[GenericField]
    more: int


def humanize(key: str) -> str:
    """`in_stock` and `inStock` read as "In stock"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] if text else key


def _scalar_text(value: Any, limit: int) -> str | None:
    """A scalar as display text, or None when it is not a scalar or is too long to show."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, str):
        text = " ".join(value.split())
        return text if text and len(text) <= limit else None
    return None


def _card_text(value: Any) -> str | None:
    if isinstance(value, list) and value and all(_scalar_text(entry, CARD_TEXT) for entry in value):
        joined = ", ".join(_scalar_text(entry, CARD_TEXT) or "" for entry in value)
        return joined if len(joined) <= CARD_TEXT else None
    return _scalar_text(value, CARD_TEXT)


def _name_field(record: Mapping[str, Any]) -> str | None:
    for key in NAME_FIELDS:
        if _scalar_text(record.get(key), CARD_TEXT) and not isinstance(record.get(key), bool):
            return key
    return None


def find_records(structured: Mapping[str, Any] | Sequence[Any]) -> tuple[str, list[Mapping[str, Any]]] | None:
    """The records to list: a top-level list of objects, else the first non-empty list-of-objects field."""
    candidates = [("results", structured)] if isinstance(structured, Sequence) else list(structured.items())
    for key, value in candidates:
        if (
            isinstance(value, Sequence)
            and not isinstance(value, str | bytes)
            and value
            and all(isinstance(entry, Mapping) for entry in value)
        ):
            return str(key), list(value)
    return None


def _row(index: int, record: Mapping[str, Any]) -> GenericRow:
    name_key = _name_field(record)
    title = _scalar_text(record[name_key], CARD_TEXT) if name_key else None
    captions: list[str] = []
    badges: list[GenericBadge] = []
    # Ids go last: a row shows what a person reads first.
    others = sorted((key for key in record if key != name_key), key=lambda key: key == "id")
    for key in others:
        if len(captions) + len(badges) >= MAX_ROW_FIELDS:
            break
        value = record[key]
        if isinstance(value, bool):
            mark = "✓" if value else "✗"
            badges.append(
                GenericBadge(label=f"{mark} {humanize(key)}", color="success" if value else "secondary")
            )
        elif (text := _scalar_text(value, SHORT_TEXT)) is not None:
            captions.append(f"{humanize(key)}: {text}")
    record_id = record.get("id")
    usable_id = isinstance(record_id, str | int) and not isinstance(record_id, bool)
    return GenericRow(
        key=str(record_id) if usable_id else str(index),
        title=title or f"#{index + 1}",
        captions=captions,
        badges=badges,
    )


def generic_list(
    structured: Mapping[str, Any] | Sequence[Any], field: str, records: list[Mapping[str, Any]]
) -> GenericList:
    """One row per record (the first `MAX_LIST_ROWS`), under a header naming the field and the count."""
    total = structured.get("total") if isinstance(structured, Mapping) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < len(records):
        total = len(records)
    shown = records[:MAX_LIST_ROWS]
    count = str(total) if len(shown) == total else f"{len(shown)} of {total}"
    return GenericList(
        title=f"{humanize(field)}: {count}", rows=[_row(index, record) for index, record in enumerate(shown)]
    )


def generic_card(tool: str, record: Mapping[str, Any]) -> GenericCard | None:
    """Field: value rows of one record, or None when it has nothing short enough to show."""
    name_key = _name_field(record)
    rows: list[GenericField] = []
    hidden = 0
    for key, value in record.items():
        if key == name_key or value is None:
            continue
        text = _card_text(value)
        if text is None or len(rows) >= MAX_CARD_ROWS:
            hidden += 1
        else:
            rows.append(GenericField(label=humanize(str(key)), value=text))
    title = _scalar_text(record[name_key], CARD_TEXT) if name_key else None
    if not rows:
        # A wrapper such as {"result": {...}}: show the object inside.
        nested = next((value for value in record.values() if isinstance(value, Mapping) and value), None)
        if nested is not None:
            return generic_card(tool, nested)
        if title is None:
            return None
    return GenericCard(title=title or humanize(tool), rows=rows, more=hidden)
