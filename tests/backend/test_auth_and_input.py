"""Authentication refusals, local mode, and bad input: always a 4xx JSON answer, never a 5xx."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Iterator

import anyio
import httpx2
import jwt
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.__main__ import main as backend_main
from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token

LIST = {"type": "threads.list", "params": {}}
SOON = int(time.time()) + 6 * 3600  # built at import: valid for the whole session
CLAIMS = {"sub": "alice", "aud": AUDIENCE, "iss": ISSUER, "exp": SOON}


def unsigned(claims: dict) -> str:
    """A token with `alg: none`."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        f"Bearer {user_token('alice', exp=int(time.time()) - 60)}",
        f"Bearer {jwt.encode(CLAIMS, 'x' * 40, 'HS256')}",
        f"Bearer {user_token('alice', aud='someone-else')}",
        f"Bearer {user_token('alice', iss='https://evil.test')}",
        f"Bearer {unsigned(CLAIMS)}",
        f"Bearer {jwt.encode(CLAIMS, AUTH_SECRET * 2, 'HS512')}",
        f"Bearer {user_token('')}",
        "Bearer not.a.token",
    ],
    ids=[
        "missing",
        "empty",
        "basic",
        "expired",
        "forged",
        "audience",
        "issuer",
        "alg-none",
        "hs512",
        "no-sub",
        "garbage",
    ],
)
async def test_bad_credentials_get_401(http: httpx2.AsyncClient, authorization: str | None) -> None:
    """Missing, expired, forged, wrong-audience/issuer, unsigned or unexpected-algorithm tokens: 401."""
    headers = {"Authorization": authorization} if authorization else {}
    for payload in (LIST, {"type": "threads.create", "params": {"input": user_input("hi")}}):
        response = await http.post("/chatkit", json=payload, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_accepted_before_is_refused_once_it_expires(
    http: httpx2.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verified tokens are remembered, but never past their expiry."""
    monkeypatch.setattr("backend.auth.LEEWAY_SECONDS", 0)
    expiry = int(time.time()) + 2
    headers = {"Authorization": f"Bearer {user_token('short-lived', exp=expiry)}"}
    for _ in range(2):
        assert (await http.post("/chatkit", json=LIST, headers=headers)).status_code == 200
    await anyio.sleep(expiry - time.time() + 0.05)
    refused = await http.post("/chatkit", json=LIST, headers=headers)
    assert refused.status_code == 401 and "expired" in refused.text


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_jwks_tokens_are_verified(sqlite_url: str, algorithm: str) -> None:
    """With AUTH_JWKS_URL, RS256/ES256 tokens signed by a published key pass; another key's do not."""
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    public = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key()))
    public |= {"kid": "k1", "use": "sig", "alg": algorithm}
    jwks = json.dumps({"keys": [public]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = BackendSettings(
            DATABASE_URL=sqlite_url,
            AUTH_JWKS_URL=f"http://127.0.0.1:{server.server_port}/jwks.json",
            AUTH_AUDIENCE=AUDIENCE,
        )
        app = create_app(settings)
        claims = {"sub": "jwks-user", "aud": AUDIENCE, "exp": int(time.time()) + 60}
        good = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": "k1"})
        other_key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        bad = jwt.encode(claims, other_key, algorithm=algorithm, headers={"kid": "k1"})
        hs = jwt.encode(claims, "y" * 40, algorithm="HS256", headers={"kid": "k1"})
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                ok = await client.post("/chatkit", json=LIST, headers={"Authorization": f"Bearer {good}"})
                assert ok.status_code == 200, ok.text
                for token in (bad, hs):
                    refused = await client.post(
                        "/chatkit", json=LIST, headers={"Authorization": f"Bearer {token}"}
                    )
                    assert refused.status_code == 401
    finally:
        server.shutdown()


async def test_local_mode_needs_no_token(sqlite_url: str) -> None:
    """Without auth settings every request is the local user."""
    app = create_app(BackendSettings(DATABASE_URL=sqlite_url))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            local = ChatKitClient(client, None)
            thread_id, _ = await local.create_thread("local hello")
            assert (await local.call("threads.list"))["data"][0]["id"] == thread_id


def test_local_mode_refuses_a_public_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    """chatkit-backend exits with a clear message when asked to serve 0.0.0.0 without auth."""
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    monkeypatch.delenv("AUTH_JWKS_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        backend_main(["--host", "0.0.0.0", "--port", "1"])
    assert "refusing to listen on 0.0.0.0 without authentication" in str(exited.value.code)


MALFORMED = [
    b"",
    b"{",
    b'{"type": "threads.create", "params": {"input": ',
    b"[]",
    b"null",
    b'"threads.list"',
    b'{"type": "threads.nope", "params": {}}',
    b'{"params": {}}',
    b'{"type": "threads.get_by_id", "params": {}}',
    b'{"type": "threads.get_by_id", "params": {"thread_id": 42}}',
    b'{"type": "threads.list", "params": {"limit": "ten"}}',
    b'{"type": "threads.list", "params": {"order": "sideways"}}',
    b'{"type": "threads.create", "params": {"input": {"content": "not a list"}}}',
    b'{"type": "items.feedback", "params": {"thread_id": "t", "item_ids": "x", "kind": "meh"}}',
    b'{"type": "threads.update", "params": {"thread_id": "' + b"x" * 100_000 + b'", "title": "t"}}',
    b'{"type": "attachments.create", "params": {"name": "a", "size": -1, "mime_type": "text/plain"}}',
    b'{"type": "attachments.create", "params": {"name": "a", "size": 99999999999, "mime_type": "text/a"}}',
    b"\xff\xfe\x00garbage",
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
async def test_malformed_requests_get_4xx_json(alice: ChatKitClient, body: bytes) -> None:
    """Truncated JSON, wrong types, unknown types, huge strings: a 4xx with a JSON error body."""
    response = await alice.post(body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]["message"]
    assert "Traceback" not in response.text


async def test_oversized_bodies_get_413(alice: ChatKitClient) -> None:
    """A body over the limit is refused before it is parsed."""
    huge = {"type": "threads.create", "params": {"input": user_input("x" * (1024 * 1024 + 1))}}
    response = await alice.post(huge)
    assert response.status_code == 413
    assert (await alice.call("threads.list"))["data"] == []


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BlockingPortal, ChatKitClient]]:
    """One app for every fuzz example, driven from Hypothesis' synchronous examples through a portal."""
    settings_ = BackendSettings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
    )
    app = create_app(settings_)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        transport = httpx2.ASGITransport(app=app)
        http = httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1")
        yield portal, ChatKitClient(http, user_token("fuzzer", exp=int(time.time()) + 3600))
        portal.call(http.aclose)


REQUEST_TYPES = [
    "threads.create", "threads.add_user_message", "threads.get_by_id", "threads.list", "items.list",
    "items.feedback", "threads.update", "threads.delete", "threads.retry_after_item", "attachments.create",
    "attachments.delete", "threads.custom_action", "threads.sync_custom_action", "input.transcribe",
    "threads.add_client_tool_output", "threads.add_structured_input", "other",
]  # fmt: skip
PARAM_NAMES = [
    "thread_id", "item_id", "item_ids", "title", "input", "limit", "order", "after", "attachment_id", "name",
    "size", "mime_type", "kind", "action", "result",
]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=50),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.fixed_dictionaries(
        {"type": st.sampled_from(REQUEST_TYPES)},
        optional={"params": st.dictionaries(st.sampled_from(PARAM_NAMES), VALUES, max_size=5)},
    ).map(lambda value: json.dumps(value).encode()),
)


def test_fuzzed_bodies_never_get_a_5xx(fuzz_client: tuple[BlockingPortal, ChatKitClient]) -> None:
    """Hypothesis over request bodies: every answer is below 500."""
    portal, client = fuzz_client

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODIES)
    def check(body: bytes) -> None:
        response = portal.call(client.post, body)
        assert response.status_code < 500, (body, response.text)

    check()
