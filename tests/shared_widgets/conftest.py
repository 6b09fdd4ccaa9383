"""The in-memory MCP servers of tests/mcp_servers, for contract tests against live tool listings."""

from tests.mcp_servers.conftest import items_client, items_db, tasks_client, tasks_settings

__all__ = ["items_client", "items_db", "tasks_client", "tasks_settings"]
