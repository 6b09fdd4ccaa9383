"""The ChatKit page in headless Chromium against a real `chatkit-backend` process.

The CDN script is replaced by a stand-in `openai-chatkit` element that records the options the page
passes to `setOptions`; every other request off the backend is refused, so no network is needed."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Route, async_playwright

from backend.settings import CHATKIT_SCRIPT_URL
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, user_token
from tests.e2e.conftest import BackendProcess, run_backend

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
TITLE = "Team tasks </script><script>window.pwned = 1</script><!--"
STAND_IN = """
window.chatkitCalls = [];
customElements.define("openai-chatkit", class extends HTMLElement {
  setOptions(options) { window.chatkitCalls.push(options); }
});
"""
LAST_OPTIONS = "() => JSON.parse(JSON.stringify(window.chatkitCalls.at(-1)))"
# A direct upload as ChatKit makes it: a multipart form with the file, POSTed to `uploadUrl`.
DIRECT_UPLOAD = """async () => {
  const api = window.chatkitCalls.at(-1).api;
  const body = new FormData();
  body.append("file", new File(["hello notes"], "notes.txt", {type: "text/plain"}));
  const response = await api.fetch(api.uploadStrategy.uploadUrl, {method: "POST", body});
  return {status: response.status, body: await response.text()};
}"""
THREADS_LIST = json.dumps({"type": "threads.list", "params": {"limit": 5, "order": "desc"}})
# Calls the page's own custom fetch, as ChatKit would.
CALL_FETCH = """async (body) => {
  const api = window.chatkitCalls.at(-1).api;
  const response = await api.fetch(api.url, {
    method: "POST", headers: {"Content-Type": "application/json"}, body,
  });
  return {status: response.status, body: await response.text()};
}"""


@contextmanager
def page_backend(directory: Path, **env: str) -> Iterator[BackendProcess]:
    """`chatkit-backend` on a temporary database and no tool servers, until it answers /healthz."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        "MCP_CONFIG": "",
        "LLM_PROVIDER": "offline",
        **env,
    }
    with run_backend(directory, environment, ready="/healthz") as backend:
        yield backend


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; the tests skip, saying why, where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    return CHROMIUM


