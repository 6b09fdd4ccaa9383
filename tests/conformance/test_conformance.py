"""The official MCP conformance suite against both tool servers over streamable HTTP, at the
modern stateless revision and at the latest `initialize` revision.

Each server runs as its console script on a free port with its own SQLite files, behind a loopback
proxy that adds a bearer token for a test user (the suite sends none). All four suite runs
(2 servers x 2 revisions) go at once. A failed check fails its run's test unless
`expected_failures.json` lists it (scenarios that need the suite's `test_*` fixtures, which a
production server should not ship, and one optional capability we do not offer, each saying why);
an entry listed there whose check passes now fails the test too (stale). The suite's extension
scenarios (tasks, skills) do not run: our servers implement neither extension."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from mcp_servers.common.identity import TokenCodec
from tests.conformance import suite
from tests.conformance.auth_proxy import bearer_proxy
from tests.conftest import SECRET
from tests.e2e.conftest import wait_until_ok

pytestmark = [pytest.mark.e2e, pytest.mark.conformance, pytest.mark.timeout(600)]

SERVERS = ("tasks-mcp", "items-mcp")
REVISIONS = ("2026-07-28", "2025-11-25")  # the stateless wire; the last `initialize` one
BIN = Path(sys.prefix) / "bin"
EXPECTED = suite.HERE / "expected_failures.json"
STARTUP_SECONDS = 30.0
SUITE_SECONDS = 240.0  # for all the runs together


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _launch(script: str, directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`script --transport http --port N` on a free port, on its own SQLite files in `directory`."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "MCP_AUTH_SECRET": SECRET,
        "MCP_AUTH_SECRET_FILE": str(directory / "mcp_auth_secret"),
        "TASKS_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'tasks.db'}",
        "ITEMS_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'items.db'}",
    }
    with (directory / f"{script}.log").open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / script), "--transport", "http", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, port


def _wait_ready(script: str, process: subprocess.Popen[bytes], port: int, directory: Path) -> None:
    """Until `GET /healthz` answers 200, within STARTUP_SECONDS."""
    log = directory / f"{script}.log"
    wait_until_ok(process, f"http://127.0.0.1:{port}/healthz", STARTUP_SECONDS, script, log.read_text)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, suite.Run]]:
    """Every suite run, by `server@revision`: both servers behind token proxies, all runs at once.
    Skipped, with npm's error, when the suite cannot be installed."""
    try:
        suite.install()
    except suite.InstallError as exc:
        pytest.skip(f"cannot install the MCP conformance suite: {exc}")
    directory = tmp_path_factory.mktemp("conformance")
    token = TokenCodec(SECRET).mint("conformance-suite", ttl_seconds=3600)
    with ExitStack() as stack:
        servers = {script: _launch(script, directory) for script in SERVERS}  # both start at once
        for process, _ in servers.values():
            stack.callback(_stop, process)
        urls: dict[str, str] = {}
        for script, (process, port) in servers.items():
            _wait_ready(script, process, port, directory)
            urls[script] = stack.enter_context(bearer_proxy(port, token)) + "/mcp"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(directory), "NO_COLOR": "1"}
        started: dict[tuple[str, str, Path], subprocess.Popen[bytes]] = {}
        for script in SERVERS:
            for revision in REVISIONS:
                out = directory / f"{script}-{revision}"
                command = suite.server_command(urls[script], revision, out)
                process = subprocess.Popen(
                    command,
                    cwd=directory,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
                stack.callback(_stop, process)
                started[(script, revision, out)] = process
        results: dict[str, suite.Run] = {}
        deadline = time.monotonic() + SUITE_SECONDS
        for (script, revision, out), process in started.items():
            try:
                printed, _ = process.communicate(timeout=max(deadline - time.monotonic(), 1.0))
            except subprocess.TimeoutExpired:
                process.kill()
                printed, _ = process.communicate()
            run = suite.read_run(script, revision, out, suite.clean_output(printed.decode(errors="replace")))
            results[run.label] = run
        yield results


@pytest.fixture(scope="module")
def expected() -> list[suite.Expected]:
    """The baseline: what the suite may fail, and why."""
    return suite.load_expected(EXPECTED)


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("server", SERVERS)
def test_server_conforms(
    server: str, revision: str, runs: dict[str, suite.Run], expected: list[suite.Expected]
) -> None:
    """Every check the suite runs passes, but those a baseline expects to fail; none of those passes."""
    run = runs[f"{server}@{revision}"]
    assert run.scenarios, f"the suite ran no scenario:\n{run.output[-4000:]}"
    verdict = suite.judge(run, expected)
    print(suite.summary(run))
    print("\n".join(["expected failures:", *verdict.excused, "warnings (SHOULD):", *verdict.warnings]))
    problems = [*verdict.unexpected, *verdict.stale]
    if problems:
        pytest.fail("\n".join(["conformance failures not in a baseline, or stale entries:", *problems]))


def test_every_baseline_entry_names_a_scenario_that_runs(
    runs: dict[str, suite.Run], expected: list[suite.Expected]
) -> None:
    """No entry is about a scenario or check (or a server, a revision) that none of the runs has: a
    typo, or a scenario the suite dropped, would otherwise excuse nothing, silently."""
    orphans = [
        f"{entry.source}: {entry.key}"
        for entry in expected
        if not any(entry.names_a_check_of(run) for run in runs.values())
    ]
    if orphans:
        pytest.fail("baseline entries that match no run:\n" + "\n".join(orphans))
