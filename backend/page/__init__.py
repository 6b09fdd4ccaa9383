"""`GET /`: the ChatKit web component set up for this backend (one static page, settings injected once)."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from mcp_types import Prompt

from backend.mcp.prompts import prompt_label
from backend.settings import BackendSettings

logger = logging.getLogger(__name__)
PLACEHOLDER = "{{CHATKIT_CONFIG}}"
PLACEHOLDER_DOMAIN_KEY = BackendSettings.model_fields["chatkit_domain_key"].default
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
# The offline model's phrases (docs/backend.md, "The offline model"); any other model gets prompts any model
# can do. Each names the MCP server it needs (offered only while that server is configured).
OFFLINE_PROMPTS = [
    {"label": "Add a task", "prompt": "add task buy milk", "icon": "write", "needs": "tasks"},
    {"label": "List my tasks", "prompt": "list tasks", "icon": "check-circle", "needs": "tasks"},
    {"label": "Search the catalog", "prompt": "search desk lamp", "icon": "search", "needs": "items"},
    {"label": "What can you do?", "prompt": "help", "icon": "circle-question"},
]
MODEL_PROMPTS = [
    {"label": "Add a task", "prompt": "Add a task to buy milk", "icon": "write", "needs": "tasks"},
    {
        "label": "List my tasks",
        "prompt": "Which tasks are still open?",
        "icon": "check-circle",
        "needs": "tasks",
    },
    {"label": "Search the catalog", "prompt": "Find me a desk lamp", "icon": "search", "needs": "items"},
    {"label": "What can you do?", "prompt": "What can you do?", "icon": "circle-question"},
]
# At most this many start-screen prompts: the servers' own first, then the model's.
MAX_START_PROMPTS = 6
# Inside <script> only `</script`, `<!--` and `]]>` are special; escaping <, > and & covers them all,
# and U+2028/U+2029 keep the JSON a valid JavaScript literal too.
SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def start_prompts(
    settings: BackendSettings,
    server_prompts: list[tuple[str, Prompt]],
    servers: Collection[str] | None = None,
) -> list[dict[str, str]]:
    """The start screen's prompts: one per MCP prompt the connected servers offer (its title as
    the request), then the ones the current model understands for the configured `servers` (None:
    as shipped, tasks and items), without repeats, at most six."""
    offline = settings.provider == "offline"
    available = {"tasks", "items"} if servers is None else set(servers)
    chosen: list[dict[str, str]] = []
    seen: set[str] = set()
    from_servers = [
        {"label": prompt_label(prompt), "prompt": prompt_label(prompt), "icon": "sparkle"}
        for _, prompt in server_prompts
    ]
    for entry in [*from_servers, *(OFFLINE_PROMPTS if offline else MODEL_PROMPTS)]:
        if entry.get("needs", "") not in available | {""}:
            continue
        if entry["label"].casefold() not in seen and len(chosen) < MAX_START_PROMPTS:
            seen.add(entry["label"].casefold())
            chosen.append({key: value for key, value in entry.items() if key != "needs"})
    return chosen


def page_config(
    settings: BackendSettings,
    server_prompts: list[tuple[str, Prompt]] | None = None,
    servers: Collection[str] | None = None,
) -> dict[str, Any]:
    """What the page is told: script, API and upload locations, the upload strategy, domain key,
    texts, whether to ask for a token, and the start screen's prompts (the MCP servers' own among them)."""
    offline = settings.provider == "offline"
    return {
        "scriptUrl": settings.chatkit_script_url,
        "apiPath": "chatkit",
        "uploadStrategy": settings.chatkit_upload_strategy,
        "uploadPath": "chatkit/upload",  # POST /chatkit/upload, for the direct strategy
        "domainKey": settings.chatkit_domain_key,
        "title": settings.chatkit_page_title,
        "auth": not settings.local_mode,
        "greeting": "Manage your tasks and search the catalog." if offline else "What can I help with today?",
        "prompts": start_prompts(settings, server_prompts or [], servers),
        "composerPlaceholder": "Try “add task buy milk” or “help”" if offline else "Message the assistant",
        "maxUploadBytes": settings.max_upload_bytes,
    }


def script_json(value: Any) -> str:
    """`value` as JSON that is safe inside an HTML <script> element."""
    return json.dumps(value, ensure_ascii=False).translate(SCRIPT_ESCAPES)


def render_page(
    settings: BackendSettings,
    server_prompts: list[tuple[str, Prompt]] | None = None,
    servers: Collection[str] | None = None,
) -> str:
    """The page with this backend's settings in its `chatkit-config` block."""
    template = files(__package__).joinpath("chatkit.html").read_text(encoding="utf-8")
    if template.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"chatkit.html must hold {PLACEHOLDER} exactly once")
    return template.replace(PLACEHOLDER, script_json(page_config(settings, server_prompts, servers)))


def create_page_router(settings: BackendSettings) -> APIRouter:
    """`GET /`: the page when CHATKIT_PAGE is on, else a 404 JSON error. The page is rendered again
    only when the MCP servers' prompts change (a server connected, or came back with others)."""
    router = APIRouter()
    if not settings.chatkit_page_enabled:

        @router.get("/", include_in_schema=False)
        async def page_off() -> Response:
            body = {"error": {"code": "not_found", "message": "Not found."}}
            return JSONResponse(body, status_code=404)

        return router

    if not settings.local_mode and settings.chatkit_domain_key == PLACEHOLDER_DOMAIN_KEY:
        logger.warning("The ChatKit page uses a placeholder CHATKIT_DOMAIN_KEY: it only works on localhost.")
    rendered: dict[tuple[tuple[str, ...] | None, tuple[tuple[str, str, str], ...]], str] = {}

    @router.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        # Before the app started (no `hub` yet), the shipped servers are assumed; without an MCP
        # config (`hub` None) there are none.
        started = hasattr(request.app.state, "hub")
        hub = request.app.state.hub if started else None
        prompts = hub.prompts() if hub is not None else []
        servers = tuple(hub.status()) if hub is not None else (() if started else None)
        key = (servers, tuple((server, prompt.name, prompt.title or "") for server, prompt in prompts))
        html = rendered.get(key)
        if html is None:
            rendered.clear()  # one page at a time: the servers' current prompts
            html = rendered[key] = render_page(settings, prompts, servers)
        return HTMLResponse(html, headers=HEADERS)

    return router
