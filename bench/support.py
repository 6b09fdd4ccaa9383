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
