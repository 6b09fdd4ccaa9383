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
MAX_CACHED_USERS = 4096


def mint_identity_token(secret: str, user_id: str, *, ttl_seconds: int = TOKEN_TTL_SECONDS) -> str:
    """A token that lets MCP servers act for `user_id` for a few minutes."""
    now = int(time.time())
    return jwt.encode(
        {"sub": user_id, "aud": AUDIENCE, "iat": now, "exp": now + ttl_seconds}, secret, "HS256"
    )


class IdentityTokens:
    """Each user's current identity token, minted again once it has less than `refresh_seconds`
    left. A user's calls then carry the same token for a few minutes, which the MCP servers
    verify once; a fresh token per call cost a signature here and a verification there."""

    def __init__(
        self, secret: str, *, ttl_seconds: int = TOKEN_TTL_SECONDS, refresh_seconds: int = 60
    ) -> None:
        self._secret, self._ttl, self._refresh = secret, ttl_seconds, refresh_seconds
        self._tokens: dict[str, tuple[str, float]] = {}  # user -> (token, expiry)

    def token_for(self, user_id: str) -> str:
        """A token for `user_id` valid for at least `refresh_seconds` more."""
        now = time.time()
        known = self._tokens.pop(user_id, None)  # popped and put back: the dict stays newest last
        if known is None or known[1] - now < self._refresh:
            known = (mint_identity_token(self._secret, user_id, ttl_seconds=self._ttl), now + self._ttl)
        self._tokens[user_id] = known
        if len(self._tokens) > MAX_CACHED_USERS:
            del self._tokens[next(iter(self._tokens))]
        return known[0]
