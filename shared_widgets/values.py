"""Field values as short display text, for widgets of results nobody wrote a template for.

Numbers, dates and booleans show as what they are (grouped, rounded, in words, Yes/No), nested
objects and lists are summarized ("octocat", "bug, p1 +2 more", "3 fields"), and everything is cut
to a character budget. Keys are read for meaning: compared lower-cased without separators, so
`display_name`, `displayName` and `Display-Name` are one key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

LABEL_CHARS = 80
NAME_KEYS = (
    "title", "name", "label", "displayname", "fullname", "heading", "headline", "subject", "summary",
    "filename", "username", "login", "handle",
)  # fmt: skip
NAME_SUFFIXES = ("name", "title", "label")
ID_WORDS = frozenset({"id", "uuid", "guid", "sha", "hash", "etag", "oid"})
# Short strings that describe a record rather than name it: never its label.
ATTRIBUTE_KEYS = frozenset(
    {"type", "kind", "status", "state", "category", "role", "mode", "method", "format", "encoding",
     "language", "lang", "locale", "currency", "unit", "units", "color", "colour", "level", "severity",
     "priority", "visibility", "mimetype", "contenttype", "version", "timezone", "country", "region"}
)  # fmt: skip
STATUS_KEYS = frozenset(
    {"status", "state", "conclusion", "health", "severity", "level", "priority", "stage", "phase", "outcome"}
)
MONEY_WORDS = frozenset(
    {"price", "cost", "amount", "total", "subtotal", "balance", "fee", "fees", "tax", "salary", "revenue",
     "budget", "spend", "payment", "charge", "discount", "fare", "msrp"}
)  # fmt: skip
COORDINATE_WORDS = frozenset({"lat", "lon", "lng", "latitude", "longitude"})
PLAIN_INT_WORDS = ID_WORDS | {"year", "number", "num", "no", "port", "code", "zip", "pin", "version", "build"}
TIME_WORDS = frozenset(
    {"at", "time", "timestamp", "ts", "date", "dt", "epoch", "sunrise", "sunset", "created", "updated",
     "modified", "expires", "expiry"}
)  # fmt: skip
CURRENCY_KEYS = frozenset({"currency", "currencycode"})
BYTE_KEYS = frozenset({"bytes", "sizebytes", "sizeinbytes", "filesize", "contentlength", "bytecount"})
FILE_TYPES = frozenset({"file", "dir", "directory", "folder", "symlink", "blob", "tree"})
FILE_KEYS = frozenset({"path", "filepath", "filename", "mimetype", "contenttype", "extension"})
ACRONYMS = frozenset(
    {"id", "url", "uri", "api", "html", "http", "https", "ip", "uuid", "guid", "sku", "json", "xml", "csv",
     "pdf", "ui", "utc", "sha", "ssh", "dns", "cpu", "gpu", "ram", "iso", "sla", "ttl"}
)  # fmt: skip
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[\s_\-.]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.|mailto:)", re.IGNORECASE)
_ID_VALUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}", re.I)
_STATUS_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ _-][A-Za-z0-9]+){0,2}")
_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")

# --- words -------------------------------------------------------------------------------------


def words(key: str) -> list[str]:
    """`createdAt`, `created_at` and `HTMLUrl` as lower-case words."""
    return [word.lower() for word in _WORD_BREAK.split(key) if word]


def norm(key: str) -> str:
    """A key as compared: `display_name`, `displayName` -> "displayname"."""
    return "".join(words(key))


def humanize(key: str) -> str:
    """`due_date` reads as "Due date", `createdAt` as "Created at", `html_url` as "HTML URL"."""
    text = " ".join(word.upper() if word in ACRONYMS else word for word in words(key))
    return text[:1].upper() + text[1:] if text else key


def collapse(text: str) -> str:
    """`text` on one line, runs of whitespace as one space."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters: cut at a word break when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 1)]
    space = head.rfind(" ")
    if text[len(head)] != " " and space >= limit * 2 // 3:  # mid-word: back to the last break
        head = head[:space]
    return head.rstrip(" ,;:.-·") + "…"


def count_text(number: int, one: str, many: str) -> str:
    """ "1 field", "3 fields"."""
    return f"{number:,} {one if number == 1 else many}"


