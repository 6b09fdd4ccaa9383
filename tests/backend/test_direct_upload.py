"""`POST /chatkit/upload`, ChatKit's `direct` upload strategy: one multipart form in, the caller's
new attachment out, with the limits, ownership, signed previews and auth of the two-phase upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.app import create_app
from backend.attachment_links import AttachmentLinks
from backend.settings import BackendSettings
from backend.store.models import ATTACHMENTS, FILES
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
LIMIT = 4096
UPLOAD = "/chatkit/upload"


@pytest.fixture
def settings(sqlite_url: str) -> BackendSettings:
    """Auth on, as in conftest, with a small upload limit."""
    return BackendSettings(
        DATABASE_URL=sqlite_url,
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MAX_UPLOAD_BYTES=LIMIT,
    )


async def direct(client: ChatKitClient, name: str, content: bytes, mime_type: str) -> httpx2.Response:
    """The form the ChatKit UI POSTs to its `uploadUrl`."""
    return await client.http.post(UPLOAD, files={"file": (name, content, mime_type)}, headers=client.headers)


async def stored(app: FastAPI) -> tuple[int, int]:
    """How many attachment rows and file rows the store holds."""
    async with app.state.store.engine.connect() as connection:
        attachments = (await connection.execute(select(func.count()).select_from(ATTACHMENTS))).scalar()
        files = (await connection.execute(select(func.count()).select_from(FILES))).scalar()
    return attachments, files


def form(disposition: str, content: bytes = b"abc", part_type: str | None = "text/plain") -> dict[str, Any]:
    """A hand-made one-part multipart body (for what httpx2 will not send, such as `filename=""`)."""
    headers = f"Content-Disposition: form-data; {disposition}\r\n"
    headers += f"Content-Type: {part_type}\r\n" if part_type else ""
    body = f"--xyz\r\n{headers}\r\n".encode() + content + b"\r\n--xyz--\r\n"
    return {"content": body, "headers": {"Content-Type": "multipart/form-data; boundary=xyz"}}


async def test_direct_upload_round_trip(
    alice: ChatKitClient, http: httpx2.AsyncClient, settings: BackendSettings
) -> None:
    """The answer is the Attachment JSON `attachments.create` gives, already uploaded (no upload
    descriptor) with a preview signed for the caller; a message uses it; its bytes download."""
    response = await direct(alice, "cat.png", PNG, "image/png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    image = response.json()
    assert image["id"].startswith("atc_")
    assert (image["type"], image["name"], image["mime_type"]) == ("image", "cat.png", "image/png")
    two_phase = await alice.call("attachments.create", name="cat.png", size=len(PNG), mime_type="image/png")
    assert set(image) == set(two_phase) - {"upload_descriptor"}  # the same shape, minus the upload step
    preview = urlsplit(image["preview_url"])
    assert preview.path == f"/chatkit/attachments/{image['id']}"
    links = AttachmentLinks(settings.mcp_auth_secret.get_secret_value(), settings.public_base_url)
    assert links.verify(parse_qs(preview.query)["token"][0], image["id"], "download") == "alice"

    thread_id, _ = await alice.create_thread("hello")
    await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("look", [image["id"]])
    )
    items = (await alice.call("items.list", thread_id=thread_id, order="desc", limit=5))["data"]
    message = next(item for item in items if item["type"] == "user_message")
    assert [attachment["id"] for attachment in message["attachments"]] == [image["id"]]
    shown = await http.get(message["attachments"][0]["preview_url"])  # what an <img> sends: no header
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, PNG, "image/png")

    notes = (await direct(alice, "notes.txt", b"hello notes", "text/plain")).json()
    assert notes["type"] == "file" and "preview_url" not in notes and "upload_descriptor" not in notes
    downloaded = await http.get(f"/chatkit/attachments/{notes['id']}", headers=alice.headers)
    assert (downloaded.status_code, downloaded.content) == (200, b"hello notes")
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert await alice.call("attachments.delete", attachment_id=notes["id"]) == {}
    assert (await http.get(f"/chatkit/attachments/{notes['id']}", headers=alice.headers)).status_code == 404


async def test_a_part_without_a_type_is_typed_by_its_name(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    request = form('name="file"; filename="notes.md"', b"# hi", part_type=None)
    response = await http.post(UPLOAD, content=request["content"], headers=alice.headers | request["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["mime_type"] == "text/markdown"


async def test_another_user_cannot_see_or_use_it(
    alice: ChatKitClient, bob: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """The attachment is the uploader's: for anyone else it does not exist (404)."""
    image = (await direct(alice, "cat.png", PNG, "image/png")).json()
    assert (await http.get(f"/chatkit/attachments/{image['id']}", headers=bob.headers)).status_code == 404
    # Alice's signed preview with Bob's own token: as if it did not exist either.
    assert (await http.get(image["preview_url"], headers=bob.headers)).status_code == 404
    thread_id, _ = await bob.create_thread("mine")
    used = await bob.post(
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("x", [image["id"]])},
        }
    )
    assert used.status_code == 404
    deleted = await bob.post({"type": "attachments.delete", "params": {"attachment_id": image["id"]}})
    assert deleted.status_code == 404
    assert (await http.get(f"/chatkit/attachments/{image['id']}", headers=alice.headers)).content == PNG


