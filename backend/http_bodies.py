"""Request bodies and uploads as the backend reads them: size limits, multipart forms, and the
headers an uploaded file is served with."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from urllib.parse import quote

from chatkit.types import Attachment
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from backend.request_checks import RequestRejected

# Room for a multipart form's boundaries and part headers around the file itself.
MULTIPART_ENVELOPE_BYTES = 64 * 1024
# Shown in the page (image previews); every other upload is served as a download.
INLINE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class BodyTooLarge(Exception):
    """The request body is over the configured limit (413)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge
    except ClientDisconnect:  # the client left, or the server cut a body trickled too slowly
        raise RequestRejected(400, "incomplete_body", "The request body did not arrive in full.") from None
    return bytes(body)


@dataclass(frozen=True)
class FormFile:
    """The `file` field of an upload form: the bytes and what the client said about them."""

    filename: str | None
    content_type: str | None
    content: bytes


def is_multipart(request: Request) -> bool:
    """Whether the body is a `multipart/form-data` form."""
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_form_file(request: Request, limit: int) -> FormFile:
    """The `file` field of a multipart form, refusing a file over `limit` bytes (`BodyTooLarge`)
    and a form that is broken or has no file (`RequestRejected`, 400)."""
    body = await read_body(request, limit + MULTIPART_ENVELOPE_BYTES)

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(request.headers, chunks(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise RequestRejected(
            400, "invalid_upload", f"The upload is not a valid form: {exc.message}"
        ) from None
    try:
        file = form.get("file")
        if file is None:
            raise RequestRejected(400, "invalid_upload", "The upload form has no 'file' field.")
        if not isinstance(file, UploadFile):
            raise RequestRejected(
                400,
                "invalid_upload",
                "The upload form's 'file' field is a plain value, not a file with a name.",
            )
        content = await file.read()
    finally:
        await form.close()
    if len(content) > limit:
        raise BodyTooLarge
    return FormFile(file.filename, file.content_type, content)


async def read_upload(request: Request, limit: int) -> bytes:
    """An upload's file: the `file` field of a multipart form (what ChatKit sends), else the raw body."""
    if not is_multipart(request):
        return await read_body(request, limit)
    return (await read_form_file(request, limit)).content


def declared_type(file: FormFile, name: str) -> str:
    """The file's MIME type as the form part gives it, else guessed from its name."""
    declared = (file.content_type or "").strip()
    return declared or mimetypes.guess_type(name)[0] or "application/octet-stream"


def attachment_json(attachment: Attachment) -> bytes:
    """An attachment as the SDK answers `attachments.create` (no None fields, no metadata)."""
    return attachment.model_dump_json(
        by_alias=True, exclude_none=True, context={"exclude_metadata": True}
    ).encode()


def download_headers(attachment: Attachment) -> dict[str, str]:
    """Uploaded bytes are the uploader's content, served from this origin (where the ChatKit page
    keeps its token): raster images show inline, anything else downloads, and nothing may run."""
    media_type = attachment.mime_type.split(";", 1)[0].strip().lower()
    disposition = "inline" if media_type in INLINE_MEDIA_TYPES else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name, safe='')}",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
    }
