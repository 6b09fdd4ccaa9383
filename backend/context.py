"""Who is asking: the typed per-request context handed to the ChatKit server and its Store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The authenticated end user of one request, and what later features need about it."""

    user_id: str
    request_id: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)
