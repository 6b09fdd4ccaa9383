"""The deployment in real containers: the project's image built from the Dockerfile, compose.yaml
started with every service on the host's network (compose.host-network.yaml: all traffic on
127.0.0.1, the host's Postgres), then a chat through the proxy: tool turns reach the MCP
containers, the widgets arrive, both backend replicas serve, every process stops with status 0,
and `docker compose down` and `up` keep the data.

Skips, saying why, only where no Docker engine can run (see docker_runtime.py)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER
from tests.backend.tool_app import User, task_id_of
from tests.conftest import fresh_postgres_database
from tests.deploy import docker_runtime
from tests.deploy.conftest import REPORT
from tests.deploy.docker_runtime import Engine, Unavailable, run
from tests.deploy.tools import DOCKER_COMPOSE

pytestmark = [pytest.mark.container, pytest.mark.postgres, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
OVERRIDE = Path(__file__).with_name("compose.host-network.yaml")
IMAGE = "chatkit-backend:container-test"
OUR_SERVICES = ["tasks", "items", "backend", "backend-2"]


def free_port() -> int:
    """A port free on both 127.0.0.1 and 127.0.0.2 (the two backend replicas bind one each)."""
    while True:
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.2", port))
            except OSError:
                continue
            return port


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(tmp_path_factory.mktemp("dockerd") / "dockerd.log")
    try:
        engine.start()
    except Unavailable as exc:
        pytest.skip(f"containers cannot run here: {exc}")
    try:
        yield engine
    finally:
        engine.stop()


class Topology:
    """`docker compose` on compose.yaml plus the host-network override, as one project."""

    def __init__(self, env_file: Path) -> None:
        self.project = f"chatkit-test-{uuid.uuid4().hex[:8]}"
        self.env_file = env_file

    def __call__(self, *args: str, timeout: float = 300) -> str:
        command = [str(DOCKER_COMPOSE), "--project-directory", str(ROOT), "--env-file", str(self.env_file)]
        command += ["-p", self.project, "-f", str(ROOT / "compose.yaml"), "-f", str(OVERRIDE), *args]
        return run(*command, timeout=timeout, cwd=ROOT).stdout

    def up(self) -> float:
        started = time.monotonic()
        try:
            self("up", "--detach", "--no-build", "--wait", "--wait-timeout", "180", timeout=240)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{self('logs', '--no-color', timeout=60)[-6000:]}") from None
        return time.monotonic() - started

    def exit_codes(self) -> dict[str, int]:
        states = [json.loads(line) for line in self("ps", "--all", "--format", "json").splitlines() if line]
        return {state["Service"]: int(state["ExitCode"]) for state in states}


async def test_the_system_runs_in_containers_behind_one_address(engine: Engine, tmp_path: Path) -> None:
    began = time.monotonic()
    base, base_seconds = docker_runtime.ensure_base_image()
    started = time.monotonic()
    run(
        "docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", IMAGE, str(ROOT),
        timeout=900, env={**os.environ, "DOCKER_BUILDKIT": "0"},  # the classic builder: no buildx here
    )  # fmt: skip
    build_seconds = time.monotonic() - started
    size = int(run("docker", "image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    inside = run(
        "docker", "run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
        "id -u; command -v gcc cc make || true; ls -A /root/.cache /app/.cache 2>/dev/null || true; "
        "du -sm /opt/venv | cut -f1",
    ).stdout.split()  # fmt: skip
    assert inside[0] == "10001" and len(inside) == 2, inside  # non-root; no compiler, no caches
    venv_mb = int(inside[1])

    async with (
        fresh_postgres_database() as chat_url,
        fresh_postgres_database() as tasks_url,
        fresh_postgres_database() as items_url,
    ):
        ports = {name: free_port() for name in ("tasks", "items", "backend", "proxy")}
        mcp_config = tmp_path / "mcp_servers.json"
        mcp_config.write_text(
            json.dumps(
                {
                    "mcpServers": {
                        name: {"url": f"http://{name}:{ports[name]}/mcp", "timeout_seconds": 20}
                        for name in ("tasks", "items")
                    }
                }
            )
        )
        env_file = tmp_path / "test.env"
        settings = {
            "POSTGRES_PASSWORD": "unused-the-host-postgres-trusts-loopback",
            "MCP_AUTH_SECRET": "mcp-secret-of-the-container-test-0123456789",
            "AUTH_JWT_SECRET": AUTH_SECRET,
            "AUTH_AUDIENCE": AUDIENCE,
            "AUTH_ISSUER": ISSUER,
            "CHATKIT_IMAGE": IMAGE,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['proxy']}",
            "TEST_BASE_IMAGE": base,
            "TEST_CHAT_DATABASE_URL": chat_url,
            "TEST_TASKS_DATABASE_URL": tasks_url,
            "TEST_ITEMS_DATABASE_URL": items_url,
            "TEST_MCP_CONFIG": str(mcp_config),
            **{f"TEST_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
        env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        topology = Topology(env_file)
        proxy = f"http://127.0.0.1:{ports['proxy']}"
        try:
            up_seconds = topology.up()
            async with httpx2.AsyncClient(base_url=proxy, timeout=60) as http:
                user = User(http, "erin")
                thread_id, card = await user.widget(
                    "add task buy milk"
                )  # through the proxy to an MCP container
                task_id = task_id_of(card)
                _, listing = await user.widget("list tasks", thread_id)
                assert task_id in json.dumps(listing.widget.model_dump())
                for index in range(4):
                    await user.say(f"add task call the plumber {index}", thread_id)
                assert (await http.get("/readyz")).json() == {
                    "status": "ok", "database": "ok", "mcp": {"tasks": "ok", "items": "ok"}
                }  # fmt: skip
            served = set(re.findall(r'"upstream":\s*"([^"]+)"', topology("logs", "--no-color", "proxy")))
            assert {address.split(":")[0] for address in served} == {"127.0.0.1", "127.0.0.2"}, served

            stopping = time.monotonic()
            topology("stop", timeout=120)
            stop_seconds = time.monotonic() - stopping
            codes = topology.exit_codes()
            assert all(codes[name] == 0 for name in OUR_SERVICES), codes
            topology("down", timeout=120)
            restart_seconds = topology.up()
            async with httpx2.AsyncClient(base_url=proxy, timeout=60) as http:
                user = User(http, "erin")
                _, listing = await user.widget("list tasks")
                kept = json.dumps(listing.widget.model_dump())
                assert task_id in kept and all(f"call the plumber {index}" in kept for index in range(4))
                threads = await user.client.call("threads.list", limit=20, order="desc")
                assert thread_id in [thread["id"] for thread in threads["data"]]
        finally:
            topology("down", "--volumes", "--remove-orphans", timeout=180)

    REPORT.extend(
        [
            f"wall time {time.monotonic() - began:.0f} s: base image {base_seconds:.0f} s"
            f" ({'made with debootstrap' if base_seconds else 'kept from an earlier run'}),"
            f" image build {build_seconds:.0f} s, compose up {up_seconds:.0f} s, stop {stop_seconds:.1f} s,"
            f" up again {restart_seconds:.0f} s",
            f"image {IMAGE}: {size / 1e6:.0f} MB on the test base {base}"
            f" ({int(run('docker', 'image', 'inspect', '--format', '{{.Size}}', base).stdout) / 1e6:.0f} MB),"
            f" of which the virtual environment {venv_mb} MB",
        ]
    )
