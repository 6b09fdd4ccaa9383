"""A real `chatkit-backend` (auth on, offline model, both MCP servers over stdio) and the real
`chatkit-chat` console script run against it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER
from tests.e2e.conftest import BIN, free_port, server_env

CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
MAX_REQUEST_BYTES = 4096  # small, so a long message shows the backend's 413
# Start-up (imports, two stdio servers, a fresh catalog) took ~10 s on the 2-core machine under load.
STARTUP_DEADLINE_SECONDS = 60.0


@dataclass
class Backend:
    """A running backend: its ChatKit URL, process and log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self) -> None:
        """Poll /readyz until the database and both tool servers answer, within the deadline."""
        ready = self.url.removesuffix("/chatkit") + "/readyz"
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        with httpx2.Client(timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"chatkit-backend exited with {self.process.returncode}:\n{self.logs()}"
                    )
                try:
                    if http.get(ready).status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{ready} not ready in {STARTUP_DEADLINE_SECONDS} s:\n{self.logs()}")
                time.sleep(0.05)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate (the backend stops its MCP children), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """`chatkit-backend` on a free port with temporary SQLite databases, until the module is done."""
    directory = tmp_path_factory.mktemp("backend")
    port = free_port()
    env = server_env(
        directory,
        DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=str(CONFIG),
        MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES),
    )
    log = directory / "backend.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "chatkit-backend"), "--port", str(port)],
            env=env,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Backend(f"http://127.0.0.1:{port}/chatkit", process, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
