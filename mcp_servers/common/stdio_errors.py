"""JSON-RPC error replies to stdio lines that are not JSON-RPC messages.

The SDK's stdio transport hands the server an exception for such a line, and the server drops it
without a word, so a client that sent a broken request waits for an answer that never comes.
`MalformedLineReplies` answers it instead, as JSON-RPC 2.0 says: -32700 (parse error) for a line
that is not JSON, -32600 (invalid request) for JSON that is no JSON-RPC message, with the request's
id when one can be read and `null` otherwise. A broken *response* (it has `result` or `error` and no
`method`) is not answered, since responses never are; a blank line carries no message at all.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, RequestId
from pydantic import ValidationError

logger = logging.getLogger(__name__)


class _Messages(Protocol):
    async def receive(self) -> SessionMessage | Exception: ...
    async def aclose(self) -> None: ...


class _Replies(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


def error_reply(exc: Exception) -> JSONRPCError | None:
    """The reply to a line the transport could not decode (`exc`), or None when none is due."""
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else []
    if any(error["type"] == "json_invalid" for error in errors):
        line = errors[0].get("input")
        if isinstance(line, str) and not line.strip():
            return None
        return _error(None, PARSE_ERROR, "Parse error: the line is not JSON")
    message = next(
        (
            error["input"]
            for error in errors
            if error["type"] == "missing" and len(error["loc"]) == 2 and isinstance(error["input"], dict)
        ),
        None,
    )
    if message is None:  # not an object: a batch (MCP has none), a string, a number
        return _error(None, INVALID_REQUEST, "Invalid Request: a message must be one JSON-RPC object")
    if "method" not in message and ("result" in message or "error" in message):
        return None
    return _error(
        _request_id(message.get("id")),
        INVALID_REQUEST,
        "Invalid Request: not a JSON-RPC 2.0 request or notification",
    )


def _request_id(value: Any) -> RequestId | None:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _error(request_id: RequestId | None, code: int, message: str) -> JSONRPCError:
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))


class MalformedLineReplies:
    """The server's read stream without the lines the transport could not decode: each of them is
    answered on `replies` (the server's write stream) and never reaches the server."""

    def __init__(self, inner: _Messages, replies: _Replies) -> None:
        self._inner = inner
        self._replies = replies

    @property
    def last_context(self) -> Any:
        """The sender context of the last message received (what the SDK's stream offers)."""
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        """The next decoded message; undecodable lines are answered on the way."""
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            reply = error_reply(item)
            logger.info("stdio: %s a malformed line", "answered" if reply else "ignored")
            if reply is None:
                continue
            try:
                await self._replies.send(SessionMessage(reply))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                logger.debug("stdio: the error reply found the wire closed")

    async def aclose(self) -> None:
        """Close the underlying stream."""
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        await self.aclose()
        return None
