"""Model-provider faults against the real `chatkit-backend` process: a 500, a 429 with and without
Retry-After, a stream that breaks mid-way, a first byte slower than LLM_TIMEOUT_SECONDS, a stream
that stalls after its headers. Each turn ends with an error event in words, the failed turn stays
visible after a reload (a note), and the next turn works (`thread_checks`).

tests/providers/test_providers.py covers the same failures in process; these are the process-level
versions, with the consistency check and the time each failure takes to reach the user.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from tests.backend.conftest import ChatKitClient, user_token
from tests.e2e.conftest import BackendProcess, model_env, run_backend
from tests.providers.fake_llm import Broken, Error, FakeLLM, Reply, Slow, Text, running
from tests.reliability.thread_checks import assert_consistent, assert_recovered, say, text_of

pytestmark = pytest.mark.e2e
TIMEOUT_SECONDS = 2.0  # LLM_TIMEOUT_SECONDS of the backend under test
RETRIES = 1  # LLM_MAX_RETRIES: one retry, so a retried fault shows as two requests


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeLLM]:
    """One scripted model for the module (each test empties its script first)."""
    async with running() as model:
        yield model


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM) -> Iterator[BackendProcess]:
    """The backend process, its model at the fake (Chat Completions), no tool servers."""
    directory = tmp_path_factory.mktemp("provider-faults")
    env = model_env(
        directory,
        fake.base_url,
        MCP_CONFIG="",
        LLM_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        LLM_MAX_RETRIES=str(RETRIES),
    )
    with run_backend(directory, env) as process:
        yield process


@pytest.fixture
async def alice(backend: BackendProcess, fake: FakeLLM) -> AsyncIterator[ChatKitClient]:
    fake.script.clear()
    fake.requests.clear()
    async with httpx2.AsyncClient(base_url=backend.url, timeout=30) as http:
        yield ChatKitClient(http, user_token("alice"))


FAULTS: dict[str, tuple[list[Reply], str, str]] = {
    "500": (
        [Error(500), Error(500)],
        "The AI provider had an error (HTTP 500); try again.",
        "(No reply: the AI provider had an error. Try again.)",
    ),
    "429 with Retry-After": (
        [Error(429, headers={"retry-after": "1"}), Error(429, headers={"retry-after": "1"})],
        "The AI provider is overloaded (HTTP 429); try again in a moment.",
        "(No reply: the AI provider was overloaded. Try again.)",
    ),
    "429 without Retry-After": (
        [Error(429), Error(429)],
        "The AI provider is overloaded (HTTP 429); try again in a moment.",
        "(No reply: the AI provider was overloaded. Try again.)",
    ),
    "stream broken mid-way": (
        [Broken("Half ", "an ", "answer")],  # not retried: the answer had started
        "The AI provider's stream broke off; try again.",
        "(No reply: the AI provider's answer broke off. Try again.)",
    ),
    "first byte slower than the timeout": (
        [Slow(TIMEOUT_SECONDS + 1.5, Text("too late")), Slow(TIMEOUT_SECONDS + 1.5, Text("too late"))],
        "The AI provider did not answer in time; try again.",
        "(No reply: the AI provider did not answer in time. Try again.)",
    ),
    "stream stalled after its headers": (
        [Slow(TIMEOUT_SECONDS + 1.5, Text("too late"), headers_first=True)],
        "The AI provider did not answer in time; try again.",
        "(No reply: the AI provider did not answer in time. Try again.)",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_provider_fault_ends_the_turn_in_words_and_the_next_turn_works(
    alice: ChatKitClient, fake: FakeLLM, backend: BackendProcess, fault: str
) -> None:
    replies, message, note = FAULTS[fault]
    fake.push(Text("First ", "answer."))
    first = await say(alice, None, "hello")
    assert first.replies == ["First answer."] and first.thread_id is not None
    earlier = await assert_consistent(alice, first.thread_id)

    scripted = list(replies)
    fake.push(*scripted)
    started = time.monotonic()
    failed = await say(alice, first.thread_id, "and now?")
    took = time.monotonic() - started
    assert failed.status == 200
    assert [(error.code, error.message, error.allow_retry) for error in failed.errors] == [
        ("custom", message, True)
    ]
    assert failed.replies == []
    assert len(fake.requests) == 1 + len(scripted)  # the retries the client made, no more
    assert took < 10, f"{fault}: the user waited {took:.1f} s"
    if fault == "429 with Retry-After":  # the client waited what the provider asked for
        assert fake.requests[2].at - fake.requests[1].at >= 1.0

    reloaded = await assert_consistent(alice, first.thread_id)  # a reload shows the failed turn
    assert [(item["type"], text_of(item)) for item in reloaded[len(earlier) :]] == [
        ("user_message", "and now?"),
        ("assistant_message", note),
    ]
    fake.push(Text("Back ", "again."))
    await assert_recovered(alice, first.thread_id, reloaded, reply="Back again.")
    assert backend.process.poll() is None
