"""Alembic environment of the tasks store."""

from mcp_servers.tasks.models import TaskRow
from plumbing.migrations import run_environment, store_metadata

run_environment(store_metadata([TaskRow.__table__]))  # type: ignore[attr-defined]
