"""One logging set-up per process: `LOG_FORMAT` (`text` or `json`) and `LOG_LEVEL`, and what every
record says about the request it belongs to.

The request a record was logged for lives in a context variable (`LogContext`: request id, a hash
of the user id, thread id), which the backend sets per HTTP request and the tool servers per call
(`plumbing.call_meta.adopted`); `ContextFilter` copies it onto every record. `json` writes one JSON
object per line (`time`, `level`, `logger`, `message`, `request_id`, `user`, `thread_id`, then
`duration_ms` and the like where known, and a failure's `traceback` as one string: its exc_info,
or the frames given as `extra={"traceback": ...}` where the exception's message must not be
logged); `text` is one human-friendly line (with the request id when there is one), a traceback
below it.

Users appear only as `user_hash` (the first 12 hex digits of SHA-256 of the id, unkeyed: it tells
log lines of one user apart, it does not hide a guessable id from someone who guesses).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

LogFormat = Literal["text", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# What a request id may be (a client's X-Request-ID, the backend's id in a tool call's _meta).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
USER_HASH_CHARS = 12
CONTEXT_FIELDS = ("request_id", "user", "thread_id")
# Attributes of a record (`extra=`) that the JSON format writes as fields of their own.
EXTRA_FIELDS = ("duration_ms", "method", "path", "status", "tool", "outcome", "call")
# Libraries whose INFO lines name every outgoing URL (a provider's query string may carry a key).
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")
# Libraries whose DEBUG lines hold request bodies (the model's input, JSON-RPC messages with their
# identity tokens): never below INFO, whatever LOG_LEVEL says (a tool server sets `mcp` itself).
NO_DEBUG_LOGGERS = ("openai", "mcp")
_MARK = "_chatkit_logged"
# What `setup_logging` set up in this process (for child processes: `inherited_logging`).
_configured: dict[str, str] = {}


@dataclass
class LogContext:
    """What the records of one request (or tool call) say about it; filled in as it becomes known
    (the user once authenticated, the thread once loaded), by whoever holds it."""

    request_id: str | None = None
    user: str | None = None
    thread_id: str | None = None


_CURRENT: ContextVar[LogContext | None] = ContextVar("log_context", default=None)


def user_hash(user_id: str) -> str:
    """A short, stable stand-in for a user id in logs (never the id itself)."""
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:USER_HASH_CHARS]


def valid_request_id(value: object) -> str | None:
    """`value` when it is a well-formed request id (1-128 of `A-Z a-z 0-9 . _ : -`), else None."""
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else None


def current() -> LogContext | None:
    """The log context of the request in progress, if any."""
    return _CURRENT.get()


def current_request_id() -> str | None:
    """The id of the request in progress, if any."""
    context = _CURRENT.get()
    return None if context is None else context.request_id


@contextmanager
def log_context(request_id: str | None = None) -> Iterator[LogContext]:
    """A fresh log context for the duration of one request or call."""
    context = LogContext(request_id=request_id)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def bind(*, user_id: str | None = None, thread_id: object = None) -> None:
    """Note the user (hashed) and/or thread of the request in progress (nothing outside one)."""
    context = _CURRENT.get()
    if context is None:
        return
    if user_id is not None:
        context.user = user_hash(user_id)
    if thread_id is not None and (well_formed := valid_request_id(thread_id)) is not None:
        context.thread_id = well_formed  # the client's words: only when they look like an id


def mark_logged(exc: BaseException) -> None:
    """Note that `exc` was logged with its traceback: the server's own report of it is dropped."""
    with suppress(AttributeError, TypeError):  # an exception type without a __dict__: not marked
        setattr(exc, _MARK, True)


def already_logged(exc: BaseException | None) -> bool:
    """Whether `mark_logged` was called for `exc`."""
    return exc is not None and getattr(exc, _MARK, False) is True


class ContextFilter(logging.Filter):
    """Puts the request context on every record (an `extra=` value given to the call wins), and
    drops uvicorn's report of an exception the app has logged already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.error" and record.exc_info and already_logged(record.exc_info[1]):
            return False
        context = _CURRENT.get()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, None if context is None else getattr(context, name))
        return True


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            entry[name] = getattr(record, name, None)
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        elif isinstance(frames := getattr(record, "traceback", None), str):  # extra={"traceback": ...}
            entry["traceback"] = frames
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`2026-01-02T03:04:05.678Z INFO backend.access [req=…]: message`, a traceback below it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc(record.created)

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{label}={value}"
            for label, value in (
                ("req", getattr(record, "request_id", None)),
                ("user", getattr(record, "user", None)),
                ("thread", getattr(record, "thread_id", None)),
            )
            if value
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        line = super().format(record)
        frames = getattr(record, "traceback", None)
        if not record.exc_info and isinstance(frames, str) and frames:  # extra={"traceback": ...}
            line = f"{line}\n{frames}"
        return line


def setup_logging(
    log_format: LogFormat = "text", level: LogLevel | str = "INFO", *, stream: TextIO | None = None
) -> logging.Handler:
    """Send every record (at `level` and above) to stderr (or `stream`) in `log_format`, with the
    request context; replaces the root logger's handlers (idempotent). The handler it installed."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in NO_DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.captureWarnings(True)
    if stream is None:  # what a child writing to our stderr should match
        _configured.update(LOG_FORMAT=log_format, LOG_LEVEL=logging.getLevelName(root.level))
    return handler


def inherited_logging() -> dict[str, str]:
    """`LOG_FORMAT` and `LOG_LEVEL` as this process set them up, for the environment of a child
    process whose stderr is ours (a stdio tool server); empty before `setup_logging`."""
    return dict(_configured)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's `log_config`: its loggers write through ours (same format, same context), and its
    access log (which prints the query string, where signed links carry their tokens) is off."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a `time.perf_counter()` reading), to 0.1 ms."""
    return round((time.perf_counter() - started) * 1000, 1)


class LogSettings(BaseSettings):
    """How a process logs: `LOG_FORMAT` (`text`, the default, or `json`) and `LOG_LEVEL` (INFO)."""

    log_format: LogFormat = Field(default="text", validation_alias="LOG_FORMAT")
    log_level: LogLevel = Field(default="INFO", validation_alias="LOG_LEVEL")

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _log_setting_normalised(cls, value: object, info: Any) -> object:
        if value == "":  # LOG_FORMAT= (empty, as compose passes `${VAR:-}`): the default
            return "text" if info.field_name == "log_format" else "INFO"
        if isinstance(value, str):
            return value.strip().lower() if info.field_name == "log_format" else value.strip().upper()
        return value

    def setup_logging(self) -> logging.Handler:
        """Apply these settings to this process's logging."""
        return setup_logging(self.log_format, self.log_level)
