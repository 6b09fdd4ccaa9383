"""Signed, short-lived attachment URLs: the ChatKit UI uploads to them and shows image previews from
them, and neither an upload nor an `<img>` carries the page's `Authorization` header."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal
from urllib.parse import quote

import jwt

Purpose = Literal["upload", "download"]
AUDIENCE = "chatkit-backend/attachment"
UPLOAD_TTL_SECONDS = 15 * 60
# A preview URL is signed afresh each time the item is loaded, so it only has to outlive a page view.
DOWNLOAD_TTL_SECONDS = 24 * 3600


class LinkError(Exception):
    """A link token that is malformed, forged, expired, or for another attachment or purpose."""


class AttachmentLinks:
    """Builds and checks the URLs of `POST /chatkit/upload/{id}` and `GET /chatkit/attachments/{id}`."""

    def __init__(self, secret: str, base_url: str) -> None:
        # Derived, so a link token can never pass for an MCP identity token (or the reverse).
        self._key = hmac.new(secret.encode(), b"attachment-links", hashlib.sha256).hexdigest()
        self.base_url = base_url.rstrip("/")

    def upload_url(self, attachment_id: str, user_id: str, *, ttl_seconds: int = UPLOAD_TTL_SECONDS) -> str:
        """Where the owner's client POSTs the file (multipart `file` field, or the raw bytes)."""
        token = self._sign(attachment_id, user_id, "upload", ttl_seconds)
        return f"{self.base_url}/chatkit/upload/{quote(attachment_id)}?token={token}"

    def download_url(
        self, attachment_id: str, user_id: str, *, ttl_seconds: int = DOWNLOAD_TTL_SECONDS
    ) -> str:
        """Where the owner's browser reads the file (image previews)."""
        token = self._sign(attachment_id, user_id, "download", ttl_seconds)
        return f"{self.base_url}/chatkit/attachments/{quote(attachment_id)}?token={token}"

    def verify(self, token: str, attachment_id: str, purpose: Purpose) -> str:
        """The user a link was signed for; `LinkError` unless it is valid for this attachment and use."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["sub", "exp", "att", "use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LinkError("the link has expired") from exc
        except jwt.PyJWTError as exc:
            raise LinkError("the link is invalid") from exc
        if claims["att"] != attachment_id or claims["use"] != purpose:
            raise LinkError("the link is not for this attachment")
        return str(claims["sub"])

    def _sign(self, attachment_id: str, user_id: str, purpose: Purpose, ttl_seconds: int) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "att": attachment_id,
            "use": purpose,
            "aud": AUDIENCE,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._key, "HS256")