# --- kinds of values ---------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """None, a blank string, an empty object or list: nothing to show."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Mapping | list | tuple) and not value


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def is_id(key: str, value: Any = None) -> bool:
    """An identifier, by its key (`id`, `user_id`, `nodeId`, `sha`) or its value (a UUID, a hash)."""
    key_words = words(key)
    return bool(key_words and key_words[-1] in ID_WORDS) or (
        isinstance(value, str) and bool(_ID_VALUE.fullmatch(value.strip()))
    )


def is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value.strip()))


def is_status_key(key: str) -> bool:
    """A field holding a status word: `status`, `state`, `priority`, `order_status`..."""
    key_norm = norm(key)
    return key_norm in STATUS_KEYS or key_norm.endswith(("status", "state"))


def status_text(text: str) -> str | None:
    """A short status word in sentence case ("IN_PROGRESS" -> "In progress"), else None."""
    if len(text) > 24 or not _STATUS_VALUE.fullmatch(text):
        return None
    shown = " ".join(words(text.lower()))
    return shown[:1].upper() + shown[1:]


# --- dates and numbers -------------------------------------------------------------------------


def _day(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def _moment(moment: datetime) -> str:
    text = f"{_day(moment)} {moment:%H:%M}"
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    sign, offset = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    return f"{text} UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def date_text(text: str) -> str | None:
    """An ISO date or date-time in words ("Dec 5, 2026", "Dec 5, 2026 14:30 UTC"), else None."""
    try:
        if _DATE.fullmatch(text):
            return _day(date.fromisoformat(text))
        if _DATETIME.fullmatch(text.upper()):
            return _moment(datetime.fromisoformat(text.upper()))
    except ValueError:
        return None
    return None


def _epoch(value: float) -> str | None:
    """A Unix time in seconds or milliseconds (years 2001-2286) in words, else None."""
    seconds = value / 1000 if 1e12 <= abs(value) < 1e13 else value
    if not 1e9 <= seconds < 1e10:
        return None
    return _moment(datetime.fromtimestamp(seconds, UTC))


def _bytes(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(amount) < 1024:
            return f"{size:,} B" if unit == "B" else f"{amount:.1f} {unit}".replace(".0 ", " ")
        amount /= 1024
    return f"{amount:,.1f} TB".replace(".0 ", " ")


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def _is_money(key: str) -> bool:
    return bool(set(words(key)) & MONEY_WORDS)


@dataclass(frozen=True)
class Units:
    """What a record says about its numbers: its `size` is in bytes (it is a file), its money is in
    its `currency`."""

    in_bytes: bool = False
    currency: str | None = None

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> Units:
        kind = fields.get("type", fields.get("kind"))
        in_bytes = bool({norm(key) for key in fields} & FILE_KEYS) or (
            isinstance(kind, str) and kind.lower() in FILE_TYPES
        )
        currency = next((value for key, value in fields.items() if norm(key) in CURRENCY_KEYS), None)
        money = any(isinstance(value, float) and _is_money(key) for key, value in fields.items())
        if money and isinstance(currency, str) and _CURRENCY_CODE.fullmatch(currency.strip()):
            return cls(in_bytes=in_bytes, currency=currency.strip().upper())
        return cls(in_bytes=in_bytes)


NO_UNITS = Units()


def number_text(key: str, value: int | float, units: Units = NO_UNITS) -> str:
    """A number as its key says it is: a time, a size, money (2 decimals), a code (a year, an id:
    no grouping), else grouped and rounded to what a person reads."""
    key_words = set(words(key))
    if key_words & TIME_WORDS and (moment := _epoch(value)) is not None:
        return moment
    if isinstance(value, int):
        if norm(key) in BYTE_KEYS or (units.in_bytes and norm(key) == "size"):
            return _bytes(value)
        return str(value) if key_words & PLAIN_INT_WORDS else f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if key_words & MONEY_WORDS:
        return f"{value:,.2f}" + (f" {units.currency}" if units.currency else "")
    if key_words & COORDINATE_WORDS:
        return _trim(f"{value:.4f}")
    magnitude = abs(value)
    if magnitude >= 1e15 or 0 < magnitude < 1e-4:
        return f"{value:.3g}"
    return _trim(f"{value:,.2f}" if magnitude >= 1 else f"{value:.3g}")


# --- values ------------------------------------------------------------------------------------


def value_text(key: str, value: Any, limit: int, units: Units = NO_UNITS, *, depth: int = 0) -> str | None:
    """`value` (of field `key`) as display text within `limit` characters; None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return cut(number_text(key, value, units), limit)
    if isinstance(value, str):
        text = collapse(value)
        shown = date_text(text) or (status_text(text) if is_status_key(key) else None)
        return cut(shown or text, limit)
    if isinstance(value, Mapping):
        return _object_text(value, limit, depth)
    if is_list(value):
        return _list_text(key, value, limit, depth)
    return None


def join_text(texts: list[str], limit: int) -> str:
    """ "a, b, c +2 more" within `limit` characters."""
    shown: list[str] = []
    length = 0
    for index, text in enumerate(texts):
        rest = len(texts) - index - 1
        extra = len(text) + (2 if shown else 0)
        if length + extra + (len(f" +{rest} more") if rest else 0) > limit:
            break
        shown.append(text)
        length += extra
    if not shown:
        suffix = f" +{len(texts) - 1} more" if len(texts) > 1 else ""
        return cut(texts[0], max(limit - len(suffix), 2)) + suffix
    rest = len(texts) - len(shown)
    return ", ".join(shown) + (f" +{rest} more" if rest else "")


def _list_text(key: str, values: Sequence[Any], limit: int, depth: int) -> str | None:
    """Plain values and labelled objects joined ("a, b +2 more"), else a count ("4 entries")."""
    entries = [entry for entry in values if not is_empty(entry)]
    if not entries:
        return None
    texts: list[str] = []
    for entry in entries:
        if isinstance(entry, Mapping) and (label := record_label(fields_of(entry))) is not None:
            texts.append(cut(label, limit))
        elif is_scalar(entry) and (text := value_text(key, entry, limit, depth=depth + 1)) is not None:
            texts.append(text)
        else:
            return count_text(len(entries), "entry", "entries")
    return join_text(texts, limit)


def _object_text(value: Mapping[str, Any], limit: int, depth: int) -> str | None:
    """An object as an amount with its unit, its name, its few fields inline, its first short
    string, or a count ("3 fields")."""
    fields = fields_of(value)
    if not fields:
        return None
    norms = {norm(key): item for key, item in fields.items()}
    number = next((norms[key] for key in ("value", "amount", "quantity") if key in norms), None)
    unit = next((norms[key] for key in ("unit", "units", "currency") if key in norms), None)
    if len(fields) == 2 and isinstance(number, int | float) and isinstance(unit, str):
        kind = "amount" if "currency" in norms else "value"
        return cut(f"{number_text(kind, number)} {collapse(unit)}", limit)
    if (key := name_key(fields)) is not None:
        return cut(collapse(fields[key]), limit)
    if depth == 0 and len(fields) <= 8:
        parts = [f"{humanize(key)}: {value_text(key, item, limit, depth=1)}" for key, item in fields.items()]
        if len(inline := ", ".join(parts)) <= limit:
            return inline
    if (key := fallback_key(fields)) is not None:
        return cut(collapse(fields[key]), limit)
    return count_text(len(fields), "field", "fields")


# --- records -----------------------------------------------------------------------------------


def fields_of(record: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields worth showing: not empty, not metadata (`@type`, `$ref`, `_links`; `_id` stays)."""
    return {
        str(key): value
        for key, value in record.items()
        if not is_empty(value)
        and not str(key).startswith(("@", "$"))
        and (not str(key).startswith("_") or str(key) == "_id")
    }


def name_key(fields: Mapping[str, Any]) -> str | None:
    """The most name-like string field: `title`, `name`, `label`, their near-synonyms, then any
    `*_name`, `*Title` or `*Label`."""
    keys = [key for key, value in fields.items() if isinstance(value, str) and value.strip()]
    by_norm: dict[str, str] = {}
    for key in keys:
        by_norm.setdefault(norm(key), key)
    for name in NAME_KEYS:
        if name in by_norm:
            return by_norm[name]
    return next((key for key in keys if norm(key).endswith(NAME_SUFFIXES)), None)


def fallback_key(fields: Mapping[str, Any]) -> str | None:
    """The first short one-line string that is no id, URL, date or attribute (`type`, `status`)."""
    return next(
        (
            key
            for key, value in fields.items()
            if isinstance(value, str)
            and "\n" not in value.strip()
            and len(collapse(value)) <= LABEL_CHARS
            and norm(key) not in ATTRIBUTE_KEYS
            and not is_id(key, value)
            and not is_url(value)
            and date_text(value.strip()) is None
        ),
        None,
    )


def record_label(fields: Mapping[str, Any]) -> str | None:
    """A record's name-like field, else its first short string (one line, not cut)."""
    key = name_key(fields) or fallback_key(fields)
    return collapse(fields[key]) if key is not None else None
