"""shared_widgets is a leaf: stdlib, chatkit, jinja2 and pydantic only; no backend, MCP or database."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

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
    """Every widget file lives in the package and pyproject ships it as package data."""
    with open(PACKAGE.parent / "pyproject.toml", "rb") as source:
        patterns = tomllib.load(source)["tool"]["setuptools"]["package-data"]["shared_widgets"]
    files = {
        path.relative_to(PACKAGE).as_posix()
        for path in (PACKAGE / "templates").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {
        "templates/widgets.json", "templates/generic_list.widget", "templates/generic_card.widget",
        "templates/approval.widget", "templates/tasks/widgets.json", "templates/tasks/task_list.widget",
        "templates/tasks/task_card.widget", "templates/items/widgets.json",
        "templates/items/item_results.widget", "templates/items/item_detail.widget",
        "templates/items/category_list.widget",
    } == files  # fmt: skip
    unshipped = [
        name for name in files if not any(PurePosixPath(name).match(pattern) for pattern in patterns)
    ]
    assert not unshipped
