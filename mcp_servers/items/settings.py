"""Settings of the items server process."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from mcp_servers.common.settings import ServerSettings


class ItemsSettings(ServerSettings):
    """The items server's environment: its own database, the seed file, and the shared MCP settings."""

    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/items.db", validation_alias="ITEMS_DATABASE_URL"
    )
    catalog_file: Path | None = Field(
        default=None,
        validation_alias="ITEMS_CATALOG_FILE",
        description="JSON array of products to seed an empty catalog with (default: the packaged catalog).",
    )
