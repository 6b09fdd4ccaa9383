"""Per-call identity for MCP tools: a short-lived HS256 token naming the end user, sent in `_meta`.

The key and the claims are a contract with the MCP servers (DESIGN.md, "Identity"); the backend
cannot import `mcp_servers`, so the constants are repeated here on purpose.
"""

from __future__ import annotations

import time

import jwt

IDENTITY_META_KEY = "dev.chatkit-backend/identity"
AUDIENCE = "mcp"
TOKEN_TTL_SECONDS = 300
# The backend's own identity on HTTP connections (never a user's: users ride in `_meta`).
SERVICE_USER = "chatkit-backend"
SERVICE_TOKEN_TTL_SECONDS = 30 * 24 * 3600


def mint_identity_token(secret: str, user_id: str, *, ttl_seconds: int = TOKEN_TTL_SECONDS) -> str:
    """A token that lets MCP servers act for `user_id` for a few minutes."""
    now = int(time.time())
    return jwt.encode(
        {"sub": user_id, "aud": AUDIENCE, "iat": now, "exp": now + ttl_seconds}, secret, "HS256"
    )