async def test_the_size_limit(alice: ChatKitClient, app: FastAPI) -> None:
    """MAX_UPLOAD_BYTES exactly is accepted; one byte more is a 413 JSON error and stores nothing."""
    assert (await direct(alice, "full.txt", b"x" * LIMIT, "text/plain")).status_code == 200
    before = await stored(app)
    too_large = await direct(alice, "big.txt", b"x" * (LIMIT + 1), "text/plain")
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "too_large"
    assert await stored(app) == before


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({"content": b"raw", "headers": {"Content-Type": "application/octet-stream"}}, "multipart/form-data"),
        ({"json": {"name": "a.txt"}}, "multipart/form-data"),
        ({"content": b"abc"}, "multipart/form-data"),
        ({"files": {"other": ("a.txt", b"abc", "text/plain")}}, "no 'file' field"),
        ({"files": {"name": (None, b"x")}}, "no 'file' field"),
        ({"data": {"file": "abc"}, "files": {"x": ("x.txt", b"x", "text/plain")}}, "not a file"),
        ({"files": {"file": ("", b"abc", "text/plain")}}, "not a file"),  # httpx2 drops an empty name
        (form('name="file"; filename=""'), "no name"),
        (form('name="file"; filename="   "'), "no name"),
        ({"files": {"file": ("a.txt", b"", "text/plain")}}, "empty"),
        (form('name="file"; filename="cat.png"', b"not a png", "image/png"), "PNG image"),
        ({"content": b"--xyz\r\nContent-Disposition: form-data; name=\"file\"",
          "headers": {"Content-Type": "multipart/form-data; boundary=xyz"}}, "no 'file' field"),
        ({"content": b"abc", "headers": {"Content-Type": "multipart/form-data"}}, "not a valid form"),
        ({"files": [("file", ("a.txt", b"a", "text/plain")), ("file", ("b.txt", b"b", "text/plain"))]},
         "not a valid form"),
    ],
    ids=[
        "raw-body", "json", "no-content-type", "other-field", "fields-only", "file-as-value",
        "httpx-empty-filename", "empty-filename", "blank-filename", "empty-file", "not-what-it-says",
        "cut-short", "no-boundary", "two-files",
    ],
)  # fmt: skip
async def test_bad_input_is_a_clear_400(
    alice: ChatKitClient, http: httpx2.AsyncClient, app: FastAPI, request_args: dict[str, Any], message: str
) -> None:
    """Anything but one named, non-empty file in a multipart form: 400 with what is wrong, nothing stored."""
    headers = alice.headers | request_args.pop("headers", {})
    response = await http.post(UPLOAD, headers=headers, **request_args)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_upload" and message in error["message"], error
    assert await stored(app) == (0, 0)


async def test_auth(
    alice: ChatKitClient, http: httpx2.AsyncClient, settings: BackendSettings, app: FastAPI
) -> None:
    """With auth on, the bearer token is required (a signed attachment link is not a login)."""
    files = {"file": ("a.txt", b"abc", "text/plain")}
    links = AttachmentLinks(settings.mcp_auth_secret.get_secret_value(), settings.public_base_url)
    link_token = parse_qs(urlsplit(links.upload_url("atc_x", "alice")).query)["token"][0]
    refused = {
        "no token": {},
        "bad token": {"Authorization": "Bearer not-a-jwt"},
        "expired": {"Authorization": f"Bearer {user_token('alice', exp=1)}"},
        "link token": {"Authorization": f"Bearer {link_token}"},
    }
    for case, headers in refused.items():
        response = await http.post(UPLOAD, files=files, headers=headers)
        assert response.status_code == 401, case
        assert response.json()["error"]["code"] == "unauthorized", case
        assert response.headers["www-authenticate"] == "Bearer", case
    assert (await http.post(f"{UPLOAD}?token={link_token}", files=files)).status_code == 401
    assert await stored(app) == (0, 0)
    assert (await direct(alice, "a.txt", b"abc", "text/plain")).status_code == 200


@asynccontextmanager
async def local_client(settings: BackendSettings) -> AsyncIterator[tuple[httpx2.AsyncClient, FastAPI]]:
    """A client of an app of its own on `settings` (its lifespan entered), and the app."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            yield http, application


async def test_local_mode_needs_no_token(sqlite_url: str) -> None:
    """Without end-user auth the upload belongs to the local user, like everything else."""
    async with local_client(BackendSettings(DATABASE_URL=sqlite_url)) as (http, _):
        response = await http.post(UPLOAD, files={"file": ("cat.png", PNG, "image/png")})
        assert response.status_code == 200, response.text
        image = response.json()
        assert (await http.get(f"/chatkit/attachments/{image['id']}")).content == PNG
        assert (await http.get(image["preview_url"])).content == PNG


async def test_the_upload_type_allowlist_applies(sqlite_url: str) -> None:
    """UPLOAD_ALLOWED_TYPES refuses a direct upload as it refuses `attachments.create`: 415, the
    same JSON, nothing stored."""
    settings = BackendSettings(DATABASE_URL=sqlite_url, UPLOAD_ALLOWED_TYPES="text/plain,image/png")
    async with local_client(settings) as (http, application):
        local = ChatKitClient(http, None)
        pdf = {"name": "x.pdf", "size": 8, "mime_type": "application/pdf"}
        created = await local.post({"type": "attachments.create", "params": pdf})
        uploaded = await direct(local, "x.pdf", b"%PDF-1.7", "application/pdf")
        assert (created.status_code, uploaded.status_code) == (415, 415)
        assert uploaded.json()["error"]["code"] == "unsupported_type"
        assert created.json() == uploaded.json()
        assert await stored(application) == (0, 0)
        assert (await direct(local, "x.txt", b"abc", "text/plain")).status_code == 200
