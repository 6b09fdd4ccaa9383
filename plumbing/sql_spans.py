"""A span per SQL statement an engine runs, when tracing is on (`plumbing.tracing`).

Each span is named by the statement's kind and first table (`SELECT chat_items`) and carries
`db.system`, `db.operation` and `db.sql.table`: never the statement's parameters (user ids, titles,
message JSON), nor its text (ours are generated; kind and table say which one it was). Only
statements run within a traced operation (a request, a tool call) get one: migrations at start or
the readiness probe's ping make no traces of their own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opentelemetry import trace
from sqlalchemy import Engine, event

from plumbing import tracing

SPAN_KEY = "_plumbing_sql_span"
_KIND = re.compile(r"\s*(\w+)")
_TABLE = re.compile(
    r"\b(?:FROM|INTO|UPDATE|TABLE|JOIN)\s+(?:ONLY\s+)?\"?([A-Za-z_][\w$]*(?:\.\"?[\w$]+)?)", re.I
)


@lru_cache(maxsize=2048)
def describe(statement: str) -> tuple[str, str | None]:
    """The kind (first keyword, upper case) and first table of a SQL statement."""
    kind = _KIND.match(statement)
    table = _TABLE.search(statement)
    return (kind.group(1).upper() if kind else "SQL"), (table.group(1).replace('"', "") if table else None)


def trace_statements(engine: Engine) -> None:
    """Give every statement `engine` runs a span, a child of the current one (attached once)."""
    if event.contains(engine, "before_cursor_execute", _before):
        return
    event.listen(engine, "before_cursor_execute", _before)
    event.listen(engine, "after_cursor_execute", _after)
    event.listen(engine, "handle_error", _failed)


def _before(
    connection: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _executemany: bool
) -> None:
    if context is None or not trace.get_current_span().get_span_context().is_valid:
        return  # only within a traced operation: start-up, probes and the like make no traces
    kind, table = describe(statement)
    attributes = {"db.system": connection.dialect.name, "db.operation": kind}
    if table is not None:
        attributes["db.sql.table"] = table
    span = tracing.tracer("plumbing.sql").start_span(
        f"{kind} {table}" if table else kind, kind=trace.SpanKind.CLIENT, attributes=attributes
    )
    setattr(context, SPAN_KEY, span)


def _after(
    _connection: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _executemany: bool
) -> None:
    span = getattr(context, SPAN_KEY, None)
    if span is not None:
        setattr(context, SPAN_KEY, None)
        span.end()


def _failed(exception_context: Any) -> None:
    context = exception_context.execution_context
    span = getattr(context, SPAN_KEY, None) if context is not None else None
    if span is not None:
        setattr(context, SPAN_KEY, None)
        tracing.record_failure(span, exception_context.original_exception)
        span.end()
