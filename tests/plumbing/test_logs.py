"""The log formats, the request context on records, and what a tool call's `_meta` carries."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from plumbing.call_meta import REQUEST_ID_META_KEY, adopted, outgoing
from plumbing.logs import (
    LogSettings,
    bind,
    current_request_id,
    log_context,
    mark_logged,
    setup_logging,
    user_hash,
    uvicorn_log_config,
)


def capture(log_format: str) -> io.StringIO:
    buffer = io.StringIO()
    setup_logging(log_format, "INFO", stream=buffer)  # type: ignore[arg-type]
    return buffer


def test_json_lines_carry_the_context_and_one_traceback_field(restore_root: None) -> None:
    buffer = capture("json")
    log = logging.getLogger("test.logs")
    with log_context(request_id="req-1"):
        bind(user_id="alice", thread_id="thr_1")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("it failed\nacross lines")
    log.info("outside", extra={"duration_ms": 1.5})
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert first["request_id"] == "req-1"
    assert first["user"] == user_hash("alice") != "alice"
    assert first["thread_id"] == "thr_1"
    assert first["level"] == "ERROR" and first["logger"] == "test.logs"
    assert first["message"] == "it failed\nacross lines"
    assert first["traceback"].startswith("Traceback") and "RuntimeError: boom" in first["traceback"]
    assert first["time"].endswith("Z")
    assert (second["request_id"], second["user"], second["duration_ms"]) == (None, None, 1.5)
    assert "traceback" not in second


def test_text_lines_show_the_request_id(restore_root: None) -> None:
    buffer = capture("text")
    with log_context(request_id="req-2"):
        logging.getLogger("test.logs").warning("careful")
    logging.getLogger("test.logs").warning("plain")
    with_id, plain = buffer.getvalue().splitlines()
    assert "WARNING test.logs [req=req-2]: careful" in with_id
    assert plain.endswith("WARNING test.logs: plain")


def test_a_thread_id_that_is_not_id_like_is_not_bound() -> None:
    with log_context() as context:
        bind(thread_id="line one\nline two")
        assert context.thread_id is None
        bind(thread_id="thr_ok")
        assert context.thread_id == "thr_ok"


def test_uvicorns_report_of_an_exception_the_app_logged_is_dropped(restore_root: None) -> None:
    buffer = capture("json")
    uvicorn_loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(logger.handlers[:], logger.propagate) for logger in uvicorn_loggers]
    logging.config.dictConfig(uvicorn_log_config())  # as serving does (another test's uvicorn may not have)
    logged, unlogged = RuntimeError("logged"), RuntimeError("not logged")
    mark_logged(logged)
    for exc in (logged, unlogged):
        logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=exc)
    for logger, (handlers, propagate) in zip(uvicorn_loggers, saved, strict=True):
        logger.handlers[:], logger.propagate = handlers, propagate
    (line,) = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert "not logged" in line["traceback"]


def test_settings_read_format_and_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert (LogSettings().log_format, LogSettings().log_level) == ("json", "WARNING")
    monkeypatch.setenv("LOG_FORMAT", "")
    monkeypatch.setenv("LOG_LEVEL", "")
    assert (LogSettings().log_format, LogSettings().log_level) == ("text", "INFO")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="LOG_FORMAT"):
        LogSettings()


def test_outgoing_carries_the_request_id_and_the_active_trace() -> None:
    assert outgoing() == {}
    with log_context(request_id="req-3"):
        assert outgoing() == {REQUEST_ID_META_KEY: "req-3"}  # no span: no traceparent
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("turn") as span:
            meta = outgoing()
    assert meta[REQUEST_ID_META_KEY] == "req-3"
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert meta["traceparent"].split("-")[1] == trace_id


def test_adopted_takes_the_callers_request_id_and_trace() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("caller") as caller:
        meta = {REQUEST_ID_META_KEY: "req-4", **outgoing()}
    assert not trace.get_current_span().get_span_context().is_valid
    with adopted(meta) as context:
        assert context.request_id == current_request_id() == "req-4"
        current = trace.get_current_span().get_span_context()
        assert current.trace_id == caller.get_span_context().trace_id
    assert current_request_id() is None
    assert not trace.get_current_span().get_span_context().is_valid
    with adopted({REQUEST_ID_META_KEY: "bad id\r\n", "traceparent": "garbage"}) as context:
        assert context.request_id is None
        assert not trace.get_current_span().get_span_context().is_valid
