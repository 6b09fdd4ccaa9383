"""OpenTelemetry tracing for every process of ours, off unless an OTLP endpoint is configured.

`configure_tracing(service_name)` installs a `TracerProvider` (a `BatchSpanProcessor` in front of
the OTLP/HTTP exporter, a resource naming the service) only when `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set and `OTEL_SDK_DISABLED` is not true. The exporter reads
the other standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, the
`OTEL_BSP_*` batch settings), and `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` name the service
when set. Off, nothing is installed: `tracer()` hands out the API's no-op tracer, and the hooks
that create spans (`enabled()` says whether to attach them) are not attached at all.

Tests pass `exporter=` (an in-memory exporter, behind a `SimpleSpanProcessor`) through the same
path. The provider is process-wide (the OpenTelemetry API lets the global one be set once): it is
installed as the global provider (so the MCP SDK's own client and server spans join our traces)
behind a switch: configuring again replaces the exporter (the first service name stays), and
after `shutdown_tracing()` every tracer of it is the no-op one again.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, cast

from opentelemetry import trace
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

if TYPE_CHECKING:  # the SDK (~0.1 s to import) is loaded when tracing is switched on
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger("plumbing.tracing")
FLUSH_TIMEOUT_MILLIS = 5_000

__all__ = [
    "TracingSettings",
    "configure_tracing",
    "enabled",
    "flush_tracing",
    "record_failure",
    "shutdown_tracing",
    "tracer",
]


class TracingSettings(BaseSettings):
    """Whether this process exports traces: the standard OpenTelemetry variables that switch it on
    (the exporter reads the rest of them itself)."""

    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")

    @field_validator("otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint", mode="before")
    @classmethod
    def _otel_endpoint_empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # VAR= (compose's ${VAR:-})

    @field_validator("otel_sdk_disabled", mode="before")
    @classmethod
    def _otel_disabled_empty_is_false(cls, value: object) -> object:
        return False if value == "" else value

    def tracing_wanted(self) -> bool:
        """Whether an OTLP endpoint is configured and the SDK is not disabled."""
        endpoint = self.otel_exporter_otlp_traces_endpoint or self.otel_exporter_otlp_endpoint
        return endpoint is not None and not self.otel_sdk_disabled


class _Switch:
    """The provider's one span processor, forwarding to the current exporter's (replaceable) one."""

    def __init__(self) -> None:
        self.inner: SpanProcessor | None = None

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        inner = self.inner
        if inner is not None:
            inner.on_start(span, parent_context=parent_context)

    def _on_ending(self, span: Any) -> None:
        inner = self.inner
        if inner is not None:
            inner._on_ending(span)

    def on_end(self, span: Any) -> None:
        inner = self.inner
        if inner is not None:
            inner.on_end(span)

    def shutdown(self) -> None:
        inner, self.inner = self.inner, None
        if inner is not None:
            inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        inner = self.inner
        return inner.force_flush(timeout_millis) if inner is not None else True


_lock = threading.Lock()
_provider: TracerProvider | None = None
_switch = _Switch()
_tracers: dict[str, trace.Tracer] = {}
_NO_OP = trace.NoOpTracer()


class _SwitchedTracer(trace.Tracer):
    """A tracer of the global provider: the SDK's while tracing is on, else the API's no-op one
    (so a library holding it, such as the MCP SDK, behaves as if nothing were installed)."""

    def __init__(self, *args: Any) -> None:
        self._args = args
        self._real: trace.Tracer | None = None

    def _current(self) -> trace.Tracer:
        if _provider is None or _switch.inner is None:
            return _NO_OP
        if self._real is None:
            self._real = _provider.get_tracer(*self._args)
        return self._real

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._current().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._current().start_as_current_span(*args, **kwargs)


class _SwitchedProvider(trace.TracerProvider):
    """The global provider we install: its tracers follow `enabled()`."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> trace.Tracer:
        return _SwitchedTracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )


def _resource(service_name: str) -> Resource:
    """The standard detected resource; `service_name` unless OTEL_SERVICE_NAME (or
    OTEL_RESOURCE_ATTRIBUTES) names the service."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    detected = Resource.create()
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        return detected.merge(Resource({SERVICE_NAME: service_name}))
    return detected


def _otlp_exporter() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression: from the OTEL_* variables


def configure_tracing(
    service_name: str, settings: TracingSettings | None = None, *, exporter: SpanExporter | None = None
) -> bool:
    """Install tracing for this process when wanted (an OTLP endpoint in `settings`, default: the
    environment) or when an `exporter` is given; whether tracing is on afterwards. Without an
    exporter, a process already tracing keeps its exporter; nothing is ever uninstalled."""
    global _provider
    with _lock:
        if exporter is None:
            if _provider is not None and _switch.inner is not None:
                return True
            if not (settings or TracingSettings()).tracing_wanted():
                return False
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        processor: SpanProcessor = (
            BatchSpanProcessor(_otlp_exporter()) if exporter is None else SimpleSpanProcessor(exporter)
        )
        if _provider is None:
            _provider = TracerProvider(resource=_resource(service_name), shutdown_on_exit=True)
            _provider.add_span_processor(cast("SpanProcessor", _switch))
            if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
                # Other instrumentation (the MCP SDK's client and server spans) joins our traces.
                trace.set_tracer_provider(_SwitchedProvider())
        previous, _switch.inner = _switch.inner, processor
    if previous is not None:
        previous.shutdown()
    logger.info("Tracing on for %s", service_name)
    return True


def enabled() -> bool:
    """Whether this process records spans (`configure_tracing` installed an exporter)."""
    return _switch.inner is not None


def tracer(name: str) -> trace.Tracer:
    """The tracer for instrumentation `name`: ours when tracing is on, else the no-op tracer."""
    provider = _provider
    if provider is None or _switch.inner is None:
        return _NO_OP
    found = _tracers.get(name)
    if found is None:
        found = _tracers[name] = provider.get_tracer(name)
    return found


def flush_tracing(timeout_millis: int = FLUSH_TIMEOUT_MILLIS) -> None:
    """Export the spans still waiting in the batch (at the end of an app's lifespan, a server's run);
    at process exit the provider shuts down (and flushes) by itself."""
    if _provider is not None and _switch.inner is not None and not _switch.force_flush(timeout_millis):
        logger.warning("Tracing: spans could not all be exported within %d ms", timeout_millis)


def shutdown_tracing() -> None:
    """Export what is waiting and stop recording: `enabled()` is False again, and every tracer of
    the installed provider is the no-op one until `configure_tracing` gives it an exporter."""
    with _lock:
        _switch.shutdown()


def record_failure(span: Any, error: BaseException, description: str | None = None) -> None:
    """Mark `span` failed with the error's type (no message: it may quote user data)."""
    span.set_status(trace.Status(trace.StatusCode.ERROR, description or type(error).__name__))
    span.set_attribute("error.type", type(error).__qualname__)
