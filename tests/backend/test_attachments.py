"""What the model gets of attached files (images, text, PDFs, within budgets, the caller's own
only), which types may be attached, and uploads whose bytes contradict their declared type."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    InferenceOptions,
    UserMessageItem,
    UserMessageTextContent,
)
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.agent import attachments
from backend.agent.attachments import (
    NO_PDF_TEXT,
    NOT_STORED,
    AttachmentBudget,
    AttachmentContent,
    PdfText,
    public_base_url,
    read_pdf,
)
from backend.agent.history import HistoryConverter
from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.db import create_engine
from backend.file_types import DEFAULT_UPLOAD_TYPES, UploadTypes, contradiction, kind_of
from backend.settings import BackendSettings
from backend.store import SqlStore
from backend.store.models import ATTACHMENTS, FILES
from tests.backend.attachment_files import encrypted, pdf, png
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_token

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")
NOTE = "[The user attached a file: {} ({})]"


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    engine = create_engine(sqlite_url)
    sql_store = SqlStore(engine, links=AttachmentLinks("t" * 40, "http://127.0.0.1:8000"))
    await sql_store.prepare()
    yield sql_store
    await engine.dispose()


async def upload(
    store: SqlStore, name: str, mime_type: str, content: bytes, context: RequestContext = ALICE
) -> Attachment:
    """An attachment of `context`'s, uploaded."""
    created = await store.create_attachment(
        AttachmentCreateParams(name=name, size=len(content), mime_type=mime_type), context
    )
    await store.save_attachment(created, context)
    return await store.save_upload(created.id, content, context)


def message(item_id: str, *files: Attachment, text: str = "look") -> UserMessageItem:
    return UserMessageItem(
        id=item_id,
        thread_id="thr_1",
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=text)],
        attachments=list(files),
        inference_options=InferenceOptions(),
    )


def texts(parts: list[Any]) -> list[str]:
    return [part["text"] for part in parts if part["type"] == "input_text"]


# -- kinds, the allowlist, contradictions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("mime_type", "name", "kind"),
    [
        ("image/png", "a.png", "image"),
        ("image/JPG", "a.jpg", "image"),
        ("image/webp", "a.webp", "image"),
        ("image/svg+xml", "a.svg", "text"),
        ("image/bmp", "a.bmp", "other"),
        ("application/pdf", "a.pdf", "pdf"),
        ("text/markdown", "a.md", "text"),
        ("text/csv; charset=utf-8", "a.csv", "text"),
        ("application/json", "a.json", "text"),
        ("application/vnd.api+json", "a", "text"),
        ("application/x-yaml", "a.yaml", "text"),
        ("application/octet-stream", "main.py", "text"),
        ("application/octet-stream", "Dockerfile", "text"),
        ("application/octet-stream", ".gitignore", "text"),
        ("application/octet-stream", "a.bin", "other"),
        ("application/zip", "a.zip", "other"),
    ],
)
def test_what_kind_a_file_is(mime_type: str, name: str, kind: str) -> None:
    assert kind_of(mime_type, name) == kind


def test_the_allowlist_matches_types_and_patterns() -> None:
    default = UploadTypes(DEFAULT_UPLOAD_TYPES)
    for mime_type, name in [
        ("image/png", "a.png"),
        ("image/jpg", "a.jpg"),
        ("text/markdown", "a.md"),
        ("TEXT/CSV; charset=utf-8", "a.csv"),
        ("application/json", "a.json"),
        ("application/pdf", "a.pdf"),
        ("application/x-python", "a.py"),
        ("application/octet-stream", "a.ts"),  # browsers often have no type for source code
    ]:
        assert default.allows(mime_type, name), mime_type
    for mime_type, name in [
        ("application/zip", "a.zip"),
        ("application/x-msdownload", "a.exe"),
        ("application/octet-stream", "a.bin"),
        ("image/svg+xml", "a.svg"),  # scriptable: not by default
        ("video/mp4", "a.mp4"),
    ]:
        assert not default.allows(mime_type, name), mime_type
    refusal = default.refusal("application/zip", "a.zip")
    assert refusal is not None
    assert refusal.startswith("Files of type 'application/zip' cannot be attached. Allowed types: ")
    assert "image/png" in refusal and "text/*" in refusal and "application/pdf" in refusal
    images = UploadTypes(["image/*"])
    assert images.allows("image/heic", "a.heic") and not images.allows("text/plain", "a.txt")
    assert not images.allows("application/octet-stream", "a.txt")  # text is not allowed there


