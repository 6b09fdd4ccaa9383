"""`GET /`: the ChatKit web component set up for this backend (one static page, settings injected once)."""

from __future__ import annotations

import json
import logging
from importlib.resources import files
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

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
# The offline model's phrases (README, "The offline model"); any other model gets prompts any model can do.
OFFLINE_PROMPTS = [
    {"label": "Add a task", "prompt": "add task buy milk", "icon": "write"},
    {"label": "List my tasks", "prompt": "list tasks", "icon": "check-circle"},
    {"label": "Search the catalog", "prompt": "search desk lamp", "icon": "search"},
    {"label": "What can you do?", "prompt": "help", "icon": "circle-question"},
]
MODEL_PROMPTS = [
    {"label": "Add a task", "prompt": "Add a task to buy milk", "icon": "write"},
    {"label": "List my tasks", "prompt": "Which tasks are still open?", "icon": "check-circle"},
    {"label": "Search the catalog", "prompt": "Find me a desk lamp", "icon": "search"},
    {"label": "What can you do?", "prompt": "What can you do?", "icon": "circle-question"},
]
# Inside <script> only `</script`, `<!--` and `]]>` are special; escaping <, > and & covers them all,
# and U+2028/U+2029 keep the JSON a valid JavaScript literal too.
SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def page_config(settings: BackendSettings) -> dict[str, Any]:
    """What the page is told: script and API locations, domain key, texts, whether to ask for a token."""
    offline = settings.provider == "offline"
    return {
        "scriptUrl": settings.chatkit_script_url,
        "apiPath": "chatkit",
        "domainKey": settings.chatkit_domain_key,
        "title": settings.chatkit_page_title,
        "auth": not settings.local_mode,
        "greeting": "Manage your tasks and search the catalog." if offline else "What can I help with today?",
        "prompts": OFFLINE_PROMPTS if offline else MODEL_PROMPTS,
        "composerPlaceholder": "Try “add task buy milk” or “help”" if offline else "Message the assistant",
        "maxUploadBytes": settings.max_upload_bytes,
    }


def script_json(value: Any) -> str:
    """`value` as JSON that is safe inside an HTML <script> element."""
    return json.dumps(value, ensure_ascii=False).translate(SCRIPT_ESCAPES)


def render_page(settings: BackendSettings) -> str:
    """The page with this backend's settings in its `chatkit-config` block."""
    template = files(__package__).joinpath("chatkit.html").read_text(encoding="utf-8")
    if template.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"chatkit.html must hold {PLACEHOLDER} exactly once")
    return template.replace(PLACEHOLDER, script_json(page_config(settings)))


def create_page_router(settings: BackendSettings) -> APIRouter:
    """`GET /`: the page when CHATKIT_PAGE is on, else a 404 JSON error; the page is rendered once, here."""
    router = APIRouter()
    if not settings.chatkit_page_enabled:

        @router.get("/", include_in_schema=False)
        async def page_off() -> Response:
            body = {"error": {"code": "not_found", "message": "Not found."}}
            return JSONResponse(body, status_code=404)

        return router

    if not settings.local_mode and settings.chatkit_domain_key == PLACEHOLDER_DOMAIN_KEY:
        logger.warning("The ChatKit page uses a placeholder CHATKIT_DOMAIN_KEY: it only works on localhost.")
    html = render_page(settings)

    @router.get("/", include_in_schema=False)
    async def page() -> Response:
        return HTMLResponse(html, headers=HEADERS)

    return router
