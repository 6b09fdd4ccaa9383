"""`tasks-mcp`: serve the tasks tools over stdio or streamable HTTP, or mint a token."""

from __future__ import annotations

from mcp_servers.common.cli import run_cli
from mcp_servers.tasks.migrations import HISTORY
from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings


def main() -> None:
    """Console-script entry point."""
    run_cli(
        history=HISTORY,
        prog="tasks-mcp",
        default_port=8101,
        load_settings=TasksSettings,
        create_server=create_tasks_server,
    )


if __name__ == "__main__":
    main()
