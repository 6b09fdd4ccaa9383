"""Shared e2e fixtures: console-script processes, free ports, environments and MCP clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

import mcp_servers.items
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER
from tests.conftest import SECRET

BIN = Path(sys.prefix) / "bin"
SHIPPED_MCP_CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
CATALOG = Path(mcp_servers.items.__file__).parent / "data" / "catalog.json"
STARTUP_DEADLINE_SECONDS = 20.0
# The backend imports more and may start both MCP servers and seed a catalog: ~10 s on a busy 2-core box.
BACKEND_STARTUP_SECONDS = 60.0

HttpConnector = Callable[..., AbstractAsyncContextManager[Client]]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(directory: Path, **overrides: str | None) -> dict[str, str]:
    """A minimal environment for a server process: its own databases and secret file in `directory`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(directory)),
        "MCP_AUTH_SECRET": SECRET,
        "MCP_AUTH_SECRET_FILE": str(directory / "mcp_auth_secret"),
        "TASKS_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'tasks.db'}",
        "ITEMS_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'items.db'}",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def backend_env(directory: Path, **overrides: str | None) -> dict[str, str]:
    """A real backend's environment: auth on (the test issuer), SQLite files in `directory`, and
    both tool servers over stdio (the shipped config); `overrides` as for `server_env`."""
    return server_env(
        directory,
        **{
            "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'chat.db'}",
            "AUTH_JWT_SECRET": AUTH_SECRET,
            "AUTH_AUDIENCE": AUDIENCE,
            "AUTH_ISSUER": ISSUER,
            "MCP_CONFIG": str(SHIPPED_MCP_CONFIG),
            **overrides,
        },
    )


def stdio_params(script: str, env: dict[str, str]) -> StdioServerParameters:
    """How the official client spawns `script` over stdio."""
    return StdioServerParameters(command=str(BIN / script), args=["--transport", "stdio"], env=env)


@dataclass
class ServerProcess:
    """A console script serving MCP over HTTP on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        return f"http://127.0.0.1:{self.port}/mcp"

    def stop(self) -> None:
        """Terminate, wait a little, then kill."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def wait_ready(self) -> None:
        """Poll the endpoint until it answers over HTTP (any status), within the deadline."""
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        with httpx2.Client(timeout=1.0) as http:
            while True:
                if self.process.poll() is not None:
                    log = self.log.read_text(errors="replace")
                    raise RuntimeError(f"server exited with {self.process.returncode}:\n{log}")
                try:
                    http.get(self.url)
                    return
                except httpx2.TransportError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{self.url} did not answer in {STARTUP_DEADLINE_SECONDS} s"
                        ) from None
                    time.sleep(0.05)


class Launcher:
    """Starts HTTP server processes and stops every one of them at teardown."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._started: list[ServerProcess] = []

    def http(self, script: str, env: dict[str, str], *, cwd: Path | None = None) -> ServerProcess:
        """Start `script --transport http --port N` (in `cwd`, if given) on a free port and wait until
        it answers."""
        port = free_port()
        log = self.directory / f"{script}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(BIN / script), "--transport", "http", "--port", str(port)],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = ServerProcess(process, port, log)
        self._started.append(server)
        server.wait_ready()
        return server

    def stop_all(self) -> None:
        """Stop every process this launcher started."""
        for server in self._started:
            server.stop()


def wait_until_ok(
    process: subprocess.Popen[bytes], url: str, seconds: float, name: str, logs: Callable[[], str]
) -> None:
    """Poll GET `url` until it answers 200, within `seconds`; a process that exits, or the deadline,
    raises with what it printed."""
    deadline = time.monotonic() + seconds
    with httpx2.Client(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{logs()}")
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready in {seconds} s:\n{logs()}")
            time.sleep(0.05)


def model_env(directory: Path, model_url: str, **overrides: str | None) -> dict[str, str]:
    """`backend_env` with the model at a scripted OpenAI-compatible server (`model_url`, ending in
    `/v1`): the real provider path, no key needed."""
    return backend_env(
        directory,
        **{
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": model_url,
            "LLM_MODEL": "scripted",
            "OPENAI_API_KEY": "sk-test-scripted",
            **overrides,
        },
    )


@dataclass
class BackendProcess:
    """The `chatkit-backend` console script on 127.0.0.1."""

    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def chatkit_url(self) -> str:
        """The ChatKit endpoint."""
        return f"{self.url}/chatkit"

    def logs(self) -> str:
        """What the backend printed so far."""
        return self.log.read_text(errors="replace")

    def wait_ready(self, path: str) -> None:
        """Poll GET `path` until it answers 200, within BACKEND_STARTUP_SECONDS."""
        wait_until_ok(self.process, self.url + path, BACKEND_STARTUP_SECONDS, "chatkit-backend", self.logs)

    def stop(self) -> None:
        """Terminate (the backend stops its MCP children), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def run_backend(
    directory: Path,
    env: dict[str, str],
    *,
    ready: str = "/readyz",
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[BackendProcess]:
    """`chatkit-backend --port N [args]` (cwd `directory`, environment `env`; a free port unless
    given) until `ready` answers 200; stopped on exit."""
    port = port or free_port()
    log = directory / f"backend-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "chatkit-backend"), "--port", str(port), *args],
            env=env,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    backend = BackendProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        backend.wait_ready(ready)
        yield backend
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def packaged_catalog() -> Path:
    """The packaged catalog the items server seeds from."""
    assert json.loads(CATALOG.read_text(encoding="utf-8")), CATALOG
    return CATALOG


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Server processes for one test module, all stopped when the module is done."""
    started = Launcher(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.stop_all()


@asynccontextmanager
async def _connect_http(url: str, token: str | None = None, *, mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30.0) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def mcp_http() -> HttpConnector:
    """Opens the official client over streamable HTTP: `mcp_http(url, token, mode=...)`."""
    return _connect_http
