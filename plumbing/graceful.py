"""Graceful stop for our HTTP servers: on SIGTERM (or Ctrl-C) finish what is in flight, refuse
what is new, then exit 0.

`DrainGate` is ASGI middleware that counts the requests in flight and, once draining, answers new
ones `503` (JSON, `Retry-After`, `Connection: close`): `/healthz` still answers (the process is
alive) and `/readyz` says `draining`, so a proxy or an orchestrator sees the replica leave.
`GracefulServer` is uvicorn's server with that order of events: drain (bounded by a grace
period), then uvicorn's own shutdown, and a normal exit instead of the signal re-raised at the end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("plumbing.graceful")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
LIVENESS_PATH, READINESS_PATH = "/healthz", "/readyz"
# After the drain, what uvicorn may still wait for (connections closing, lifespan shutdown).
SHUTDOWN_SECONDS = 5
REFUSAL = json.dumps(
    {"error": {"code": "shutting_down", "message": "This server is shutting down. Try again in a moment."}}
).encode()
DRAINING = json.dumps({"status": "draining"}).encode()


class DrainGate:
    """ASGI middleware: counts HTTP requests in flight; once `begin()` is called, refuses new ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        """Stop taking new requests (liveness excepted; readiness answers `draining`)."""
        self.draining = True

    async def idle(self) -> None:
        """Return once no request is in flight."""
        await self._idle.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.draining and scope["path"] != LIVENESS_PATH:
            await _refuse(send, DRAINING if scope["path"] == READINESS_PATH else REFUSAL)
            return
        self.in_flight += 1
        self._idle.clear()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()


async def _refuse(send: Send, body: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GracefulServer(uvicorn.Server):
    """uvicorn that, on the first SIGTERM or SIGINT, drains `gate` for up to `grace_seconds`, then
    shuts down and returns (exit status 0); a second signal stops it at once."""

    def __init__(self, config: uvicorn.Config, gate: DrainGate, grace_seconds: float) -> None:
        config.timeout_graceful_shutdown = SHUTDOWN_SECONDS
        super().__init__(config)
        self.gate = gate
        self.grace_seconds = grace_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def startup(self, sockets: Any = None) -> None:
        """uvicorn's start-up, remembering the loop the signal handler hands the drain to."""
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """A signal (on the main thread): start the drain, or on a second one, stop now."""
        if self._loop is None or not self.started or self.gate.draining:
            self.should_exit = True
            self.force_exit = self.force_exit or (self.gate.draining and sig == signal.SIGINT)
            return
        self.gate.begin()
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain = asyncio.ensure_future(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self.gate.idle(), timeout=self.grace_seconds)
        except TimeoutError:
            logger.warning(
                "%d request(s) still running after the %.0f s grace period: stopping them",
                self.gate.in_flight,
                self.grace_seconds,
            )
        else:
            logger.info("Drained in %.1f s", time.monotonic() - started)
        self.should_exit = True