def test_uploaded_bytes_must_not_contradict_the_declared_type() -> None:
    assert contradiction("image/png", "a.png", png()) is None
    assert (
        contradiction("image/jpeg", "a.png", png()) == "The file is not JPEG image: its content is PNG image."
    )
    assert contradiction("application/pdf", "a.pdf", pdf("x")) is None
    assert "not a PDF" in (contradiction("application/pdf", "a.pdf", b"just text") or "")
    assert contradiction("text/plain", "a.txt", "héllo".encode()) is None
    assert "declared as text" in (contradiction("text/plain", "a.txt", png()) or "")
    assert "ZIP" in (contradiction("application/octet-stream", "a.py", b"PK\x03\x04rest") or "")
    assert contradiction("application/zip", "a.zip", b"anything") is None  # not checked


def test_which_base_urls_a_provider_can_fetch_from() -> None:
    for url in ["https://chat.acme.com", "http://93.184.215.14:8000/x", "https://[2606:4700::1111]/"]:
        assert public_base_url(url), url
    for url in [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
        "http://10.0.0.5",
        "http://192.168.1.2:8000",
        "http://169.254.1.1",
        "http://backend:8000",  # a compose service name
        "http://chat.internal",
        "http://app.localhost",
        "",
    ]:
        assert not public_base_url(url), url


# -- what the model reads ---------------------------------------------------------------------------


async def test_each_kind_becomes_its_content(store: SqlStore) -> None:
    """A PNG is an image part (a data URL of the stored bytes) after its note; markdown, CSV and a
    PDF are their text after the note; other files, and PDFs without text, are notes."""
    image = await upload(store, "cat.png", "image/png", png())
    markdown = await upload(store, "plan.md", "text/markdown", b"# Plan\n\n- ship **it**\n")
    table = await upload(store, "t.csv", "text/csv", b"name,qty\nmilk,2\n\xff\n")
    document = await upload(store, "r.pdf", "application/pdf", pdf("Quarterly revenue grew", "Page two"))
    scanned = await upload(store, "scan.pdf", "application/pdf", pdf(""))
    locked = await upload(store, "locked.pdf", "application/pdf", encrypted(pdf("secret")))
    content = AttachmentContent(store, ALICE)
    parts = await content.message_parts([image, markdown, table, document, scanned, locked])
    assert parts[0] == {"type": "input_text", "text": NOTE.format("cat.png", "image/png")}
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    assert parts[1] == {"type": "input_image", "image_url": data_url, "detail": "auto"}
    assert texts(parts[2:]) == [
        NOTE.format("plan.md", "text/markdown") + "\n# Plan\n\n- ship **it**\n",
        NOTE.format("t.csv", "text/csv") + "\nname,qty\nmilk,2\n\ufffd\n",  # invalid UTF-8 replaced
        NOTE.format("r.pdf", "application/pdf") + "\nQuarterly revenue grew\n\nPage two",
        NOTE.format("scan.pdf", "application/pdf") + "\n" + NO_PDF_TEXT,
        NOTE.format("locked.pdf", "application/pdf") + "\n" + NO_PDF_TEXT,
    ]


async def test_text_is_cut_to_the_file_and_message_budgets(store: SqlStore) -> None:
    """Each file gets at most its budget, and together at most the message's, saying what was cut."""
    files = [
        await upload(store, f"{name}.txt", "text/plain", (name * 100).encode()) for name in ("a", "b", "c")
    ]
    pages = await upload(store, "p.pdf", "application/pdf", pdf("x" * 50))
    budget = AttachmentBudget(file_chars=60, message_chars=100, recent_messages=1)
    parts = await AttachmentContent(store, ALICE, budget).message_parts([*files, pages])
    bodies = [text.split("\n", 1)[1] for text in texts(parts)]
    assert bodies == [
        "a" * 60 + "\n[... cut: 40 more characters]",
        "b" * 40 + "\n[... cut: 60 more characters]",
        "[... cut: 100 more characters]",
        "[... cut: not read, the message's attachments used up their budget]",
    ]


