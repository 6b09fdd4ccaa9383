"""The FastAPI app: `POST /chatkit`, direct uploads, health and readiness, CORS and body limits."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from agents import Agent, set_tracing_disabled
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import AttachmentCreateParams, AttachmentsCreateReq, ChatKitReq
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError

from backend.actions import WidgetActions
from backend.agent.assistant import create_assistant
from backend.agent.attachments import AttachmentBudget
from backend.agent.models import close_model, create_model
from backend.agent.tool_events import ToolEvents
from backend.approvals import ApprovalDesk
from backend.attachment_links import AttachmentLinks, LinkError, Purpose
from backend.auth import Authenticator, AuthError
from backend.chat_server import ChatServer
from backend.context import TIMEZONE_HEADER, RequestContext, valid_timezone
from backend.db import create_engine
from backend.db_errors import (
    bad_value,
    database_error_summary,
    database_unreachable,
    frames,
    schema_missing,
    touches_sql,
)
from backend.file_types import UploadTypes
from backend.http_bodies import (
    BodyTooLarge,
    attachment_json,
    declared_type,
    download_headers,
    is_multipart,
    read_body,
    read_form_file,
    read_upload,
)
from backend.mcp.config import load_mcp_config, load_widgets
from backend.mcp.hub import McpHub
from backend.mcp.identity import SERVICE_TOKEN_TTL_SECONDS, SERVICE_USER, mint_identity_token
from backend.metrics import (
    CountRequests,
    MeteredStream,
    metrics_access,
    note_request_type,
    observe_latency,
    refresh_mcp_status,
)
from backend.page import create_page_router
from backend.rate_limits import RateLimiter
from backend.request_checks import UNSTORABLE_MESSAGE, RequestRejected, check_request, check_text
from backend.request_ids import HEADER as REQUEST_ID_HEADER
from backend.request_ids import install as install_request_ids
from backend.settings import BackendSettings
from backend.store import AlreadyUploaded, SqlStore
from backend.tracing import TracingMiddleware, traced_agent
from plumbing.logs import bind as bind_log_context
from plumbing.logs import current_request_id
from plumbing.metrics import MetricsEndpoint
from plumbing.tracing import configure_tracing, flush_tracing

logger = logging.getLogger(__name__)
# Parse once per request with an adapter built here: the SDK's process() builds one per call (~2 ms).
REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every refusal uses."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def origin_regex(origins: list[str]) -> str:
    """CORS origins as one regex; `*` stands for any port (`http://localhost:*`) or any subdomain."""
    patterns = [re.escape(origin).replace(r"\*", "[^/]*") for origin in origins]
    return "^(" + "|".join(patterns) + ")$" if patterns else "^$"


# A \uD800-\uDFFF escape (half of a surrogate pair, alone when the JSON does not parse), or a
# surrogate encoded as UTF-8 bytes (ED A0..BF), which no UTF-8 decoder accepts.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")


def spells_lone_surrogate(exc: ValidationError, body: bytes) -> bool:
    """Whether `body` failed to parse as JSON for a lone surrogate escape (or raw surrogate bytes)."""
    if not any(detail["type"] == "json_invalid" for detail in exc.errors(include_url=False)):
        return False
    return _SURROGATE_ESCAPE.search(body) is not None


def describe(exc: ValidationError) -> str:
    """The first problems of a request that does not parse, without echoing its content."""
    problems = []
    for detail in exc.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in detail["loc"]) or "body"
        problems.append(f"{where}: {detail['msg']}")
    return "Invalid ChatKit request: " + "; ".join(problems)


def create_app(settings: BackendSettings | None = None, *, agent: Agent[Any] | None = None) -> FastAPI:
    """The backend app; `agent` replaces the default assistant (tests use a scripted model)."""
    settings = settings or BackendSettings()
    # Traces go to OpenAI: only when the conversation goes there anyway.
    set_tracing_disabled(not (settings.provider == "openai" and settings.llm_base_url is None))
    # Our own spans (OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set): backend.tracing.
    tracing_on = configure_tracing("chatkit-backend", settings)
    authenticator = Authenticator(settings)
    links = AttachmentLinks(settings.mcp_auth_secret.get_secret_value(), settings.public_base_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        store = SqlStore(
            engine,
            links=links,
            max_upload_bytes=settings.max_upload_bytes,
            upload_types=UploadTypes(settings.upload_allowed_types),
        )
        await store.prepare(migrate=settings.migrate_on_start)
        configs = (
            load_mcp_config(settings.mcp_config, settings.mcp_environment())
            if settings.mcp_config is not None
            else None
        )
        library = load_widgets(configs or {})
        events = ToolEvents(settings.mcp_auth_secret.get_secret_value(), library)
        hub = None
        model = None if agent is not None else create_model(settings)
        assistant = traced_agent(agent or create_assistant(model), settings.provider)
        if configs is not None:
            service_token = mint_identity_token(
                settings.mcp_auth_secret.get_secret_value(),
                SERVICE_USER,
                ttl_seconds=SERVICE_TOKEN_TTL_SECONDS,
            )
            hub = McpHub(
                configs,
                meta_resolver=events.identity,
                data_extractor=events.widget,
                service_token=service_token,
                library=library,
            )
            events.progress = hub.progress
            await hub.start(assistant)
        app.state.rate_limiter = rate_limiter = RateLimiter.from_settings(settings)
        await rate_limiter.start()
        app.state.store, app.state.hub = store, hub
        app.state.chat = ChatServer(
            store,
            assistant,
            history_items=settings.history_items,
            hub=hub,
            events=events,
            # The offline model reads the user's own words; a real model also gets a chosen prompt's.
            server_prompts=agent is not None or settings.provider != "offline",
            attachments=AttachmentBudget.from_settings(settings),
            actions=WidgetActions(store, hub, events.identity_meta, library),
            approvals=ApprovalDesk(
                store, hub, events.identity_meta, ttl_seconds=settings.approval_ttl_seconds, library=library
            ),
        )
        try:
            yield
        finally:
            if hub is not None:
                await hub.close()
            if model is not None:
                await close_model(model)
            await rate_limiter.aclose()
            await engine.dispose()
            flush_tracing()

    app = FastAPI(
        title="ChatKit backend",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # The request span is ours (backend.tracing): FastAPI's would record query strings, and
        # attachment links carry signed tokens there.
        telemetry={"tracing": False},
    )
    app.add_middleware(CountRequests)  # inside CORS: preflights are never counted
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=origin_regex(settings.cors_allow_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Timezone", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER],
    )
    if tracing_on:  # a span per request, /metrics and the health probes aside
        app.add_middleware(TracingMiddleware)
    # Outside CORS, auth and the routes: /metrics has its own access rule (plumbing.metrics).
    app.add_middleware(
        MetricsEndpoint, access=metrics_access(settings), before_scrape=lambda: refresh_mcp_status(app.state)
    )
    install_request_ids(app)  # outermost: every response, a 500 included, says its X-Request-ID

    async def authenticate(request: Request) -> RequestContext:
        context = await authenticator.authenticate(request.headers.get("authorization"))
        bind_log_context(user_id=context.user_id)
        timezone = valid_timezone(request.headers.get(TIMEZONE_HEADER))
        return dataclasses.replace(context, timezone=timezone) if timezone else context

    @app.exception_handler(AuthError)
    async def _unauthorized(_: Request, exc: AuthError) -> JSONResponse:
        return error(401, "unauthorized", f"Authentication failed: {exc}.", {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, __: BodyTooLarge) -> JSONResponse:
        return error(413, "too_large", "The request body is too large.")

    @app.exception_handler(RequestRejected)
    async def _rejected(_: Request, exc: RequestRejected) -> JSONResponse:
        return error(exc.status, exc.code, exc.message)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, __: NotFoundError) -> JSONResponse:
        return error(404, "not_found", "Not found.")

    @app.exception_handler(DBAPIError)
    @app.exception_handler(ConnectionError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        where = f"{request.method} {request.url.path}"
        if database_unreachable(exc):
            summary = database_error_summary(exc) if touches_sql(exc) else type(exc).__qualname__
            logger.warning("The database is unreachable (%s): %s", where, summary)
            return error(503, "unavailable", "The database is unreachable. Try again shortly.")
        if schema_missing(exc):  # the database came back empty: re-created (when allowed), said in words
            logger.warning("The database has no tables (%s): %s", where, database_error_summary(exc))
            await request.app.state.store.schema.recover()
            return error(503, "unavailable", request.app.state.store.schema.message, {"Retry-After": "1"})
        if bad_value(exc):
            logger.warning("The database refused a value (%s): %s", where, database_error_summary(exc))
            return error(400, "invalid_request", "The request contains a value that cannot be stored.")
        return await _crash(request, exc)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        if touches_sql(exc):  # its message quotes the statement and maybe values: log what and where
            logger.error(
                "Database error on %s %s: %s",
                request.method,
                request.url.path,
                database_error_summary(exc),
                extra={"traceback": frames(exc)},  # the frames, one field in JSON (plumbing.logs)
            )
        else:
            logger.exception("Unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal", "The server could not handle this request.")

    async def chatkit(request: Request) -> Response:
        started = time.perf_counter()
        context = await authenticate(request)
        body = await read_body(request, settings.max_request_bytes)
        try:
            parsed = REQUEST.validate_json(body)
        except ValidationError as exc:
            if spells_lone_surrogate(exc, body):  # the same answer as for a NUL
                return error(400, "unstorable_text", UNSTORABLE_MESSAGE)
            return error(400, "invalid_request", describe(exc))
        note_request_type(request, parsed.type)
        bind_log_context(thread_id=getattr(parsed.params, "thread_id", None))
        chat: ChatServer = request.app.state.chat
        await check_request(
            parsed, chat.store, context, max_upload_bytes=settings.max_upload_bytes, actions=chat.actions
        )
        rate_limiter: RateLimiter = request.app.state.rate_limiter
        if (refused := await rate_limiter.refuse(parsed, context.user_id)) is not None:
            return error(429, "rate_limited", refused.message, refused.headers)
        try:
            result = await chat.handle(parsed, context)
        except ValueError as exc:  # the SDK's own argument checks (attachment size, titles...)
            return error(400, "invalid_request", str(exc))
        if isinstance(result, StreamingResult):
            return MeteredStream(
                result,
                request_type=parsed.type,
                started=started,
                media_type="text/event-stream",
                headers=SSE_HEADERS,
            )
        observe_latency(parsed.type, started)  # a sync custom action
        return Response(content=result.json, media_type="application/json")

    app.add_api_route("/chatkit", chatkit, methods=["POST"])
    app.add_api_route("/chatkit/api", chatkit, methods=["POST"])
    app.include_router(create_page_router(settings))

    async def attachment_caller(request: Request, attachment_id: str, purpose: Purpose) -> RequestContext:
        """The caller of an attachment URL: its signed link (how the ChatKit UI uploads and shows
        previews) and/or the usual bearer token; when both come, they must name the same user."""
        token = request.query_params.get("token")
        if token is None:
            return await authenticate(request)
        try:
            user_id = links.verify(token, attachment_id, purpose)
        except LinkError as exc:
            raise AuthError(str(exc)) from None
        if request.headers.get("authorization") is not None:
            context = await authenticate(request)
            if context.user_id != user_id:  # someone else's link: as if the attachment did not exist
                raise NotFoundError(f"Attachment {attachment_id} not found")
            return context
        bind_log_context(user_id=user_id)
        return RequestContext(user_id=user_id, request_id=current_request_id() or uuid.uuid4().hex)

    @app.post("/chatkit/upload/{attachment_id}")
    async def upload(attachment_id: str, request: Request) -> Response:
        context = await attachment_caller(request, attachment_id, "upload")
        check_text(attachment_id)
        content = await read_upload(request, settings.max_upload_bytes)
        store: SqlStore = request.app.state.store
        try:
            attachment = await store.save_upload(attachment_id, content, context)
        except AlreadyUploaded as exc:  # an upload link is good for one upload
            return error(409, "already_uploaded", str(exc))
        except ValueError as exc:
            return error(400, "invalid_upload", str(exc))
        return Response(attachment_json(attachment), media_type="application/json")

    @app.post("/chatkit/upload")
    async def direct_upload(request: Request) -> Response:
        """ChatKit's `direct` upload strategy: one form with the file in, the caller's new attachment
        (already uploaded, its image preview signed) out, with the limits `attachments.create` has."""
        context = await authenticate(request)
        if not is_multipart(request):
            return error(
                400, "invalid_upload", "A direct upload is a multipart/form-data form with a 'file' field."
            )
        file = await read_form_file(request, settings.max_upload_bytes)
        name = file.filename or ""
        if not name.strip():
            return error(400, "invalid_upload", "The uploaded file has no name.")
        if not file.content:
            return error(400, "invalid_upload", "The upload is empty.")
        params = AttachmentCreateParams(
            name=name, size=len(file.content), mime_type=declared_type(file, name)
        )
        chat: ChatServer = request.app.state.chat
        # The checks attachments.create gets: name, size, and the UPLOAD_ALLOWED_TYPES allowlist (415).
        await check_request(
            AttachmentsCreateReq(params=params),
            chat.store,
            context,
            max_upload_bytes=settings.max_upload_bytes,
        )
        store: SqlStore = request.app.state.store
        try:
            created = await store.create_attachment(params, context)
        except ValueError as exc:
            return error(400, "invalid_upload", str(exc))
        await store.save_attachment(created, context)
        try:
            attachment = await store.save_upload(created.id, file.content, context)
        except Exception as exc:
            with suppress(Exception):  # no attachment left waiting for bytes that will never come
                await store.delete_attachment(created.id, context)
            if isinstance(exc, ValueError):  # e.g. the bytes are not the type they were declared as
                return error(400, "invalid_upload", str(exc))
            raise
        return Response(attachment_json(attachment), media_type="application/json")

    @app.get("/chatkit/attachments/{attachment_id}")
    async def download(attachment_id: str, request: Request) -> Response:
        context = await attachment_caller(request, attachment_id, "download")
        check_text(attachment_id)
        store: SqlStore = request.app.state.store
        attachment, content = await store.load_upload(attachment_id, context)
        return Response(content, media_type=attachment.mime_type, headers=download_headers(attachment))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        database = await request.app.state.store.schema.state()  # ok, unreachable or schema_missing
        hub: McpHub | None = request.app.state.hub
        mcp = hub.status() if hub is not None else {}  # as found: a server whose process died is down
        if hub is not None:
            hub.retry_soon()  # then a server that went down gets its retry (a later probe sees it back)
        ready = database == "ok" and all(state == "ok" for state in mcp.values())
        body = {"status": "ok" if ready else "unavailable", "database": database, "mcp": mcp}
        return JSONResponse(body, status_code=200 if ready else 503)

    return app
