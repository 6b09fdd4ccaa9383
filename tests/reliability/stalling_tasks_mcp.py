"""The tasks server over stdio, except that in the process started while the file named by
`STALL_ONCE_FILE` exists (the file is removed then), the first add_task answers only after a long
stall once its task is committed: a backend killed meanwhile sent the call and the server did it,
but the backend's record of the call is still pending. It exits as soon as its backend is gone."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context

from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings

STALL_SECONDS = 60.0


def main() -> None:
    """Serve the tasks tools over stdio, the first add_task stalled after its commit if armed."""
    settings = TasksSettings()  # type: ignore[call-arg]
    settings.setup_logging()
    server = create_tasks_server(settings, transport="stdio")
    answer, backend = server.call_tool, os.getppid()
    once = Path(os.environ["STALL_ONCE_FILE"])
    armed = once.exists()
    once.unlink(missing_ok=True)

    async def call_tool(
        name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        nonlocal armed
        result = await answer(name, arguments, context)
        if name == "add_task" and armed:
            armed = False
            print("stalling_tasks_mcp: add_task committed, not answering", file=sys.stderr, flush=True)
            with anyio.move_on_after(STALL_SECONDS):
                while os.getppid() == backend:  # noqa: ASYNC110 (no event says the parent died)
                    await anyio.sleep(0.05)
            if os.getppid() != backend:  # the backend was killed: nobody to answer
                os._exit(0)
        return result

    server.call_tool = call_tool  # type: ignore[method-assign]
    server.run("stdio")


if __name__ == "__main__":
    main()
