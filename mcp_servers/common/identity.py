"""Who is calling: identity tokens (`plumbing.identity`) as the MCP servers receive them.

A token travels in the request `_meta` under `IDENTITY_META_KEY` (per call: one connection serves
every user) or, over HTTP, as `Authorization: Bearer`. The user id is never a tool argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from plumbing.identity import (
    AUDIENCE,
    DEFAULT_TTL_SECONDS,
    IDENTITY_META_KEY,
    IdentityError,
    TokenCodec,
)
from plumbing.logs import bind as bind_log_context

__all__ = [
    "AUDIENCE",
    "DEFAULT_TTL_SECONDS",
    "IDENTITY_META_KEY",
    "BearerVerifier",
    "IdentityError",
    "IdentityRefused",
    "IdentityResolver",
    "TokenCodec",
]


class IdentityRefused(Exception):
    """No trustworthy identity for this request; the message says what to send instead."""


class BearerVerifier:
    """The MCP SDK `TokenVerifier` for `Authorization: Bearer` over HTTP (no valid token: 401)."""

    def __init__(self, codec: TokenCodec) -> None:
        self._codec = codec

    async def verify_token(self, token: str) -> AccessToken | None:
        """Access info for a valid identity token, `None` otherwise."""
        try:
            user_id = self._codec.verify(token)
        except IdentityError:
            return None
        return AccessToken(token=token, client_id=user_id, scopes=[], subject=user_id)


@dataclass(frozen=True, slots=True)
class IdentityResolver:
    """Finds the verified user of a request (a tool call, a resource read, a prompt, a completion).

    Order: a `_meta` token (invalid means refused, never ignored), then the HTTP bearer token,
    then `anonymous_user` (stdio: the process belongs to whoever started it). Without any of
    them the request is refused.
    """

    codec: TokenCodec
    anonymous_user: str | None

    def resolve(self, meta: Mapping[str, Any] | None) -> str:
        """The user id for a request with this `_meta`, or `IdentityRefused`; the call's log lines
        name the user (hashed) from here on."""
        user_id = self._resolve(meta)
        bind_log_context(user_id=user_id)
        return user_id

    def _resolve(self, meta: Mapping[str, Any] | None) -> str:
        token = (meta or {}).get(IDENTITY_META_KEY)
        if token is not None:
            if not isinstance(token, str):
                raise IdentityRefused(
                    f"Refused: the identity token in _meta[{IDENTITY_META_KEY!r}] must be a string."
                )
            try:
                return self.codec.verify(token)
            except IdentityError as exc:
                raise IdentityRefused(f"Refused: {exc}. Ask for a new token.") from None
        access = get_access_token()
        if access is not None and access.subject:
            return access.subject
        if self.anonymous_user is not None:
            return self.anonymous_user
        raise IdentityRefused(
            "Refused: no identity. Send a token as 'Authorization: Bearer' "
            f"or in _meta[{IDENTITY_META_KEY!r}]."
        )

    def user_id(self, ctx: Context) -> str:
        """The user id for a tool call, or a `ToolError` a person can act on."""
        try:
            return self.resolve(ctx.request_context.meta)
        except IdentityRefused as exc:
            raise ToolError(str(exc)) from None

    def request_user_id(self, ctx: Context) -> str:
        """The user id for a resource read, prompt or completion: refused, a JSON-RPC error
        -32602 (the `_meta` token is an invalid parameter), which the server logs without a traceback."""
        try:
            return self.resolve(ctx.request_context.meta)
        except IdentityRefused as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
