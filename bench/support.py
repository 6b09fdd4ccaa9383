"""Helpers shared by the benchmarks: percentiles, free ports, waiting for a server."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    """Median and p90 in milliseconds, aligned for tables."""
    return f"median {statistics.median(values):7.2f} ms   p90 {percentile(values, 0.9):7.2f} ms"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_for_port(port: int, within_seconds: float = 60) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`; raise after `within_seconds`."""
    deadline = time.monotonic() + within_seconds
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


class LeanClient:
    """One keep-alive HTTP/1.1 connection that POSTs and reads a chunked (SSE) answer whole.

    The load test's generator runs on the same two cores as the system it measures: through httpx a
    turn costs the client ~4.5 ms of CPU, a third of the backend's. This costs a tenth of that, so the
    figures measure the server. It speaks just what uvicorn answers: a status line, headers, and a
    body that is chunked or has a Content-Length.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) of one POST."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )
        status = int((await reader.readline()).split()[1])
        fields: dict[bytes, bytes] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip().lower()
        if fields.get(b"transfer-encoding") == b"chunked":
            chunks = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readline()  # the blank line after the last chunk
            answer = b"".join(chunks)
        else:
            answer = await reader.readexactly(int(fields.get(b"content-length", b"0")))
        if fields.get(b"connection") == b"close":
            await self.close()
        return status, answer

    async def close(self) -> None:
        """Close the connection (the next request opens another)."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None
