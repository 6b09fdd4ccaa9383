"""The identity tokens the backend sends to the MCP servers in `_meta`."""

from __future__ import annotations

import time

from backend.mcp.identity import IdentityTokens
from mcp_servers.common.identity import TokenCodec
from tests.conftest import SECRET


def test_each_user_keeps_one_token_until_it_nears_expiry() -> None:
    """A user's calls carry the same token (the servers verify it once); every user has their own;
    a token with less than the refresh margin left is replaced by a fresh one."""
    tokens, codec = IdentityTokens(SECRET, ttl_seconds=3, refresh_seconds=2), TokenCodec(SECRET)
    alice, bob = tokens.token_for("alice"), tokens.token_for("bob")
    assert tokens.token_for("alice") == alice and alice != bob
    assert codec.verify(alice) == "alice" and codec.verify(bob) == "bob"
    time.sleep(1.1)  # now under 2 s left
    renewed = tokens.token_for("alice")
    assert renewed != alice and codec.verify(renewed) == "alice"
    assert tokens.token_for("alice") == renewed
