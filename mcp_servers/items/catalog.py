"""The catalog an empty database is seeded with: the packaged data file or one given in settings."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def load_catalog(path: Path | None = None) -> list[dict[str, Any]]:
    """Products from `path`, or from the catalog shipped inside this package."""
    if path is not None:
        raw = path.read_text(encoding="utf-8")
    else:
        raw = resources.files("mcp_servers.items").joinpath("data/catalog.json").read_text(encoding="utf-8")
    products = json.loads(raw)
    if not isinstance(products, list):
        raise ValueError("a catalog file must hold a JSON array of products")
    return products
