"""chat_client works against any ChatKit backend: it imports nothing of ours (backend, MCP servers,
widget templates), and importing its CLI loads none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.layering import assert_imports_within

PACKAGE = Path(__file__).parents[2] / "chat_client"
FORBIDDEN = {"backend", "mcp_servers", "shared_widgets", "mcp", "agents", "openai", "sqlalchemy", "sqlmodel"}
ALLOWED = {"chat_client", "chatkit", "httpx2", "rich", "typer"}


def test_sources_import_only_the_client_libraries() -> None:
    assert_imports_within(PACKAGE, ALLOWED, FORBIDDEN)


def test_importing_the_cli_loads_nothing_of_ours() -> None:
    code = "import json, sys; import chat_client.cli; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert not loaded & FORBIDDEN, loaded & FORBIDDEN
