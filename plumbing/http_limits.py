"""Limits on slow, idle and greedy HTTP clients, for every server we run under uvicorn.

uvicorn (0.54, httptools) reads headers of any size for as long as a client takes, waits for a
trickled body forever and takes every connection the kernel hands it, so a few hundred idle sockets
exhaust the open-files limit. `HttpLimits` says what a client may do; `serving_config` builds the
uvicorn config that enforces it with `LimitedHttpToolsProtocol`:

- the request line and headers: at most `max_header_bytes` (else 431), within `header_timeout`
  seconds of the connection (or the first byte of the next request on a kept-alive one), else 408;
- a body: no gap longer than `body_timeout` seconds, and after that long at least
  `body_min_bytes_per_second` on average, else 408 (or, once the answer has begun, the connection
  is closed);
- an idle kept-alive connection is closed after `keep_alive_timeout` seconds;
- at most `max_connections` open connections (default: the open-files limit less headroom for the
  database, the tool servers and outgoing calls): a connection beyond it is answered 503 and closed.

`AcceptErrorFilter` keeps "Too many open files" (which asyncio logs on every failed accept) to one
record per interval.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("plumbing.http_limits")
# Kept free below the open-files limit: database files, tool-server pipes, outgoing HTTP, logs.
MIN_HEADROOM_FILES = 64
ACCEPT_ERRNOS = {errno.EMFILE, errno.ENFILE}
# How often a body in progress is checked against its timeouts (at most).
BODY_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class HttpLimits:
    """What one client connection may do (see the module docstring); None: no connection cap of
    our own beyond the one from the open-files limit."""

    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_min_bytes_per_second: int = 1024
    keep_alive_timeout: int = 5
    max_connections: int | None = None
    accept_error_log_seconds: float = 60.0


def open_files_limit() -> int | None:
    """This process's soft RLIMIT_NOFILE, or None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_cap(requested: int | None, files_limit: int | None) -> int | None:
    """`requested` (if any), kept below `files_limit` less a headroom (a quarter, at least 64)."""
    if files_limit is None:
        return requested
    ceiling = max(1, files_limit - max(MIN_HEADROOM_FILES, files_limit // 4))
    if requested is not None and requested > ceiling:
        logger.warning(
            "%d connections asked for, but the open-files limit is %d: serving at most %d",
            requested,
            files_limit,
            ceiling,
        )
    return ceiling if requested is None else min(requested, ceiling)


def _response(status: int, reason: bytes, text: bytes) -> bytes:
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(text),
            b"connection: close\r\n\r\n",
            text,
        ]
    )


