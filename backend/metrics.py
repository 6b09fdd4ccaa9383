"""The backend's Prometheus metrics (served at `GET /metrics`; docs/operations.md lists them).

Defined once per process at import. With several workers the supervisor sets
`PROMETHEUS_MULTIPROC_DIR` before they start, so every worker's values are summed at a scrape."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Turn latencies run from a cached offline answer (ms) to a slow provider with tools (minutes).
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)

REQUESTS = Counter(
    "chatkit_requests_total",
    "ChatKit requests answered, by request type (threads.create, items.list, upload...) and HTTP status.",
    ["type", "status"],
)
TURN_SECONDS = Histogram(
    "chatkit_turn_seconds",
    "Time from the request to the end of its stream: model turns (kind=turn), widget actions (kind=action).",
    ["kind"],
    buckets=TURN_BUCKETS,
)
TOOL_CALLS = Counter(
    "chatkit_tool_calls_total",
    "MCP tool calls made by the backend, by server, tool and outcome (ok, error, unavailable).",
    ["server", "tool", "outcome"],
)
MCP_SERVER_UP = Gauge(
    "chatkit_mcp_server_up",
    "1 when the backend's connection to an MCP server is up, else 0.",
    ["server"],
    multiprocess_mode="min",
)
ACTIVE_STREAMS = Gauge(
    "chatkit_active_streams",
    "Streaming responses (turns, actions) in progress.",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REFUSALS = Counter(
    "chatkit_rate_limit_refusals_total",
    "Requests refused by the per-user rate limit (HTTP 429), by what was limited (turn, action).",
    ["kind"],
)
