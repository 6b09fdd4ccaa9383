"""`GET /metrics` of real processes: `chatkit-backend --workers 2` sums every worker's counts
whichever worker answers the scrape (a killed worker's counts included), and a tool server over
HTTP counts and times the calls it serves."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcp_servers.common.identity import TokenCodec
from tests.backend.conftest import user_input, user_token
from tests.e2e.conftest import (
    BackendProcess,
    HttpConnector,
    Launcher,
    backend_env,
    run_backend,
    server_env,
)
from tests.e2e.scenarios import as_user, call_error, call_ok
from tests.metrics_samples import Samples, parse, value

pytestmark = pytest.mark.e2e

WORKERS = 2
LISTS, TURNS, INVALID = 12, 4, 4  # 20 requests, each on a connection of its own
METRICS_TOKEN = "scraper-token-0123456789abcdef"


def scrape(url: str, **headers: str) -> Samples:
    """One scrape on a new connection (so any worker may answer it)."""
    with httpx2.Client(timeout=10) as http:
        response = http.get(f"{url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return parse(response.text)


def post(url: str, content: bytes) -> httpx2.Response:
    """One ChatKit request on a new connection (the kernel picks the worker per connection)."""
    headers = {"Authorization": f"Bearer {user_token('metrics-e2e')}", "Content-Type": "application/json"}
    with httpx2.Client(timeout=60) as http:
        return http.post(f"{url}/chatkit", content=content, headers=headers)


def workers_of(backend: BackendProcess) -> list[psutil.Process]:
    """The supervisor's worker processes (its resource tracker is not one)."""
    found = []
    for child in psutil.Process(backend.process.pid).children():
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue  # ended while we looked
        if "spawn_main" in command:
            found.append(child)
    return found


def wait_for(what: str, check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """Two workers, auth on, the offline model, no tool servers (lighter on a small machine)."""
    directory = tmp_path_factory.mktemp("metrics-workers")
    env = backend_env(directory, MCP_CONFIG="")
    with run_backend(directory, env, args=["--workers", str(WORKERS)]) as server:
        wait_for(f"{WORKERS} workers", lambda: len(workers_of(server)) == WORKERS)
        yield server


def test_counts_sum_across_workers_whichever_answers_the_scrape(backend: BackendProcess) -> None:
    workers = workers_of(backend)
    directory = Path(workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
    assert directory.is_dir()
    before = scrape(backend.url)
    for _ in range(LISTS):
        assert (
            post(backend.url, json.dumps({"type": "threads.list", "params": {}}).encode()).status_code == 200
        )
    for index in range(TURNS):
        request = {"type": "threads.create", "params": {"input": user_input(f"turn {index}")}}
        response = post(backend.url, json.dumps(request).encode())
        assert response.status_code == 200 and "thread.created" in response.text
    for _ in range(INVALID):
        assert post(backend.url, b"{not json").status_code == 400
    expected = {
        ("threads.list", "200"): LISTS,
        ("threads.create", "200"): TURNS,
        ("invalid", "400"): INVALID,
    }
    for _ in range(6):  # on new connections: both workers answer some of these
        after = scrape(backend.url)
        for (kind, status), sent in expected.items():
            got = value(after, "chatkit_requests_total", type=kind, status=status)
            assert got - value(before, "chatkit_requests_total", type=kind, status=status) == sent
        turns = value(after, "chatkit_turn_seconds_count", kind="turn")
        assert turns - value(before, "chatkit_turn_seconds_count", kind="turn") == TURNS
        assert value(after, "chatkit_active_streams") == 0
    # Both workers counted requests of their own (a worker's counter file appears with its first count).
    assert {f"counter_{worker.pid}.db" for worker in workers} <= {path.name for path in directory.iterdir()}

    # A worker that dies keeps its counts in the sums; the supervisor starts another.
    victim = workers_of(backend)[0]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(
        "a new worker",
        lambda: (
            victim.pid not in [w.pid for w in workers_of(backend)] and len(workers_of(backend)) == WORKERS
        ),
    )
    backend.wait_ready("/readyz")
    after = scrape(backend.url)
    for (kind, status), sent in expected.items():
        got = value(after, "chatkit_requests_total", type=kind, status=status)
        assert got - value(before, "chatkit_requests_total", type=kind, status=status) == sent


def test_the_supervisor_removes_the_metrics_directory_when_it_stops(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    directory = tmp_path_factory.mktemp("metrics-stop")
    with run_backend(
        directory, backend_env(directory, MCP_CONFIG=""), args=["--workers", str(WORKERS)]
    ) as server:
        wait_for(f"{WORKERS} workers", lambda: len(workers_of(server)) == WORKERS)
        shared = Path(workers_of(server)[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
        assert shared.is_dir()
    assert not shared.exists()


async def test_a_tool_server_over_http_counts_and_times_its_calls(
    launcher: Launcher, mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    server = launcher.http("tasks-mcp", server_env(launcher.directory))
    base = server.url.removesuffix("/mcp")
    before = scrape(base)
    token = codec.mint("metrics-e2e")
    async with mcp_http(server.url, token) as client:
        await call_ok(client, "add_task", {"title": "scrape me"}, as_user(token))
        await call_error(client, "get_task", {"task_id": "task_missing"}, as_user(token))
        await call_error(client, "no_such_tool", {}, as_user(token))  # a name it does not offer
    after = scrape(base)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("mcp_tool_calls_total", server="tasks", tool="add_task", outcome="ok") == 1
    assert grew("mcp_tool_calls_total", server="tasks", tool="get_task", outcome="error") == 1
    assert grew("mcp_tool_calls_total", server="tasks", tool="unknown", outcome="error") == 1
    assert grew("mcp_tool_call_seconds_count", server="tasks", tool="add_task") == 1
    assert not any("no_such_tool" in str(labels) for _, labels in after)


def test_a_tool_server_with_a_metrics_token_wants_it(launcher: Launcher) -> None:
    server = launcher.http("tasks-mcp", server_env(launcher.directory, METRICS_TOKEN=METRICS_TOKEN))
    base = server.url.removesuffix("/mcp")
    with httpx2.Client(timeout=10) as http:
        refused = http.get(f"{base}/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        allowed = http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200
    names = {family.name for family in text_string_to_metric_families(allowed.text)}
    assert {"mcp_tool_calls", "mcp_tool_call_seconds"} <= names