TOO_LARGE = _response(431, b"Request Header Fields Too Large", b"Request headers too large.")
TIMED_OUT = _response(408, b"Request Timeout", b"Request not received in time.")
BUSY = _response(503, b"Service Unavailable", b"Too many connections. Try again in a moment.")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, header and body timeouts and a connection cap.
    `limits` and `cap` are set on the subclass `protocol_class` makes."""

    limits: ClassVar[HttpLimits] = HttpLimits()
    cap: ClassVar[int | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rejected = False
        self._in_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_started = self._body_last = 0.0
        self._body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.cap is not None and len(self.connections) > self.cap:
            self._reject(BUSY)
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        super().data_received(data)
        if self._in_headers and not self._rejected and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._reject(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        if self._rejected:
            return
        self._in_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().on_headers_complete()
        if self._expects_body():
            self._body_started = self._body_last = time.monotonic()
            self._body_bytes = 0
            self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        if self._rejected or self.cycle is None:
            return
        self._body_bytes += len(body)
        self._body_last = time.monotonic()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._rejected or self.cycle is None:
            return
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (
                name == b"content-length" and value.strip() not in (b"", b"0")
            ):
                return True
        return False

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timed_out)

    def _arm_body_timer(self) -> None:
        delay = min(BODY_CHECK_SECONDS, self.limits.body_timeout)
        self._body_timer = self.loop.call_later(delay, self._check_body)

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self._in_headers and not self.transport.is_closing():
            self._reject(TIMED_OUT)

    def _check_body(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        now = time.monotonic()
        waiting = self.flow.read_paused or self.cycle.waiting_for_100_continue
        if waiting:  # the app is not reading (or has not asked for the body): the client is not slow
            self._body_last = self._body_started = now
            self._body_bytes = 0
        elapsed = now - self._body_started
        stalled = now - self._body_last > self.limits.body_timeout
        slow = (
            elapsed > self.limits.body_timeout
            and self._body_bytes < self.limits.body_min_bytes_per_second * elapsed
        )
        if not (stalled or slow):
            self._arm_body_timer()
            return
        logger.info("Closing a connection whose request body came too slowly (%d bytes)", self._body_bytes)
        if self.cycle.response_started:
            self._rejected = True
            self.transport.close()
        else:
            self._reject(TIMED_OUT)

    def _reject(self, response: bytes) -> None:
        self._rejected = True
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app reads a disconnect and may not answer on top
            self.cycle.message_event.set()
        self.transport.write(response)
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None


def protocol_class(limits: HttpLimits, cap: int | None) -> type[LimitedHttpToolsProtocol]:
    """`LimitedHttpToolsProtocol` enforcing `limits` and at most `cap` connections."""
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits, "cap": cap})


class AcceptErrorFilter(logging.Filter):
    """Lets one "Too many open files" record through per `interval` seconds (saying how many were
    dropped since); every other record passes."""

    def __init__(self, interval: float, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._last: float | None = None
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_accept_error(record):
            return True
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            self._dropped += 1
            return False
        self._last = now
        if self._dropped:
            record.msg = f"{record.msg} ({self._dropped} more like it in the last {self.interval:.0f} s)"
            self._dropped = 0
        return True


def _is_accept_error(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, OSError) and exc.errno in ACCEPT_ERRNOS:
        return True
    try:
        return "Too many open files" in record.getMessage()
    except Exception:  # a record whose arguments do not format: not ours to judge
        return False


ACCEPT_LOGGERS = ("asyncio", "uvicorn.error")


def install_accept_error_filter(interval: float) -> None:
    """Rate-limit "Too many open files" on the loggers that report failed accepts (once per process)."""
    for name in ACCEPT_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(existing, AcceptErrorFilter) for existing in target.filters):
            target.addFilter(AcceptErrorFilter(interval))


def serving_config(app: Any, limits: HttpLimits, **options: Any) -> uvicorn.Config:
    """A uvicorn config for `app` (`options` as for `uvicorn.Config`) that enforces `limits`."""
    install_accept_error_filter(limits.accept_error_log_seconds)
    cap = connection_cap(limits.max_connections, open_files_limit())
    return uvicorn.Config(
        app,
        http=protocol_class(limits, cap),
        timeout_keep_alive=limits.keep_alive_timeout,
        # uvicorn answers 503 from this many connections on (ours included): ours refuses first.
        limit_concurrency=None if cap is None else cap + 1,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        **options,
    )


class HttpLimitSettings(BaseSettings):
    """The settings of what one HTTP client may do, shared by every process that serves HTTP:
    header size and time, body pace, keep-alive, open connections (unset: the open-files limit less
    headroom), and the spacing of "Too many open files" log lines."""

    http_max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, le=16 * 1024 * 1024, validation_alias="HTTP_MAX_HEADER_BYTES"
    )
    http_header_timeout_seconds: float = Field(
        default=10, gt=0, le=600, validation_alias="HTTP_HEADER_TIMEOUT_SECONDS"
    )
    http_body_timeout_seconds: float = Field(
        default=30, gt=0, le=3600, validation_alias="HTTP_BODY_TIMEOUT_SECONDS"
    )
    http_body_min_bytes_per_second: int = Field(
        default=1024, ge=0, validation_alias="HTTP_BODY_MIN_BYTES_PER_SECOND"
    )
    http_keep_alive_seconds: int = Field(default=5, ge=1, le=3600, validation_alias="HTTP_KEEP_ALIVE_SECONDS")
    http_max_connections: int | None = Field(default=None, ge=1, validation_alias="HTTP_MAX_CONNECTIONS")
    http_accept_error_log_seconds: float = Field(
        default=60, ge=0, validation_alias="HTTP_ACCEPT_ERROR_LOG_SECONDS"
    )

    def http_limits(self) -> HttpLimits:
        """What one HTTP client may do, as the server applies it."""
        return HttpLimits(
            max_header_bytes=self.http_max_header_bytes,
            header_timeout=self.http_header_timeout_seconds,
            body_timeout=self.http_body_timeout_seconds,
            body_min_bytes_per_second=self.http_body_min_bytes_per_second,
            keep_alive_timeout=self.http_keep_alive_seconds,
            max_connections=self.http_max_connections,
            accept_error_log_seconds=self.http_accept_error_log_seconds,
        )


def serve(app: Any, limits: HttpLimits, *, host: str, port: int, grace_seconds: float) -> bool:
    """Serve `app` on host:port under these limits until a signal, stopping gracefully (a drain of
    up to `grace_seconds`); whether it started at all (a taken port, a failed start: False)."""
    from plumbing.gc_tuning import tune_for_serving
    from plumbing.graceful import DrainGate, GracefulServer
    from plumbing.logs import uvicorn_log_config

    gate = app if isinstance(app, DrainGate) else DrainGate(app)
    config = serving_config(
        gate,
        limits,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # the app logs each request (backend.request_ids), without its query string
        log_config=uvicorn_log_config(),  # uvicorn's lines in this process's LOG_FORMAT
    )
    tune_for_serving()
    server = GracefulServer(config, gate, grace_seconds)
    server.run()
    return bool(server.started)
