"""Settings of the tasks server process."""

from __future__ import annotations

from pydantic import Field

from mcp_servers.common.settings import ServerSettings


class TasksSettings(ServerSettings):
    """The tasks server's environment: its own database plus the shared MCP settings."""

    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/tasks.db", validation_alias="TASKS_DATABASE_URL"
    )
