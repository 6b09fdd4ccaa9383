"""End-user authentication: bearer JWTs (HS256 secret or JWKS with RS256/ES256), or local mode."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import jwt
from jwt import PyJWKClient

from backend.context import RequestContext
from backend.request_checks import unstorable
from backend.settings import LOCAL_USER, BackendSettings
from plumbing.logs import current_request_id

JWKS_ALGORITHMS = ["RS256", "ES256"]
MAX_USER_ID_LENGTH = 200
LEEWAY_SECONDS = 5
# A client sends the same token on every request until it expires. Its exact bytes, once
# verified, need only the expiry checked again; a JWKS-signed token is verified afresh after a
# minute anyway, so a key the issuer withdraws stops working within that time.
VERIFIED_CACHE_SIZE = 4096
JWKS_RECHECK_SECONDS = 60.0


class AuthError(Exception):
    """The request does not prove who is calling (answered with 401)."""


class Authenticator:
    """Turns an `Authorization` header into a `RequestContext`, or refuses it."""

    def __init__(self, settings: BackendSettings) -> None:
        self._settings = settings
        self._secret = settings.auth_jwt_secret.get_secret_value() if settings.auth_jwt_secret else None
        self._jwks = PyJWKClient(settings.auth_jwks_url, cache_keys=True) if settings.auth_jwks_url else None
        self._verified: dict[str, tuple[Mapping[str, Any], float]] = {}  # token -> (claims, good until)

    @property
    def local_mode(self) -> bool:
        """No auth configured: every request is the one local user."""
        return self._secret is None and self._jwks is None

    async def authenticate(self, authorization: str | None) -> RequestContext:
        """The caller's context; `AuthError` for a missing, malformed, expired or forged token."""
        request_id = current_request_id() or uuid.uuid4().hex  # the X-Request-ID (backend.request_ids)
        if self.local_mode:
            return RequestContext(user_id=LOCAL_USER, request_id=request_id)
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("missing bearer token")
        token = authorization[7:].strip()
        claims = await self._verify(token)
        subject = claims.get("sub")
        if (
            not isinstance(subject, str)
            or not subject
            or len(subject) > MAX_USER_ID_LENGTH
            or unstorable(subject)  # a NUL or lone surrogate: no database could store it as the owner
        ):
            raise AuthError("token names no valid user")
        return RequestContext(user_id=subject, request_id=request_id, claims=claims)

    async def _verify(self, token: str) -> Mapping[str, Any]:
        now = time.time()
        known = self._verified.get(token)
        if known is not None:
            if now <= known[1]:
                return known[0]
            del self._verified[token]  # expired, or a JWKS token due for a fresh check
        claims = MappingProxyType(await self._decode(token))  # shared by requests: read-only
        good_until = float(claims["exp"]) + LEEWAY_SECONDS
        if self._jwks is not None:
            good_until = min(good_until, now + JWKS_RECHECK_SECONDS)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (claims, good_until)
        return claims

    async def _decode(self, token: str) -> dict[str, Any]:
        options: jwt.types.Options = {
            "require": ["sub", "exp"],
            "verify_aud": self._settings.auth_audience is not None,
        }
        try:
            if self._jwks is not None:
                key: Any = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
                algorithms = JWKS_ALGORITHMS
            else:
                key, algorithms = self._secret, ["HS256"]
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.auth_audience,
                issuer=self._settings.auth_issuer,
                options=options,
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token has expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthError("token is invalid") from exc
