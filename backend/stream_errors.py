"""A stream whose response has started and that then fails ends with a ChatKit error event (the UI
says so and offers a retry) instead of being cut: the SDK turns failures inside a reply into error
events, but not those before or after it (saving the thread or the user's message, a title)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable

from chatkit.types import ErrorEvent, ThreadStreamEvent
from pydantic import BaseModel

from backend.db_errors import (
    database_error_summary,
    database_unreachable,
    frames,
    schema_missing,
    touches_sql,
)
from backend.store.schema_recovery import SchemaRecovery

logger = logging.getLogger(__name__)
UNREACHABLE_MESSAGE = "The database is unreachable. Try again shortly."
FAILED_MESSAGE = "The server could not finish this response. Try again."


async def ending_with_error_event(
    events: AsyncGenerator[ThreadStreamEvent, None],
    serialize: Callable[[BaseModel], bytes],
    schema: SchemaRecovery,
) -> AsyncGenerator[bytes, None]:
    """`events` as SSE frames (what the SDK's `_process_streaming` does); a failure becomes a last
    `error` frame, in words (a missing schema is re-created first, where this process may
    migrate), and is logged without the statement's parameters."""
    try:
        async for event in events:
            yield b"data: " + serialize(event) + b"\n\n"
    except Exception as exc:  # cancellation (the client left) still goes through
        if schema_missing(exc):
            logger.warning("A stream met a database without its tables: %s", database_error_summary(exc))
            await schema.recover()
            message = schema.message
        elif database_unreachable(exc):
            logger.warning("A stream lost the database: %s", database_error_summary(exc))
            message = UNREACHABLE_MESSAGE
        elif touches_sql(exc):  # its message quotes the statement and maybe values
            logger.error(
                "A stream failed on the database: %s",
                database_error_summary(exc),
                extra={"traceback": frames(exc)},  # the frames, one field in JSON (plumbing.logs)
            )
            message = FAILED_MESSAGE
        else:
            logger.exception("A stream failed")
            message = FAILED_MESSAGE
        yield b"data: " + serialize(ErrorEvent(code="custom", message=message, allow_retry=True)) + b"\n\n"
    finally:
        await events.aclose()  # closed with this one (a client that left mid-frame)
