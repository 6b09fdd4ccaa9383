"""Attachments the way the ChatKit UI handles them: a multipart `file` field POSTed to the upload URL,
image previews read by the browser from `preview_url`; neither carries an Authorization header, so
both URLs are signed for their owner, one attachment and one use."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from backend.attachment_links import AttachmentLinks
from backend.settings import BackendSettings
from tests.backend.conftest import ChatKitClient, user_input

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def links_for(settings: BackendSettings) -> AttachmentLinks:
    """Links signed with the app's own key (what a leaked or forged link would need)."""
    return AttachmentLinks(settings.mcp_auth_secret.get_secret_value(), settings.public_base_url)


async def create(client: ChatKitClient, name: str, mime_type: str, size: int) -> dict:
    return await client.call("attachments.create", name=name, size=size, mime_type=mime_type)


async def test_the_ui_uploads_a_form_and_shows_the_preview_without_a_token(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """Multipart upload and preview through the signed URLs alone; previews are signed afresh on load."""
    image = await create(alice, "cat.png", "image/png", len(PNG))
    uploaded = await http.post(
        image["upload_descriptor"]["url"], files={"file": ("cat.png", PNG, "image/png")}
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["id"] == image["id"] and "upload_descriptor" not in uploaded.json()

    thread_id, _ = await alice.create_thread("hello")
    await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("look", [image["id"]])
    )
    items = (await alice.call("items.list", thread_id=thread_id, order="desc", limit=5))["data"]
    attachment = next(item for item in items if item["type"] == "user_message")["attachments"][0]
    preview = await http.get(attachment["preview_url"])  # no Authorization: what an <img> sends
    assert (preview.status_code, preview.content) == (200, PNG)
    assert preview.headers["content-type"] == "image/png"
    assert (await http.get(f"/chatkit/attachments/{image['id']}")).status_code == 401


async def test_raw_bytes_still_upload_with_the_bearer_token(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """curl-style: the raw body to the upload path, authenticated by the usual header."""
    notes = await create(alice, "notes.txt", "text/plain", 5)
    path = urlsplit(notes["upload_descriptor"]["url"]).path
    assert (await http.post(path, content=b"hello", headers=alice.headers)).status_code == 200
    downloaded = await http.get(f"/chatkit/attachments/{notes['id']}", headers=alice.headers)
    assert downloaded.content == b"hello"


async def test_links_are_bound_to_owner_attachment_use_and_time(
    alice: ChatKitClient, bob: ChatKitClient, http: httpx2.AsyncClient, settings: BackendSettings
) -> None:
    """Forged, expired, other-attachment and wrong-use links get 401; another user's link is a 404."""
    first = await create(alice, "a.txt", "text/plain", 3)
    second = await create(alice, "b.txt", "text/plain", 3)
    links = links_for(settings)
    token_of = lambda url: parse_qs(urlsplit(url).query)["token"][0]  # noqa: E731
    forged = AttachmentLinks("another-secret-that-is-long-enough-0123456789", settings.public_base_url)
    path = f"/chatkit/upload/{first['id']}"
    refused = {
        "forged": forged.upload_url(first["id"], "alice"),
        "expired": links.upload_url(first["id"], "alice", ttl_seconds=-60),
        "other attachment": f"{path}?token={token_of(second['upload_descriptor']['url'])}",
        "download link": f"{path}?token={token_of(links.download_url(first['id'], 'alice'))}",
        "garbage": f"/chatkit/upload/{first['id']}?token=not-a-token",
    }
    for case, url in refused.items():
        response = await http.post(url, files={"file": ("a.txt", b"abc", "text/plain")})
        assert response.status_code == 401, case
        assert response.json()["error"]["code"] == "unauthorized", case
    # Bob's own token beside Alice's link: he gets what he gets for anything of Alice's.
    response = await http.post(
        first["upload_descriptor"]["url"],
        files={"file": ("a.txt", b"abc", "text/plain")},
        headers=bob.headers,
    )
    assert response.status_code == 404
    # Nothing above stored anything: the real link still works once.
    ok = await http.post(first["upload_descriptor"]["url"], files={"file": ("a.txt", b"abc", "text/plain")})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("files", "data", "message"),
    [
        (None, {"name": "x"}, "no 'file' field"),
        ({"other": ("a.txt", b"abc", "text/plain")}, None, "no 'file' field"),
        ({"file": ("a.txt", b"", "text/plain")}, None, "empty"),
    ],
)
async def test_bad_upload_forms_are_400(
    alice: ChatKitClient, http: httpx2.AsyncClient, files: dict | None, data: dict | None, message: str
) -> None:
    """A form without the file, or with an empty one, gets a clear 400."""
    created = await create(alice, "a.txt", "text/plain", 3)
    if files is None:  # a multipart form with fields only
        files = {"name": (None, b"x")}
    response = await http.post(created["upload_descriptor"]["url"], files=files, data=data)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


async def test_broken_and_oversized_forms(
    alice: ChatKitClient, http: httpx2.AsyncClient, settings: BackendSettings
) -> None:
    """A form cut short is a 400; a file over MAX_UPLOAD_BYTES is a 413; neither is stored."""
    created = await create(alice, "a.txt", "text/plain", 3)
    url = created["upload_descriptor"]["url"]
    broken = await http.post(
        url, content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"", headers={
            "Content-Type": "multipart/form-data; boundary=xyz"}
    )  # fmt: skip
    assert broken.status_code == 400, broken.text
    huge = b"x" * (settings.max_upload_bytes + 1)
    too_large = await http.post(url, files={"file": ("a.txt", huge, "text/plain")})
    assert too_large.status_code == 413
    assert (await http.get(f"/chatkit/attachments/{created['id']}", headers=alice.headers)).status_code == 404


async def test_uploaded_html_downloads_and_cannot_run_on_this_origin(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """A signed link works without a token, so Alice could send Bob a link to her own upload: it
    must not run in the backend's origin (where the page keeps its token). Only raster images
    display inline; everything is sandboxed and not sniffed."""
    page = b"<script>fetch('/chatkit', {method: 'POST'})</script>"
    html = await create(alice, "évil page.html", "text/html", len(page))
    await http.post(html["upload_descriptor"]["url"], files={"file": ("x.html", page, "text/html")})
    link = await alice.call("attachments.create", name="p.png", size=len(PNG), mime_type="image/png")
    await http.post(link["upload_descriptor"]["url"], files={"file": ("p.png", PNG, "image/png")})
    served = await http.get(f"/chatkit/attachments/{html['id']}", headers=alice.headers)
    assert served.status_code == 200 and served.content == page
    assert served.headers["content-disposition"] == "attachment; filename*=UTF-8''%C3%A9vil%20page.html"
    assert "sandbox" in served.headers["content-security-policy"]
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert served.headers["x-content-type-options"] == "nosniff"
    image = await http.get(f"/chatkit/attachments/{link['id']}", headers=alice.headers)
    assert image.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in image.headers["content-security-policy"]


async def test_an_upload_link_takes_one_upload(alice: ChatKitClient, http: httpx2.AsyncClient) -> None:
    """A second POST to the same signed upload URL (within its lifetime, before the attachment is in a
    message) is a 409 `already_uploaded`, and the first bytes stay."""
    notes = await create(alice, "notes.txt", "text/plain", 5)
    url = notes["upload_descriptor"]["url"]
    first = await http.post(url, files={"file": ("notes.txt", b"first", "text/plain")})
    assert first.status_code == 200, first.text
    for attempt in ({"files": {"file": ("notes.txt", b"again", "text/plain")}}, {"content": b"again"}):
        again = await http.post(url, **attempt)
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "already_uploaded"
    downloaded = await http.get(f"/chatkit/attachments/{notes['id']}", headers=alice.headers)
    assert downloaded.content == b"first"
