"""`items-mcp`: serve the catalog tools over stdio or streamable HTTP, or mint a token."""

from __future__ import annotations

from mcp_servers.common.cli import run_cli
from mcp_servers.items.migrations import HISTORY
from mcp_servers.items.server import create_items_server
from mcp_servers.items.settings import ItemsSettings


def main() -> None:
    """Console-script entry point."""
    run_cli(
        history=HISTORY,
        prog="items-mcp",
        default_port=8102,
        load_settings=ItemsSettings,
        create_server=create_items_server,
    )


if __name__ == "__main__":
    main()
