"""The scripted model server, served on a free 127.0.0.1 port for one test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.providers.fake_llm import FakeLLM, serve


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    """A fresh fake model: push replies, read `requests`; `base_url` ends in `/v1`."""
    fake = FakeLLM()
    async with serve(fake.app) as url:
        fake.base_url = f"{url}/v1"
        yield fake
    assert not fake.script, f"scripted replies were never requested: {list(fake.script)}"
