"""`GET /` in process: the ChatKit page on or off by default, its headers, settings and their escaping."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import httpx2
import pytest

from backend.app import create_app
from backend.settings import CHATKIT_SCRIPT_URL, BackendSettings
from tests.backend.conftest import AUTH_SECRET

BREAKOUT = "Tasks </script><script>window.pwned = 1</script><!-- <script> ]]> & \u2028 end"


class Scripts(HTMLParser):
    """The script elements of a page as an HTML tokenizer (and so a browser) splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def scripts_of(html: str) -> list[tuple[dict[str, str | None], str]]:
    parser = Scripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


def config_of(html: str) -> dict[str, Any]:
    """The settings the page was given, read as the page reads them."""
    blocks = [text for attrs, text in scripts_of(html) if attrs.get("id") == "chatkit-config"]
    assert len(blocks) == 1, blocks
    return json.loads(blocks[0])


async def get_page(settings: BackendSettings) -> httpx2.Response:
    app = create_app(settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http:
        return await http.get("/")


async def test_page_on_in_local_mode_with_headers_and_settings(sqlite_url: str) -> None:
    """Local mode serves the page by default: HTML with safe headers, configured for /chatkit."""
    response = await get_page(BackendSettings(DATABASE_URL=sqlite_url))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    config = config_of(response.text)
    assert config["apiPath"] == "chatkit"
    assert config["domainKey"] == "domain_pk_localhost_dev"
    assert config["scriptUrl"] == CHATKIT_SCRIPT_URL
    assert config["title"] == "ChatKit backend"
    assert config["auth"] is False
    assert config["maxUploadBytes"] == 10 * 1024 * 1024
    assert config["uploadStrategy"] == "two_phase"
    prompts = [prompt["prompt"] for prompt in config["prompts"]]
    assert prompts == ["add task buy milk", "list tasks", "search desk lamp", "help"]


async def test_page_off_by_default_when_auth_is_configured(sqlite_url: str) -> None:
    """With end-user auth and no CHATKIT_PAGE, `/` is a 404 JSON error like the app's other refusals."""
    response = await get_page(BackendSettings(DATABASE_URL=sqlite_url, AUTH_JWT_SECRET=AUTH_SECRET))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


@pytest.mark.parametrize(
    ("auth", "page", "served"),
    [(False, "false", False), (True, "true", True), (False, "", True), (True, "", False)],
)
async def test_explicit_chatkit_page_wins(sqlite_url: str, auth: bool, page: str, served: bool) -> None:
    """CHATKIT_PAGE=true/false overrides the mode's default; empty means the default."""
    secret = {"AUTH_JWT_SECRET": AUTH_SECRET} if auth else {}
    response = await get_page(BackendSettings(DATABASE_URL=sqlite_url, CHATKIT_PAGE=page, **secret))
    assert response.status_code == (200 if served else 404)
    if served:
        assert config_of(response.text)["auth"] is auth


async def test_settings_reach_the_page(sqlite_url: str) -> None:
    """Domain key, title, script URL and upload limit come from settings; other models get general prompts."""
    settings = BackendSettings(
        DATABASE_URL=sqlite_url,
        CHATKIT_DOMAIN_KEY="domain_pk_0123abc",
        CHATKIT_PAGE_TITLE="Team assistant",
        CHATKIT_SCRIPT_URL="https://static.example.com/chatkit.js",
        MAX_UPLOAD_BYTES=2048,
        LLM_PROVIDER="openai-compatible",
        LLM_BASE_URL="http://127.0.0.1:9/v1",
        LLM_MODEL="small",
    )
    config = config_of((await get_page(settings)).text)
    assert config["domainKey"] == "domain_pk_0123abc"
    assert config["title"] == "Team assistant"
    assert config["scriptUrl"] == "https://static.example.com/chatkit.js"
    assert config["maxUploadBytes"] == 2048
    prompts = [prompt["prompt"] for prompt in config["prompts"]]
    assert "help" not in prompts
    assert "What can you do?" in prompts


@pytest.mark.parametrize(
    ("value", "strategy"), [("direct", "direct"), ("two_phase", "two_phase"), ("", "two_phase")]
)
async def test_the_upload_strategy_is_a_setting(sqlite_url: str, value: str, strategy: str) -> None:
    """CHATKIT_UPLOAD_STRATEGY reaches the page with the direct upload route next to the page
    (POST /chatkit/upload); the page's script turns it into ChatKit's `uploadStrategy`."""
    response = await get_page(BackendSettings(DATABASE_URL=sqlite_url, CHATKIT_UPLOAD_STRATEGY=value))
    config = config_of(response.text)
    assert config["uploadStrategy"] == strategy
    assert config["uploadPath"] == "chatkit/upload"
    module = next(text for attrs, text in scripts_of(response.text) if attrs.get("type") == "module")
    assert 'config.uploadStrategy === "direct"' in module
    assert '{ type: "direct", uploadUrl: new URL(config.uploadPath, document.baseURI).href }' in module


def test_an_unknown_upload_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="CHATKIT_UPLOAD_STRATEGY"):
        BackendSettings(CHATKIT_UPLOAD_STRATEGY="three_phase")


async def test_a_title_cannot_break_out_of_the_config_block(sqlite_url: str) -> None:
    """`</script>`, `<!--` and U+2028 in the title stay data: the page has exactly its own two scripts."""
    response = await get_page(BackendSettings(DATABASE_URL=sqlite_url, CHATKIT_PAGE_TITLE=BREAKOUT))
    scripts = scripts_of(response.text)
    assert [attrs.get("type") for attrs, _ in scripts] == ["application/json", "module"]
    assert "pwned" not in scripts[1][1]
    assert config_of(response.text)["title"] == BREAKOUT
    assert "</script><script>window.pwned" not in response.text


def test_page_settings_are_validated() -> None:
    """An empty domain key or title is refused at start-up."""
    with pytest.raises(ValueError, match="CHATKIT_DOMAIN_KEY"):
        BackendSettings(CHATKIT_DOMAIN_KEY="")
    with pytest.raises(ValueError, match="CHATKIT_PAGE_TITLE"):
        BackendSettings(CHATKIT_PAGE_TITLE="")


def test_start_prompts_put_the_servers_prompts_first_and_offer_only_what_is_configured() -> None:
    """MCP prompts lead (their titles, else their names in words); the model's own suggestions
    follow for the servers that are there; no repeats; six at most."""
    from mcp_types import Prompt

    from backend.page import start_prompts

    settings = BackendSettings(LLM_PROVIDER="offline")
    prompts = [
        ("notes", Prompt(name="review_notes", title="Review my notes")),
        ("tasks", Prompt(name="plan_my_day")),
        ("other", Prompt(name="add-a-task")),  # the same label as a built-in one: shown once
    ]
    chosen = start_prompts(settings, prompts, ["notes", "tasks"])
    assert [entry["label"] for entry in chosen] == [
        "Review my notes", "Plan my day", "Add a task", "List my tasks", "What can you do?",
    ]  # fmt: skip
    assert chosen[0] == {"label": "Review my notes", "prompt": "Review my notes", "icon": "sparkle"}
    assert [entry["prompt"] for entry in start_prompts(settings, [], [])] == ["help"]
    many = [("x", Prompt(name=f"prompt_{index}")) for index in range(10)]
    assert len(start_prompts(settings, many, None)) == 6
