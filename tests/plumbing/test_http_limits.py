"""plumbing.http_limits without a server: the "Too many open files" filter and the connection cap."""

from __future__ import annotations

import errno
import logging

from plumbing.http_limits import AcceptErrorFilter, connection_cap


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def accept_error(message: str = "socket.accept() out of system resource") -> logging.LogRecord:
    exc = OSError(errno.EMFILE, "Too many open files")
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, (OSError, exc, None))


def test_too_many_open_files_is_logged_once_per_interval() -> None:
    clock = Clock()
    gate = AcceptErrorFilter(60, clock=clock)
    assert gate.filter(accept_error())
    for _ in range(1000):
        clock.now += 0.01
        assert not gate.filter(accept_error())
    assert not gate.filter(
        logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "[Errno 24] Too many open files", None, None
        )
    )
    clock.now += 60
    record = accept_error()
    assert gate.filter(record)
    assert "1001 more like it" in record.getMessage()
    assert not gate.filter(accept_error())


def test_other_records_pass() -> None:
    gate = AcceptErrorFilter(60, clock=Clock())
    assert gate.filter(accept_error())
    other = logging.LogRecord(
        "asyncio", logging.ERROR, __file__, 1, "Task exception was never retrieved", None, None
    )
    assert gate.filter(other)
    assert gate.filter(other)


def test_the_connection_cap_stays_below_the_open_files_limit() -> None:
    assert connection_cap(None, 1024) == 768
    assert connection_cap(5000, 1024) == 768
    assert connection_cap(100, 1024) == 100
    assert connection_cap(None, 100) == 36
    assert connection_cap(None, None) is None
    assert connection_cap(10, None) == 10
