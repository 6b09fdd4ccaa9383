"""The catalog an empty database is seeded with: the packaged data file or one given in settings."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class CatalogProduct(BaseModel):
    """One product of a catalog file."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=4000)]
    category: Annotated[str, Field(min_length=1, max_length=100)]
    price: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    stock: Annotated[int, Field(ge=0)]
    tags: list[str]
    rating: Annotated[float, Field(ge=0, le=5)]


_CATALOG = TypeAdapter(list[CatalogProduct])


def load_catalog(path: Path | None = None) -> list[dict[str, Any]]:
    """Products from `path`, or from the catalog shipped inside this package; a `ValueError`
    that names the file and the bad entries when it is not a valid catalog."""
    source = str(path) if path is not None else "the packaged catalog"
    if path is not None:
        raw = path.read_text(encoding="utf-8")
    else:
        raw = resources.files("mcp_servers.items").joinpath("data/catalog.json").read_text(encoding="utf-8")
    try:
        products = _CATALOG.validate_python(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"{source} is not a valid catalog (a JSON array of products): {exc}") from None
    return [product.model_dump() for product in products]
