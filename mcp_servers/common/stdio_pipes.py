"""Stdio without worker threads: when stdin and stdout are pipes or sockets (as under an MCP
client), read and write them on the event loop. The SDK's default wraps them in anyio thread
files, one thread hop per message each way (about a tenth of a tool call over stdio)."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# One JSON-RPC message per line; a tool call's arguments or result may be large.
MAX_LINE_BYTES = 64 * 1024 * 1024


class PipeLines:
    """stdin as the async iterator of text lines that `stdio_server(stdin=...)` reads."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class PipeWriter:
    """stdout as the `write` / `flush` pair that `stdio_server(stdout=...)` calls."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        """Queue `text` (UTF-8) on the pipe."""
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        """Wait while the pipe's buffer is over its high-water mark."""
        await self._writer.drain()


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@asynccontextmanager
async def pipe_stdio() -> AsyncIterator[tuple[PipeLines, PipeWriter] | None]:
    """The wire as (lines in, writer out) on the loop, or None when stdin or stdout is not a pipe or
    socket (a terminal or a file: the caller keeps the SDK's default).

    Meanwhile fd 0 reads /dev/null and fd 1 writes to stderr, as in the SDK, so a stray `print` or a
    child process cannot corrupt the wire; both are restored on exit."""
    if not (_is_pipe_or_socket(0) and _is_pipe_or_socket(1)):
        yield None
        return
    loop = asyncio.get_running_loop()
    # The transports own (and close) the wire's descriptors; the saved ones put fd 0 and 1 back.
    wire_in, wire_out = os.dup(0), os.dup(1)
    saved_in, saved_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    transports: list[asyncio.BaseTransport] = []
    try:
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
        )
        transports.append(read_transport)
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
        )
        transports.append(write_transport)
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        yield PipeLines(reader), PipeWriter(writer)
    finally:
        for transport in transports:
            transport.close()
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)
