"""Migrates the store's, the tasks' and the items' schemas, all on one database, at a given instant.

`python create_schemas.py URL START`: several of these started together race as backend workers and
their tool servers do when they start on a fresh database.
"""

from __future__ import annotations

import asyncio
import sys
import time

from backend.attachment_links import AttachmentLinks
from backend.db import create_engine as create_backend_engine
from backend.store import SqlStore
from mcp_servers.common.db import create_engine
from mcp_servers.items.repository import ItemRepository
from mcp_servers.tasks.repository import TaskRepository


async def main(url: str, start: float) -> None:
    """Wait for `start` (time.time()), then create every schema."""
    backend, servers = create_backend_engine(url), create_engine(url)
    try:
        while time.time() < start:
            pass  # spin: a sleep would wake the racers up to a millisecond apart
        await SqlStore(backend, links=AttachmentLinks("x" * 32, "http://127.0.0.1")).prepare()
        await TaskRepository(servers).prepare()
        await ItemRepository(servers).prepare()
    finally:
        await backend.dispose()
        await servers.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
