"""What a tool call carries in `_meta` besides the caller's identity: the backend's request id
(under `REQUEST_ID_META_KEY`) and, when a span is active, the W3C trace context (`traceparent`,
`tracestate`) as the OpenTelemetry propagator writes it.

The backend puts `outgoing()` into the `_meta` of every call it makes; a tool server runs each
call inside `adopted(meta)`, so its log lines for that call carry the backend's request id and
its spans (if it traces) continue the backend's trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from plumbing.identity import REQUEST_ID_META_KEY
from plumbing.logs import LogContext, current_request_id, log_context, valid_request_id

__all__ = ["REQUEST_ID_META_KEY", "adopted", "outgoing"]


def outgoing() -> dict[str, str]:
    """The request id of the request in progress (if any) and the active trace context (if any),
    as `_meta` entries for a tool call."""
    carrier: dict[str, str] = {}
    request_id = current_request_id()
    if request_id:
        carrier[REQUEST_ID_META_KEY] = request_id
    propagate.inject(carrier)  # nothing without a configured tracer and an active span
    return carrier


@contextmanager
def adopted(meta: Mapping[str, Any] | None) -> Iterator[LogContext]:
    """Run one incoming call as part of the caller's request: a log context with the caller's
    request id (when well-formed), and the caller's trace context attached unless a span is
    already active (the MCP SDK opens a server span that continues it by itself)."""
    meta = meta or {}
    token = None
    if not trace.get_current_span().get_span_context().is_valid:
        carrier = {key: value for key, value in meta.items() if isinstance(value, str)}
        try:
            extracted = propagate.extract(carrier)
        except (TypeError, ValueError):  # a malformed carrier: no trace context, the call still runs
            extracted = None
        if extracted is not None and trace.get_current_span(extracted).get_span_context().is_valid:
            token = otel_context.attach(extracted)
    try:
        with log_context(request_id=valid_request_id(meta.get(REQUEST_ID_META_KEY))) as context:
            yield context
    finally:
        if token is not None:
            otel_context.detach(token)
