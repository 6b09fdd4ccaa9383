"""The idempotency key of the tool call being sent, for its `_meta`.

`backend.tool_journal` names every journaled call by a key and sends it inside `sending(key)`;
`ToolEvents.identity` adds `key_meta()` to the call's `_meta`, under `IDEMPOTENCY_KEY_META_KEY`.
The Agents SDK resolves a call's `_meta` inside the tool's invocation (`MCPUtil.invoke_mcp_tool`),
in the task that runs it, so the key set around the invocation is the one that call sees. A
repeat of a call that may have run carries the earlier call's key, so a server that deduplicates
on it (the tasks server's add_task) carries the call out once. Keys are opaque random ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from plumbing.identity import IDEMPOTENCY_KEY_META_KEY

__all__ = ["IDEMPOTENCY_KEY_META_KEY", "key_meta", "sending"]

_KEY: ContextVar[str | None] = ContextVar("tool_call_idempotency_key", default=None)


@contextmanager
def sending(key: str) -> Iterator[None]:
    """The tool call made inside carries `key` in its `_meta`."""
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)


def key_meta() -> dict[str, str]:
    """The `_meta` entry of the key of the call being sent, if it has one."""
    key = _KEY.get()
    return {IDEMPOTENCY_KEY_META_KEY: key} if key else {}
