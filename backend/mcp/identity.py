"""Per-call identity for MCP tools: the token contract lives in `plumbing.identity`; this adds the
backend's own identity on HTTP connections (never a user's: users ride in `_meta`)."""

from __future__ import annotations

from plumbing.identity import DEFAULT_TTL_SECONDS as TOKEN_TTL_SECONDS
from plumbing.identity import IDENTITY_META_KEY, IdentityTokens, TokenCodec

__all__ = [
    "IDENTITY_META_KEY",
    "SERVICE_TOKEN_TTL_SECONDS",
    "SERVICE_USER",
    "TOKEN_TTL_SECONDS",
    "IdentityTokens",
    "mint_identity_token",
]

SERVICE_USER = "chatkit-backend"
SERVICE_TOKEN_TTL_SECONDS = 30 * 24 * 3600


def mint_identity_token(secret: str, user_id: str, *, ttl_seconds: int = TOKEN_TTL_SECONDS) -> str:
    """A token that lets MCP servers act for `user_id` for `ttl_seconds`."""
    return TokenCodec(secret).mint(user_id, ttl_seconds=ttl_seconds)
