"""How big the reliability runs are: a reduced size by default (fits CI), the full size with SOAK=1.

`make soak` sets SOAK=1; `make test` (and plain pytest) runs the reduced size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """The knobs of the load and fuzz tests."""

    name: str
    users: int  # concurrent end users of the load test
    turns: int  # tool turns per user
    turn_timeout_seconds: float  # request to end of stream, per turn
    protocol_requests: int  # malformed ChatKit requests per database, in process
    wire_requests: int  # of those, sent again over a real uvicorn process (keep-alive connections)
    upload_requests: int  # hostile upload requests per database
    mcp_calls: int  # fuzzed tool calls per MCP server over streamable HTTP
    test_timeout_seconds: int  # pytest-timeout of each test


REDUCED = Sizes(
    name="reduced",
    users=10,
    turns=3,
    turn_timeout_seconds=60,
    protocol_requests=1_000,
    wire_requests=200,
    upload_requests=100,
    mcp_calls=300,
    test_timeout_seconds=120,
)
FULL = Sizes(
    name="full (SOAK=1)",
    users=100,
    turns=10,
    turn_timeout_seconds=120,
    protocol_requests=10_000,
    wire_requests=500,
    upload_requests=1_000,
    mcp_calls=3_000,
    test_timeout_seconds=1_200,
)


def soak() -> bool:
    """Whether SOAK=1 (or any value but empty/0/false) asks for the full size."""
    return os.environ.get("SOAK", "").strip().lower() not in {"", "0", "false", "no"}


SIZE = FULL if soak() else REDUCED
