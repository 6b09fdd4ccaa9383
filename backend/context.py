"""Who is asking: the typed per-request context handed to the ChatKit server and its Store."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEZONE_HEADER = "x-timezone"
MAX_TIMEZONE_CHARS = 64
# The time zone of the request a model turn runs for (set per turn; read by the offline model).
TURN_TIMEZONE: ContextVar[str | None] = ContextVar("turn_timezone", default=None)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The authenticated end user of one request, and what later features need about it."""

    user_id: str
    request_id: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    """The user's IANA time zone (`X-Timezone`, which the page sends), when the client gave a valid one."""


def valid_timezone(name: str | None) -> str | None:
    """`name` when it is an IANA time zone this machine knows ("Europe/Paris"), else None."""
    if not name or len(name) > MAX_TIMEZONE_CHARS or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def turn_today() -> date:
    """Today in the time zone of the request this turn runs for, else the server's."""
    name = TURN_TIMEZONE.get()
    return datetime.now(ZoneInfo(name)).date() if name else date.today()
