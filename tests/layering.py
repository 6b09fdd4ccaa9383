"""Checks that a package imports only what its place in the architecture allows
(docs/architecture.md, "Dependency rules")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def imported_roots(path: Path) -> set[str]:
    """The top-level names a source file imports (relative imports excluded)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def assert_imports_within(package: Path, allowed: set[str], forbidden: set[str]) -> None:
    """Every module of `package` imports the standard library and `allowed` only, never `forbidden`,
    and imports nothing dynamically."""
    sources = sorted(package.rglob("*.py"))
    assert sources, package
    for path in sources:
        roots = imported_roots(path)
        assert not roots & forbidden, path
        assert roots <= allowed | set(sys.stdlib_module_names), (path, roots - set(sys.stdlib_module_names))
        text = path.read_text(encoding="utf-8")
        assert "import_module" not in text and "__import__" not in text, path
