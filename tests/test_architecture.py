"""The dependency rules between our packages (docs/architecture.md, "Dependency rules"), checked on
every source file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layering import assert_imports_within, imported_roots

ROOT = Path(__file__).parents[1]
OURS = {"backend", "mcp_servers", "shared_widgets", "chat_client", "plumbing"}


def test_plumbing_is_a_leaf_that_imports_nothing_of_ours() -> None:
    assert_imports_within(
        ROOT / "plumbing",
        {
            "sqlalchemy",
            "alembic",
            "uvicorn",
            "jwt",
            "pydantic",
            "pydantic_settings",
            "prometheus_client",
            "opentelemetry",
            "plumbing",
        },
        OURS - {"plumbing"},
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("backend", {"mcp_servers", "chat_client"}),  # tools only through MCP
        ("mcp_servers", {"backend", "chatkit", "shared_widgets", "chat_client"}),  # data, never UI
    ],
)
def test_the_backend_and_the_tool_servers_stay_apart(package: str, forbidden: set[str]) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        assert not imported_roots(path) & forbidden, path