async def test_a_long_pdf_is_read_to_the_page_limit(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most PDF_PAGES pages, and pages only while time is left (the first page always)."""
    monkeypatch.setattr(attachments, "PDF_PAGES", 2)
    long = await upload(store, "long.pdf", "application/pdf", pdf("one", "two", "three", "four"))
    [part] = await AttachmentContent(store, ALICE).message_parts([long])
    assert part["text"].endswith("\none\n\ntwo\n[... cut: 2 more pages not read]")
    hurried = read_pdf(pdf("one", "two", "three"), seconds=0)
    assert hurried == PdfText("one", pages_read=1, pages=3)


async def test_only_the_newest_messages_with_files_are_read(store: SqlStore) -> None:
    """The newest `recent_messages` user messages with attachments get their files; older ones (and
    the model input built from them) keep notes; messages without files do not count."""
    old, newer, newest = [await upload(store, f"{n}.txt", "text/plain", n.encode()) for n in ("o", "n", "w")]
    history = [
        message("msg_1", old),
        message("msg_2", newer),
        message("msg_3"),
        message("msg_4", newest),
    ]
    budget = AttachmentBudget(recent_messages=2)
    parts = await AttachmentContent(store, ALICE, budget).for_history(history)
    assert sorted(parts) == ["msg_2", "msg_4"]
    model_input = await HistoryConverter().with_attachments(parts).to_agent_input(history)
    contents = [item["content"] for item in model_input]
    assert contents[0] == [
        {"type": "input_text", "text": "look"},
        {"type": "input_text", "text": NOTE.format("o.txt", "text/plain")},
    ]
    assert contents[1][1]["text"] == NOTE.format("n.txt", "text/plain") + "\nn"
    assert contents[2] == "look"
    assert contents[3][1]["text"] == NOTE.format("w.txt", "text/plain") + "\nw"
    none = await AttachmentContent(store, ALICE, AttachmentBudget(recent_messages=0)).for_history(history)
    assert none == {}


async def test_another_users_file_is_never_read(store: SqlStore) -> None:
    """Bytes are read for the request's owner only: Bob's attachment in Alice's history (were it to
    get there) is a note saying its content is not available."""
    bobs = await upload(store, "bob.txt", "text/plain", b"bob's secret", BOB)
    alices_view = await AttachmentContent(store, ALICE).message_parts([bobs])
    assert texts(alices_view) == [NOTE.format("bob.txt", "text/plain") + "\n" + NOT_STORED]
    assert "secret" not in str(alices_view)
    assert "secret" in str(await AttachmentContent(store, BOB).message_parts([bobs]))


async def test_images_are_signed_links_when_the_base_url_is_public(store: SqlStore) -> None:
    """With a public PUBLIC_BASE_URL the provider fetches the image from a short-lived signed link;
    the link names the owner and works for downloads only."""
    image = await upload(store, "cat.png", "image/png", png())
    links = AttachmentLinks("t" * 40, "https://chat.acme.com")
    parts = await AttachmentContent(store, ALICE, links=links).message_parts([image])
    url = parts[1]["image_url"]
    assert url.startswith(f"https://chat.acme.com/chatkit/attachments/{image.id}?token=")
    assert links.verify(url.split("token=")[1], image.id, "download") == "alice"
    local = AttachmentLinks("t" * 40, "http://127.0.0.1:8000")
    inline = await AttachmentContent(store, ALICE, links=local).message_parts([image])
    assert inline[1]["image_url"].startswith("data:image/png;base64,")


async def test_files_not_uploaded_or_not_readable_are_notes(store: SqlStore) -> None:
    waiting = await store.create_attachment(
        AttachmentCreateParams(name="w.txt", size=3, mime_type="text/plain"), ALICE
    )
    await store.save_attachment(waiting, ALICE)
    other = await upload(store, "x.txt", "text/plain", b"x")
    other = other.model_copy(update={"mime_type": "application/zip", "name": "x.zip"})  # no content read
    parts = await AttachmentContent(store, ALICE).message_parts([waiting, other])
    assert texts(parts) == [
        NOTE.format("w.txt", "text/plain") + "\n" + NOT_STORED,
        NOTE.format("x.zip", "application/zip"),
    ]


# -- over HTTP: the allowlist and uploads -----------------------------------------------------------


@pytest.fixture
def settings(sqlite_url: str) -> BackendSettings:
    """Auth on, and a narrower allowlist than the default, as UPLOAD_ALLOWED_TYPES gives it."""
    return BackendSettings(
        DATABASE_URL=sqlite_url,
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        UPLOAD_ALLOWED_TYPES="image/*, text/markdown,application/pdf",
    )


async def rows(app: FastAPI) -> tuple[int, int]:
    async with app.state.store.engine.connect() as connection:
        attached = (await connection.execute(select(func.count()).select_from(ATTACHMENTS))).scalar_one()
        files = (await connection.execute(select(func.count()).select_from(FILES))).scalar_one()
    return attached, files


def test_the_allowlist_setting() -> None:
    assert BackendSettings(UPLOAD_ALLOWED_TYPES="").upload_allowed_types == list(DEFAULT_UPLOAD_TYPES)
    assert BackendSettings(UPLOAD_ALLOWED_TYPES=" image/png ,text/*").upload_allowed_types == [
        "image/png",
        "text/*",
    ]
    with pytest.raises(ValueError, match="UPLOAD_ALLOWED_TYPES"):
        BackendSettings(UPLOAD_ALLOWED_TYPES="png")


async def test_a_type_not_allowed_is_refused_at_create(alice: ChatKitClient, app: FastAPI) -> None:
    """415 with a JSON error naming the type and the allowed ones; nothing is stored."""
    for name, mime_type in [
        ("a.zip", "application/zip"),
        ("a.csv", "text/csv"),
        ("a.py", "application/octet-stream"),
    ]:
        response = await alice.post(
            {"type": "attachments.create", "params": {"name": name, "size": 3, "mime_type": mime_type}}
        )
        assert response.status_code == 415, response.text
        assert response.json() == {
            "error": {
                "code": "unsupported_type",
                "message": f"Files of type '{mime_type}' cannot be attached. "
                "Allowed types: image/*, text/markdown, application/pdf.",
            }
        }
    assert await rows(app) == (0, 0)
    with pytest.raises(ValueError, match="cannot be attached"):  # the store refuses on its own too
        await app.state.store.create_attachment(
            AttachmentCreateParams(name="a.zip", size=3, mime_type="application/zip"), ALICE
        )
    assert (await alice.call("attachments.create", name="a.md", size=3, mime_type="text/markdown"))[
        "mime_type"
    ] == "text/markdown"


async def test_an_upload_that_contradicts_its_type_is_refused(
    alice: ChatKitClient, http: httpx2.AsyncClient, app: FastAPI
) -> None:
    """A PNG that is not a PNG, a PDF that is not a PDF: 400, nothing stored; the real ones work."""
    for name, mime_type, wrong, right in [
        ("cat.png", "image/png", pdf("x"), png()),
        ("r.pdf", "application/pdf", png(), pdf("x")),
        ("n.md", "text/markdown", b"PK\x03\x04zip", b"# notes"),
    ]:
        created = await alice.call("attachments.create", name=name, size=len(right), mime_type=mime_type)
        url = urlsplit(created["upload_descriptor"]["url"])
        refused = await http.post(f"{url.path}?{url.query}", content=wrong)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid_upload"
        assert (await rows(app))[1] == 0
        accepted = await http.post(f"{url.path}?{url.query}", content=right)
        assert accepted.status_code == 200, accepted.text
        await alice.call("attachments.delete", attachment_id=created["id"])
    assert await rows(app) == (0, 0)


async def test_another_users_attachment_in_a_message_is_404(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """Bob naming Alice's attachment in a message of his own thread: 404, the turn never runs."""
    bob = ChatKitClient(http, user_token("bob"))
    created = await alice.call("attachments.create", name="a.md", size=6, mime_type="text/markdown")
    url = urlsplit(created["upload_descriptor"]["url"])
    assert (await http.post(f"{url.path}?{url.query}", content=b"secret")).status_code == 200
    thread_id, _ = await bob.create_thread("hello")
    payload = {
        "type": "threads.add_user_message",
        "params": {
            "thread_id": thread_id,
            "input": {
                "content": [{"type": "input_text", "text": "read it"}],
                "attachments": [created["id"]],
                "inference_options": {},
            },
        },
    }
    response = await bob.post(payload)
    assert response.status_code == 404
    assert "secret" not in response.text
    items = await bob.call("items.list", thread_id=thread_id)
    assert all(item["type"] != "user_message" or not item["attachments"] for item in items["data"])


async def test_the_settings_reach_the_store_and_the_chat_server(app: FastAPI) -> None:
    """UPLOAD_ALLOWED_TYPES reaches the store, the ATTACHMENT_* budgets the chat server."""
    assert app.state.store.upload_types.patterns == ("image/*", "text/markdown", "application/pdf")
    assert app.state.chat.attachments == AttachmentBudget(20_000, 50_000, 3)
    settings = BackendSettings(
        ATTACHMENT_FILE_CHARS=5, ATTACHMENT_MESSAGE_CHARS=7, ATTACHMENT_RECENT_MESSAGES=1
    )
    assert AttachmentBudget.from_settings(settings) == AttachmentBudget(5, 7, 1)


async def test_a_message_of_files_only_has_no_empty_text_part(store: SqlStore) -> None:
    """Files sent without words: the model input has their parts, not an empty text part first."""
    notes = await upload(store, "n.md", "text/markdown", b"# n")
    history = [message("msg_1", notes, text="")]
    parts = await AttachmentContent(store, ALICE).for_history(history)
    [item] = await HistoryConverter().with_attachments(parts).to_agent_input(history)
    assert item["content"] == [{"type": "input_text", "text": NOTE.format("n.md", "text/markdown") + "\n# n"}]
