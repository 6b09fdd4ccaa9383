"""Attached files reach the real provider paths as content, over HTTP against the scripted model:
a PNG as an image part (Responses `input_image`, Chat Completions `image_url`) with the uploaded
bytes in a data URL, markdown, CSV and a PDF as their text after the note."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.backend.attachment_files import pdf, png
from tests.backend.conftest import ChatKitClient, user_input, user_token
from tests.providers.conftest import PROVIDERS, Backend
from tests.providers.fake_llm import FakeLLM, Text

pytestmark = pytest.mark.e2e

MARKDOWN = b"# Launch plan\n\n- ship the **beta** on Friday\n"
CSV = b"city,visits\nLisbon,42\nOslo,7\n"
PDF_TEXT = "Quarterly revenue grew by nine percent"


async def attach(alice: ChatKitClient, name: str, mime_type: str, content: bytes) -> str:
    """attachments.create, then the upload (to the URL's path: the server's port is not
    PUBLIC_BASE_URL's); the attachment id."""
    created = await alice.call("attachments.create", name=name, size=len(content), mime_type=mime_type)
    url = urlsplit(created["upload_descriptor"]["url"])
    uploaded = await alice.http.post(
        f"{url.path}?{url.query}", files={"file": (name, content, mime_type)}, headers=alice.headers
    )
    assert uploaded.status_code == 200, uploaded.text
    return str(created["id"])


def last_user_parts(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The texts and image URLs of the last user message of a Responses or Chat Completions body,
    checking each part has the shape its API expects."""
    if "input" in body:
        message = [item for item in body["input"] if item.get("role") == "user"][-1]
        parts = message["content"]
        assert {part["type"] for part in parts} <= {"input_text", "input_image"}
        texts = [part["text"] for part in parts if part["type"] == "input_text"]
        images = [part["image_url"] for part in parts if part["type"] == "input_image"]
        return texts, images
    message = [item for item in body["messages"] if item["role"] == "user"][-1]
    parts = message["content"]
    assert {part["type"] for part in parts} <= {"text", "image_url"}
    texts = [part["text"] for part in parts if part["type"] == "text"]
    images = [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]
    return texts, images


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_attached_files_reach_the_model_as_content(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    fake_llm.push(Text("Seen ", "them."))
    image = png()
    async with backend(provider) as alice:
        ids = [
            await attach(alice, "chart.png", "image/png", image),
            await attach(alice, "plan.md", "text/markdown", MARKDOWN),
            await attach(alice, "visits.csv", "text/csv", CSV),
            await attach(alice, "report.pdf", "application/pdf", pdf(PDF_TEXT)),
        ]
        events = await alice.stream("threads.create", input=user_input("what do these say?", ids))
    assert not [e for e in events if e.type == "error"]
    [request] = fake_llm.requests
    texts, images = last_user_parts(request.body)
    assert images == ["data:image/png;base64," + base64.b64encode(image).decode()]
    assert texts == [
        "what do these say?",
        "[The user attached a file: chart.png (image/png)]",
        "[The user attached a file: plan.md (text/markdown)]\n" + MARKDOWN.decode(),
        "[The user attached a file: visits.csv (text/csv)]\n" + CSV.decode(),
        f"[The user attached a file: report.pdf (application/pdf)]\n{PDF_TEXT}",
    ]
    if "messages" in request.body:  # the note comes right before its image
        parts = [p for m in request.body["messages"] if m["role"] == "user" for p in m["content"]]
        kinds = [p["type"] for p in parts]
        assert kinds[:3] == ["text", "text", "image_url"]


async def test_a_long_file_is_cut_and_older_files_stay_notes(backend: Backend, fake_llm: FakeLLM) -> None:
    """ATTACHMENT_FILE_CHARS cuts a file, saying how much; with ATTACHMENT_RECENT_MESSAGES=1 the
    file of an earlier message is only named on the next turn."""
    fake_llm.push(Text("One."), Text("Two."))
    async with backend("openai-compatible", ATTACHMENT_FILE_CHARS=10, ATTACHMENT_RECENT_MESSAGES=1) as alice:
        first = await attach(alice, "long.txt", "text/plain", b"0123456789abcdefghij")
        events = await alice.stream("threads.create", input=user_input("read", [first]))
        thread_id = next(e.thread.id for e in events if e.type == "thread.created")
        second = await attach(alice, "next.md", "text/markdown", b"# next")
        await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input("and", [second]))
    texts, _ = last_user_parts(fake_llm.requests[0].body)
    assert (
        texts[1]
        == "[The user attached a file: long.txt (text/plain)]\n0123456789\n[... cut: 10 more characters]"
    )
    later = json.dumps(fake_llm.requests[1].body["messages"])
    assert '[The user attached a file: long.txt (text/plain)]"' in later  # the note alone
    assert "0123456789" not in later
    assert "[The user attached a file: next.md (text/markdown)]\\n# next" in later


async def test_another_users_attachment_never_reaches_the_model(backend: Backend, fake_llm: FakeLLM) -> None:
    """Bob names Alice's attachment in a message: 404, and the model is never asked."""
    async with backend("openai") as alice:
        secret = await attach(alice, "diary.md", "text/markdown", b"alice's secret")
        bob = ChatKitClient(alice.http, user_token("bob"))
        response = await bob.post(
            {"type": "threads.create", "params": {"input": user_input("read it", [secret])}}
        )
        assert response.status_code == 404
        assert "secret" not in response.text
        assert (await bob.call("threads.list"))["data"] == []
    assert fake_llm.requests == []
