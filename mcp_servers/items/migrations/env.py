"""Alembic environment of the catalog."""

from mcp_servers.items.models import ItemRow
from plumbing.migrations import run_environment, store_metadata

run_environment(store_metadata([ItemRow.__table__]))  # type: ignore[attr-defined]
