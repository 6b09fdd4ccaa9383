"""A loopback HTTP/1.1 proxy that adds `Authorization: Bearer <token>` to every request it passes
to one MCP server: the conformance suite sends no token, our servers demand one.

It works on the bytes, not through an HTTP library, so the server sees exactly what the suite sent
(Host, Origin, odd whitespace, invalid header values: several checks are about those) plus the
token line (an incoming Authorization line is dropped), and the suite sees exactly what the server
answered, SSE streams included, forwarded chunk by chunk as they arrive, never buffered. Only the
request side is parsed (heads and body lengths, to find each keep-alive request's head)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HEAD_LIMIT = 1 << 20  # the longest request head (request line and fields) forwarded
CHUNK = 1 << 16
START_TIMEOUT_SECONDS = 10.0


class BearerProxy:
    """Forwards each connection to `127.0.0.1:upstream_port` on a connection of its own."""

    def __init__(self, upstream_port: int, token: str) -> None:
        self.upstream_port = upstream_port
        self.auth_field = f"Authorization: Bearer {token}".encode("ascii")
        self._connections: set[asyncio.Task[None]] = set()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        """One client connection: requests up (token added), responses down (as they come)."""
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port, limit=HEAD_LIMIT)
        except OSError:
            client_w.close()
            self._connections.discard(task)
            return
        upload = asyncio.create_task(self._requests(client_r, up_w))
        try:
            await _copy(up_r, client_w)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            upload.cancel()
            for writer in (client_w, up_w):
                writer.close()
            self._connections.discard(task)

    async def _requests(self, client: asyncio.StreamReader, upstream: asyncio.StreamWriter) -> None:
        """Request after request: the head with the token line, then its body as it is."""
        try:
            while True:
                head = await client.readuntil(b"\r\n\r\n")
                request_line, *fields = head[:-4].split(b"\r\n")
                kept = [field for field in fields if _name(field) != b"authorization"]
                upstream.write(b"\r\n".join([request_line, *kept, self.auth_field]) + b"\r\n\r\n")
                if any(_name(f) == b"transfer-encoding" and b"chunked" in f.lower() for f in kept):
                    await _copy_chunked(client, upstream)
                else:
                    lengths = [int(f.partition(b":")[2]) for f in kept if _name(f) == b"content-length"]
                    await _copy_exactly(client, upstream, lengths[0] if lengths else 0)
                await upstream.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            # The client is gone or sent what cannot be framed: let the server see the end.
            with contextlib.suppress(OSError, RuntimeError):
                if upstream.can_write_eof():
                    upstream.write_eof()

    async def cancel_all(self) -> None:
        """End every open connection (at shutdown)."""
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)


def _name(field: bytes) -> bytes:
    return field.partition(b":")[0].strip().lower()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()


async def _copy_exactly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int) -> None:
    while length > 0:
        data = await reader.read(min(length, CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        writer.write(data)
        length -= len(data)


async def _copy_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        writer.write(size_line)
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:  # then the trailer fields, up to an empty line
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                writer.write(line)
            writer.write(line)
            return
        await _copy_exactly(reader, writer, size + 2)  # the data and its CRLF


@contextmanager
def bearer_proxy(upstream_port: int, token: str) -> Iterator[str]:
    """A `BearerProxy` on a free 127.0.0.1 port, on an event loop in a thread of its own (the test
    blocks on processes meanwhile); yields its base URL, `http://127.0.0.1:PORT`. Stopped on exit."""
    proxy = BearerProxy(upstream_port, token)
    started = threading.Event()
    port: list[int] = []
    stop: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0, limit=HEAD_LIMIT)
        stopping = asyncio.Event()
        port.append(server.sockets[0].getsockname()[1])
        stop.append((asyncio.get_running_loop(), stopping))
        started.set()
        async with server:
            await stopping.wait()
            server.close()
            await proxy.cancel_all()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="bearer-proxy", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT_SECONDS):
        raise RuntimeError("the bearer proxy did not start")
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        loop, stopping = stop[0]
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=10)
