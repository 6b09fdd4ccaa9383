"""Who is calling a tool: short-lived HS256 identity tokens, minted by the backend, verified here.

A token travels in the request `_meta` under `IDENTITY_META_KEY` (per call: one connection serves
every user) or, over HTTP, as `Authorization: Bearer`. The user id is never a tool argument.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

IDENTITY_META_KEY = "dev.chatkit-backend/identity"
AUDIENCE = "mcp"
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 300
MAX_USER_ID_LENGTH = 200
# Verified tokens remembered (the backend's service token and each user's current token come
# back on every call; verifying one costs ~70 µs). Oldest out first.
VERIFIED_CACHE_SIZE = 4096


class IdentityError(Exception):
    """A token that is present but cannot be trusted (forged, expired, wrong audience, malformed)."""


@dataclass(frozen=True, slots=True)
class TokenCodec:
    """Mints and verifies identity tokens with one shared secret."""

    secret: str
    leeway_seconds: int = 5
    # token -> (user id, expiry): a token whose exact bytes were verified needs only its expiry
    # checked again. Unbounded growth is impossible: oldest out first.
    _verified: dict[str, tuple[str, float]] = field(default_factory=dict, compare=False, repr=False)

    def mint(self, user_id: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        """A signed token that says `user_id` is calling, valid for `ttl_seconds`."""
        if not user_id or len(user_id) > MAX_USER_ID_LENGTH:
            raise ValueError(f"user id must be 1-{MAX_USER_ID_LENGTH} characters")
        now = int(time.time())
        claims = {"sub": user_id, "aud": AUDIENCE, "iat": now, "exp": now + ttl_seconds}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The user id a valid token names; `IdentityError` for anything else."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known[1] + self.leeway_seconds:
                return known[0]
            del self._verified[token]
            raise IdentityError("identity token has expired")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                leeway=self.leeway_seconds,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise IdentityError("identity token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise IdentityError("identity token is not meant for MCP servers (audience)") from exc
        except jwt.PyJWTError as exc:
            raise IdentityError("identity token is invalid") from exc
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > MAX_USER_ID_LENGTH:
            raise IdentityError("identity token names no valid user")
        if isinstance(claims["exp"], int | float):
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (subject, float(claims["exp"]))
        return subject


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
    """Finds the verified user of a tool call.

    Order: a `_meta` token (invalid means refused, never ignored), then the HTTP bearer token,
    then `anonymous_user` (stdio: the process belongs to whoever started it). Without any of
    them the call is refused.
    """

    codec: TokenCodec
    anonymous_user: str | None

    def user_id(self, ctx: Context) -> str:
        """The user id for this call, or a `ToolError` a person can act on."""
        meta = ctx.request_context.meta or {}
        token = meta.get(IDENTITY_META_KEY)
        if token is not None:
            if not isinstance(token, str):
                raise ToolError(
                    f"Refused: the identity token in _meta[{IDENTITY_META_KEY!r}] must be a string."
                )
            try:
                return self.codec.verify(token)
            except IdentityError as exc:
                raise ToolError(f"Refused: {exc}. Ask for a new token.") from None
        access = get_access_token()
        if access is not None and access.subject:
            return access.subject
        if self.anonymous_user is not None:
            return self.anonymous_user
        raise ToolError(
            "Refused: no identity. Send a token as 'Authorization: Bearer' "
            f"or in _meta[{IDENTITY_META_KEY!r}]."
        )
