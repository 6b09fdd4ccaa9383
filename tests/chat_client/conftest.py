"""A real `chatkit-backend` (auth on, offline model, both MCP servers over stdio) and the real
`chatkit-chat` console script run against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER
from tests.e2e.conftest import BackendProcess, run_backend, server_env

CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
MAX_REQUEST_BYTES = 4096  # small, so a long message shows the backend's 413


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """`chatkit-backend` with temporary SQLite databases and both tool servers, until the module is done."""
    directory = tmp_path_factory.mktemp("backend")
    env = server_env(
        directory,
        DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=str(CONFIG),
        MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES),
    )
    with run_backend(directory, env) as server:
        yield server
