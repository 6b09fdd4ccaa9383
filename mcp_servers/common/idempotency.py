"""The idempotency key a tool call may carry in `_meta`, under `IDEMPOTENCY_KEY_META_KEY`.

The backend names every call with side effects by a key (`backend.tool_journal`), and a repeat
of a call that may already have run (its backend was killed before the answer was recorded)
carries the same key. A tool that is not idempotent by itself carries a key out once per user:
on the tasks server that is `add_task`. The other tools ignore it: `complete_task` and
`reopen_task` are idempotent, `update_task` sets values, `delete_task` waits for the user's
approval, and the read-only tools change nothing.
"""

from __future__ import annotations

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from plumbing.identity import IDEMPOTENCY_KEY_META_KEY

__all__ = ["IDEMPOTENCY_KEY_META_KEY", "MAX_KEY_LENGTH", "idempotency_key"]

MAX_KEY_LENGTH = 100


def idempotency_key(ctx: Context) -> str | None:
    """The key of this tool call, `None` without one; a `ToolError` for a key that is not 1-100
    printable characters (the call is refused rather than risk running twice)."""
    key = (ctx.request_context.meta or {}).get(IDEMPOTENCY_KEY_META_KEY)
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ToolError(
            f"Refused: the idempotency key in _meta[{IDEMPOTENCY_KEY_META_KEY!r}] must be a string "
            f"of 1-{MAX_KEY_LENGTH} printable characters."
        )
    return key
