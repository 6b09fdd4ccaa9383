"""shared_widgets is a leaf: stdlib, chatkit, jinja2 and pydantic only; no backend, MCP or database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.layering import assert_imports_within

PACKAGE = Path(__file__).parents[2] / "shared_widgets"
ALLOWED = {"chatkit", "jinja2", "pydantic"}
FORBIDDEN = {
    "backend", "mcp_servers", "mcp", "mcp_types", "agents", "openai", "sqlalchemy", "sqlmodel",
    "asyncpg", "aiosqlite", "sqlite3", "psycopg", "psycopg2", "dbm", "shelve",
}  # fmt: skip


def test_sources_import_only_stdlib_chatkit_jinja2_pydantic() -> None:
    assert_imports_within(PACKAGE, ALLOWED, FORBIDDEN)


def test_importing_the_package_loads_nothing_forbidden() -> None:
    code = (
        "import json, sys; import chatkit.widgets; before = set(sys.modules); import shared_widgets; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    added = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert added - set(sys.stdlib_module_names) <= {"shared_widgets"} | ALLOWED


def test_templates_are_package_data() -> None:
    """The .widget files live in the package (pyproject must ship them as package data)."""
    names = {path.name for path in (PACKAGE / "templates").iterdir()}
    assert names == {
        f"{name}.widget"
        for name in (
            "task_list", "task_card", "item_results", "item_detail", "category_list",
            "generic_list", "generic_card", "approval",
        )
    } | {"actions.json"}  # fmt: skip
