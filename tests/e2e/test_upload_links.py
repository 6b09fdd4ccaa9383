"""Signed upload links on the real `chatkit-backend`: one link, one upload."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import user_token
from tests.e2e.conftest import backend_env, free_port, run_backend

pytestmark = pytest.mark.e2e


def test_a_second_upload_to_the_same_link_is_a_409(tmp_path: Path) -> None:
    """After a successful upload, the same signed URL answers 409 `already_uploaded` and the stored
    bytes stay the first ones."""
    headers = {"Authorization": f"Bearer {user_token('alice')}"}
    port = free_port()
    env = backend_env(tmp_path, MCP_CONFIG="", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    with (
        run_backend(tmp_path, env, ready="/healthz", port=port) as backend,
        httpx2.Client(base_url=backend.url, timeout=10.0) as http,
    ):
        created = http.post(
            "/chatkit",
            headers=headers,
            json={
                "type": "attachments.create",
                "params": {"name": "notes.txt", "size": 5, "mime_type": "text/plain"},
            },
        )
        assert created.status_code == 200, created.text
        attachment = created.json()
        url = attachment["upload_descriptor"]["url"]
        first = http.post(url, files={"file": ("notes.txt", b"first", "text/plain")})
        assert first.status_code == 200, first.text
        again = http.post(url, files={"file": ("notes.txt", b"other", "text/plain")})
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "already_uploaded"
        stored = http.get(f"/chatkit/attachments/{attachment['id']}", headers=headers)
        assert (stored.status_code, stored.content) == (200, b"first")
