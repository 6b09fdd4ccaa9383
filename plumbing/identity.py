"""Identity tokens: short-lived HS256 JWTs that say which end user a tool call acts for.

The one definition of the contract between whoever mints them (the backend, `tasks-mcp token`) and
the MCP servers that verify them: the `_meta` key a token travels under, its claims (`sub` = user
id, `aud` = `AUDIENCE`, `iat`, `exp`) and the signing algorithm. No MCP here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

IDENTITY_META_KEY = "dev.chatkit-backend/identity"
# The id of the backend request a tool call is made for (plumbing.call_meta): for log lines.
REQUEST_ID_META_KEY = "dev.chatkit-backend/request-id"
# Names one logical tool call with side effects (backend.idempotency_keys): a repeat of a call that
# may have run carries the same key, so a tool that is not idempotent can carry it out once.
IDEMPOTENCY_KEY_META_KEY = "dev.chatkit-backend/idempotency-key"
AUDIENCE = "mcp"
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 300
MAX_USER_ID_LENGTH = 200
# Verified tokens remembered (the backend's service token and each user's current token come
# back on every call; verifying one costs ~70 µs). Oldest out first.
VERIFIED_CACHE_SIZE = 4096
# Users whose current token `IdentityTokens` keeps. Oldest out first.
MAX_CACHED_USERS = 4096


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


class IdentityTokens:
    """Each user's current identity token, minted again once it has less than `refresh_seconds`
    left. A user's calls then carry the same token for a few minutes, which the MCP servers
    verify once; a fresh token per call cost a signature here and a verification there."""

    def __init__(
        self, secret: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS, refresh_seconds: int = 60
    ) -> None:
        self._codec, self._ttl, self._refresh = TokenCodec(secret), ttl_seconds, refresh_seconds
        self._tokens: dict[str, tuple[str, float]] = {}  # user -> (token, expiry)

    def token_for(self, user_id: str) -> str:
        """A token for `user_id` valid for at least `refresh_seconds` more."""
        now = time.time()
        known = self._tokens.pop(user_id, None)  # popped and put back: the dict stays newest last
        if known is None or known[1] - now < self._refresh:
            known = (self._codec.mint(user_id, ttl_seconds=self._ttl), now + self._ttl)
        self._tokens[user_id] = known
        if len(self._tokens) > MAX_CACHED_USERS:
            del self._tokens[next(iter(self._tokens))]
        return known[0]
