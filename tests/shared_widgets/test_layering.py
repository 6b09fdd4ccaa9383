"""shared_widgets is a leaf: stdlib, chatkit, jinja2 and pydantic only; no backend, MCP or database."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "shared_widgets"
ALLOWED = {"chatkit", "jinja2", "pydantic"}
FORBIDDEN = {
    "backend", "mcp_servers", "mcp", "mcp_types", "agents", "openai", "sqlalchemy", "sqlmodel",
    "asyncpg", "aiosqlite", "sqlite3", "psycopg", "psycopg2", "dbm", "shelve",
}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_sources_import_only_stdlib_chatkit_jinja2_pydantic() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert sources
    for path in sources:
        roots = imported_roots(path)
        assert not roots & FORBIDDEN, path
        assert roots <= ALLOWED | set(sys.stdlib_module_names), (path, roots - set(sys.stdlib_module_names))
        text = path.read_text(encoding="utf-8")
        assert "import_module" not in text and "__import__" not in text, path


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
    assert added - set(sys.stdlib_module_names) == {"shared_widgets"}


def test_templates_are_package_data() -> None:
    """The .widget files live in the package (pyproject must ship them as package data)."""
    names = {path.name for path in (PACKAGE / "templates").iterdir()}
    assert names == {
        f"{name}.widget"
        for name in (
            "task_list", "task_card", "item_results", "item_detail", "category_list",
            "generic_list", "generic_card",
        )
    }  # fmt: skip
