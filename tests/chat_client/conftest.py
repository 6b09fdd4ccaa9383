"""A real `chatkit-backend` (auth on, offline model, both MCP servers over stdio) and the real
`chatkit-chat` console script run against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import BackendProcess, backend_env, run_backend

MAX_REQUEST_BYTES = 4096  # small, so a long message shows the backend's 413


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """`chatkit-backend` with temporary SQLite databases and both tool servers, until the module is done."""
    directory = tmp_path_factory.mktemp("backend")
    env = backend_env(directory, MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES))
    with run_backend(directory, env) as server:
        yield server
