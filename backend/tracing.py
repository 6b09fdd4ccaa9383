"""The backend's spans, when tracing is on (`plumbing.tracing`): one server span per HTTP request
and one span per model call. Tool calls get theirs in `backend.mcp.traced`, statements in
`plumbing.sql_spans`.

- `TracingMiddleware` (pure ASGI, so the span stays open until a streamed answer has ended)
  continues an incoming `traceparent`, and names the span by method, route and, for ChatKit, the
  request type: `POST /chatkit threads.create`. It records the method, the path (never the query:
  attachment links carry signed tokens), the route, the status and the request type. Health
  probes and metric scrapes are not traced.
- `traced_agent` puts the agent's model behind `TracedModel`: a span per model call (streamed or
  not) with the provider, the model name and the token counts, never the input or the output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, Model, ModelResponse
from openai.types.responses import ResponseCompletedEvent
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.metrics import TYPE_KEY
from plumbing import tracing

TRACER = "backend"
REQUEST_TYPE = "chatkit.request.type"
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes, every few seconds


def _carrier(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _route(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class TracingMiddleware:
    """ASGI middleware: a server span around each HTTP request, current while the app handles it
    (and streams its answer), continuing the caller's trace when a `traceparent` came in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not tracing.enabled() or scope.get("path") in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(_carrier(scope), context=otel_context.get_current())
        method = str(scope.get("method", "GET"))
        span = tracing.tracer(TRACER).start_span(
            method,
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": str(scope.get("path", "")),
                "url.scheme": str(scope.get("scheme", "http")),
            },
        )
        status: int | None = None

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start" and status is None:
                status = int(message["status"])
                span.set_attribute("http.response.status_code", status)
            await send(message)

        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, traced_send)
        except BaseException as exc:
            tracing.record_failure(span, exc)
            if status is None:
                span.set_attribute("http.response.status_code", 500)
            raise
        finally:
            otel_context.detach(token)
            route, request_type = _route(scope), scope.get(TYPE_KEY)
            if route is not None:
                span.set_attribute("http.route", route)
            if isinstance(request_type, str):
                span.set_attribute(REQUEST_TYPE, request_type)
            span.update_name(" ".join(part for part in (method, route, request_type) if part))
            if status is not None and status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end()


def _model_name(model: Model) -> str:
    name = getattr(model, "model", None)
    return name if isinstance(name, str) else type(model).__name__


def _usage_attributes(usage: Any) -> dict[str, int]:
    attributes = {}
    for attribute, field in (
        ("gen_ai.usage.input_tokens", "input_tokens"),
        ("gen_ai.usage.output_tokens", "output_tokens"),
    ):
        value = getattr(usage, field, None)
        if isinstance(value, int):
            attributes[attribute] = value
    return attributes


class TracedModel(Model):
    """`inner`, with a span around each call: `chat <model>`, its provider, model and token counts."""

    def __init__(self, inner: Model, provider: str) -> None:
        self.inner = inner
        self.name = _model_name(inner)
        self.attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": self.name,
        }

    def _start(self, streamed: bool) -> trace.Span:
        return tracing.tracer(TRACER).start_span(
            f"chat {self.name}",
            kind=trace.SpanKind.CLIENT,
            attributes={**self.attributes, "gen_ai.request.stream": streamed},
        )

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """The inner model's response, in a span."""
        span = self._start(streamed=False)
        try:
            response = await self.inner.get_response(*args, **kwargs)
        except BaseException as exc:
            tracing.record_failure(span, exc)
            raise
        else:
            span.set_attributes(_usage_attributes(response.usage))
            return response
        finally:
            span.end()

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        """The inner model's events, in a span that ends with the stream (however it ends)."""
        span = self._start(streamed=True)
        try:
            async for event in self.inner.stream_response(*args, **kwargs):
                if isinstance(event, ResponseCompletedEvent):
                    span.set_attributes(_usage_attributes(event.response.usage))
                yield event
        except GeneratorExit:  # the consumer stopped reading (a cancelled turn): not a model failure
            raise
        except BaseException as exc:
            tracing.record_failure(span, exc)
            raise
        finally:
            span.end()

    async def close(self) -> None:
        await self.inner.close()

    def get_retry_advice(self, request: Any) -> Any:
        return self.inner.get_retry_advice(request)

    async def _cleanup_on_run_end(self, owner: object) -> None:
        await self.inner._cleanup_on_run_end(owner)


def traced_agent(agent: Agent[Any], provider: str) -> Agent[Any]:
    """`agent` with its model behind `TracedModel` when tracing is on (else `agent` itself; an
    agent whose model is a name, not a `Model`, is left as it is)."""
    if not tracing.enabled() or not isinstance(agent.model, Model) or isinstance(agent.model, TracedModel):
        return agent
    return agent.clone(model=TracedModel(agent.model, provider))