@pytest.fixture(scope="module")
def local_backend(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[BackendProcess]:
    """Local mode: the page is on by default."""
    with page_backend(tmp_path_factory.mktemp("local")) as backend:
        yield backend


@pytest.fixture(scope="module")
def auth_backend(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[BackendProcess]:
    """End-user auth on, the page switched on explicitly, a title that tries to break out of its block."""
    env = {
        "AUTH_JWT_SECRET": AUTH_SECRET,
        "AUTH_AUDIENCE": AUDIENCE,
        "AUTH_ISSUER": ISSUER,
        "CHATKIT_PAGE": "true",
        "CHATKIT_PAGE_TITLE": TITLE,
        "CHATKIT_DOMAIN_KEY": "domain_pk_e2e_test",
    }
    with page_backend(tmp_path_factory.mktemp("auth"), **env) as backend:
        yield backend


@pytest.fixture(scope="module")
def direct_backend(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[BackendProcess]:
    """End-user auth on, the page on, and ChatKit told to upload directly (CHATKIT_UPLOAD_STRATEGY)."""
    env = {
        "AUTH_JWT_SECRET": AUTH_SECRET,
        "AUTH_AUDIENCE": AUDIENCE,
        "AUTH_ISSUER": ISSUER,
        "CHATKIT_PAGE": "true",
        "CHATKIT_UPLOAD_STRATEGY": "direct",
    }
    with page_backend(tmp_path_factory.mktemp("direct"), **env) as backend:
        yield backend


@dataclass
class Traffic:
    """What the page asked for outside the backend."""

    script_requests: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@asynccontextmanager
async def open_page(
    chromium: Path, backend: BackendProcess, *, script: str | None = STAND_IN
) -> AsyncIterator[tuple[Any, Traffic]]:
    """A fresh browser page whose CDN request gets `script` (None: the CDN is unreachable)."""
    traffic = Traffic()

    async def route(route: Route) -> None:
        request = route.request
        if request.url.startswith(backend.url + "/"):
            await route.continue_()
        elif request.url == CHATKIT_SCRIPT_URL and script is not None:
            traffic.script_requests.append(request.headers)
            await route.fulfill(status=200, content_type="text/javascript", body=script)
        else:
            traffic.refused.append(request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            context = await browser.new_context()
            await context.route("**/*", route)
            yield await context.new_page(), traffic
        finally:
            await browser.close()


async def wait_for_options(page: Any, count: int = 1) -> dict[str, Any]:
    """The options of the `count`-th setOptions call, once the page has made it."""
    await page.wait_for_function(f"() => (window.chatkitCalls || []).length >= {count}", timeout=15_000)
    return await page.evaluate(LAST_OPTIONS)


async def test_local_page_configures_chatkit_for_the_backend(
    chromium: Path, local_backend: BackendProcess
) -> None:
    """API URL, domain key, history, item actions, start screen, header, uploads and theme reach ChatKit;
    its fetch reaches the real backend; nothing else is fetched."""
    async with open_page(chromium, local_backend) as (page, traffic):
        await page.emulate_media(color_scheme="light")
        await page.goto(local_backend.url + "/")
        options = await wait_for_options(page)
        assert options["api"]["url"] == f"{local_backend.url}/chatkit"
        assert options["api"]["domainKey"] == "domain_pk_localhost_dev"
        assert options["api"]["uploadStrategy"] == {"type": "two_phase"}
        assert await page.evaluate("() => typeof window.chatkitCalls[0].api.fetch") == "function"
        assert options["history"] == {"enabled": True, "showRename": True, "showDelete": True}
        assert options["threadItemActions"] == {"feedback": True, "retry": True}
        prompts = [prompt["prompt"] for prompt in options["startScreen"]["prompts"]]
        assert prompts == ["help"]  # no tool servers here: nothing to suggest but what the model can say
        assert options["startScreen"]["greeting"]
        assert options["header"]["title"] == {"enabled": True, "text": "ChatKit backend"}
        assert options["composer"]["attachments"] == {"enabled": True, "maxSize": 10 * 1024 * 1024}
        assert options["theme"]["colorScheme"] == "light"
        assert await page.title() == "ChatKit backend"
        assert await page.locator("openai-chatkit").count() == 1
        assert await page.locator("#token-form").is_hidden()

        answer = await page.evaluate(CALL_FETCH, THREADS_LIST)
        assert answer["status"] == 200, answer
        assert json.loads(answer["body"])["data"] == []

        await page.emulate_media(color_scheme="dark")  # the system theme changes
        options = await wait_for_options(page, 2)
        assert options["theme"]["colorScheme"] == "dark"
        assert options["api"]["url"] == f"{local_backend.url}/chatkit"  # the whole set again

        assert len(traffic.script_requests) == 1
        assert "referer" not in traffic.script_requests[0]
        assert traffic.refused == []


async def test_token_from_the_fragment_is_sent_by_the_custom_fetch(
    chromium: Path, auth_backend: BackendProcess
) -> None:
    """`/#token=...` is kept in sessionStorage and removed from the address bar; the page's fetch sends it
    (200 from the real backend), and without it the backend says 401 and the page asks for a token."""
    token = user_token("alice")
    async with open_page(chromium, auth_backend) as (page, traffic):
        await page.goto(f"{auth_backend.url}/#token={token}")
        options = await wait_for_options(page)
        assert options["api"]["domainKey"] == "domain_pk_e2e_test"
        assert options["header"]["title"]["text"] == TITLE
        assert await page.evaluate("() => window.pwned") is None
        assert await page.evaluate("() => window.location.href") == f"{auth_backend.url}/"
        assert await page.evaluate("() => sessionStorage.getItem('chatkit-backend-token')") == token

        answer = await page.evaluate(CALL_FETCH, THREADS_LIST)
        assert answer["status"] == 200, answer
        assert json.loads(answer["body"])["data"] == []

        await page.evaluate("() => sessionStorage.removeItem('chatkit-backend-token')")
        answer = await page.evaluate(CALL_FETCH, THREADS_LIST)
        assert answer["status"] == 401
        assert json.loads(answer["body"])["error"]["code"] == "unauthorized"
        await page.locator("#token-form").wait_for(state="visible")
        assert "401" in await page.locator("#token-message").inner_text()
        assert traffic.refused == []


async def test_without_a_token_the_page_asks_for_one(chromium: Path, auth_backend: BackendProcess) -> None:
    """With auth on and no token, the page shows a prompt before ChatKit starts; a pasted token is used."""
    async with open_page(chromium, auth_backend) as (page, traffic):
        await page.goto(auth_backend.url + "/")
        await page.locator("#token-form").wait_for(state="visible")
        assert await page.evaluate("() => (window.chatkitCalls || []).length") == 0
        await page.locator("#token-input").fill(user_token("bob"))
        await page.locator("#token-form button").click()
        await wait_for_options(page)
        assert await page.locator("#token-form").is_hidden()
        answer = await page.evaluate(CALL_FETCH, THREADS_LIST)
        assert answer["status"] == 200, answer
        assert traffic.refused == []


async def test_an_unreachable_script_is_explained(chromium: Path, local_backend: BackendProcess) -> None:
    """When the ChatKit script cannot load, the page says so and names the setting that self-hosts it."""
    async with open_page(chromium, local_backend, script=None) as (page, traffic):
        await page.goto(local_backend.url + "/")
        status = page.locator("#status")
        await status.wait_for(state="visible")
        text = await status.inner_text()
        assert CHATKIT_SCRIPT_URL in text
        assert "CHATKIT_SCRIPT_URL" in text
        assert traffic.refused == [CHATKIT_SCRIPT_URL]


async def test_direct_uploads_go_to_the_upload_route_with_the_token(
    chromium: Path, direct_backend: BackendProcess
) -> None:
    """CHATKIT_UPLOAD_STRATEGY=direct: ChatKit is given the backend's upload route, and a form POSTed
    there through the page's fetch carries the token and comes back as the caller's attachment."""
    async with open_page(chromium, direct_backend) as (page, traffic):
        await page.goto(f"{direct_backend.url}/#token={user_token('alice')}")
        options = await wait_for_options(page)
        upload_url = f"{direct_backend.url}/chatkit/upload"
        assert options["api"]["uploadStrategy"] == {"type": "direct", "uploadUrl": upload_url}
        answer = await page.evaluate(DIRECT_UPLOAD)
        assert answer["status"] == 200, answer
        attachment = json.loads(answer["body"])
        assert (attachment["type"], attachment["name"], attachment["mime_type"]) == (
            "file", "notes.txt", "text/plain"
        )  # fmt: skip
        assert "upload_descriptor" not in attachment
        await page.evaluate("() => sessionStorage.removeItem('chatkit-backend-token')")
        assert (await page.evaluate(DIRECT_UPLOAD))["status"] == 401
        assert traffic.refused == []
