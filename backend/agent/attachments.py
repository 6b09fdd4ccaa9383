"""What the model is given of the files attached to user messages, read from the caller's store.

Each attachment starts with the note `[The user attached a file: NAME (MIME)]` (the offline model
looks for that prefix), then, by kind (`backend.file_types.kind_of`):
- an image (PNG, JPEG, GIF, WebP): an `input_image` part after the note, as a `data:` URL of the
  stored bytes, or as a short-lived signed download link when `PUBLIC_BASE_URL` is a public address
  the provider can fetch from;
- a text file (text/*, markdown, CSV, JSON, XML, YAML, source code by type or extension): the note
  and the text, decoded as UTF-8 (undecodable bytes replaced);
- a PDF: the note and the text pypdf reads from it (off the event loop, at most `PDF_PAGES` pages
  and `PDF_SECONDS` seconds), or "(no text could be read from this PDF)";
- anything else, or a file whose bytes are not (or no longer) stored: the note alone.
Text is cut to the per-file budget and to what is left of the per-message budget, saying how much
was cut. Only the newest `recent_messages` user messages that carry attachments are read; older
ones keep their notes (a file under discussion stays visible until newer files replace it, and a
long thread does not re-send every file of its history on each turn)."""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol
from urllib.parse import urlsplit

import anyio
from chatkit.store import NotFoundError
from chatkit.types import Attachment, ThreadItem, UserMessageItem
from openai.types.responses import ResponseInputContentParam, ResponseInputImageParam, ResponseInputTextParam

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.file_types import IMAGE_TYPES, kind_of, sniff
from backend.settings import BackendSettings

logger = logging.getLogger(__name__)
PDF_PAGES = 50
PDF_SECONDS = 10.0
PDF_CACHE_SIZE = 32
# Long enough for the provider to fetch the image (it may retry), short enough to matter little if
# the request is logged somewhere.
LINK_TTL_SECONDS = 15 * 60
NO_PDF_TEXT = "(no text could be read from this PDF)"
NOT_STORED = "(its content is not available)"
PRIVATE_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".lan",
    ".home.arpa",
    ".test",
    ".example",
    ".invalid",
)


class Uploads(Protocol):
    """Where the bytes of the caller's attachments are read (the SQL store)."""

    async def load_upload(self, attachment_id: str, context: RequestContext) -> tuple[Attachment, bytes]: ...


@dataclass(frozen=True)
class AttachmentBudget:
    """How much of the attached files the model reads (`ATTACHMENT_*` settings)."""

    file_chars: int = 20_000
    message_chars: int = 50_000
    recent_messages: int = 3

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> AttachmentBudget:
        """ATTACHMENT_FILE_CHARS, ATTACHMENT_MESSAGE_CHARS and ATTACHMENT_RECENT_MESSAGES."""
        return cls(
            settings.attachment_file_chars,
            settings.attachment_message_chars,
            settings.attachment_recent_messages,
        )


@dataclass(frozen=True)
class PdfText:
    """The text read from a PDF's first pages."""

    text: str
    pages_read: int
    pages: int


def note(attachment: Attachment) -> str:
    """The line that names an attached file to the model."""
    return f"[The user attached a file: {attachment.name} ({attachment.mime_type})]"


def public_base_url(url: str) -> bool:
    """Whether a provider on the internet could fetch from `url`: not loopback, not a private,
    link-local or otherwise reserved address, not a single-label or local-only host name."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith(PRIVATE_SUFFIXES):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and how many more there were."""
    if len(text) <= limit:
        return text
    marker = f"[... cut: {len(text) - limit} more characters]"
    return f"{text[:limit]}\n{marker}" if limit > 0 else marker


def read_pdf(content: bytes, *, max_pages: int = PDF_PAGES, seconds: float = PDF_SECONDS) -> PdfText | None:
    """The text of a PDF's first `max_pages` pages, read for at most `seconds` (checked between
    pages, after the first); None when none can be read (encrypted, image-only, or not a PDF pypdf
    can parse)."""
    from pypdf import PdfReader  # only when a PDF is read: the import costs ~0.1 s

    deadline = time.monotonic() + seconds
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):  # many PDFs only restrict printing
            return None
        total = len(reader.pages)
        texts: list[str] = []
        for index in range(min(total, max_pages)):
            if texts and time.monotonic() > deadline:  # the first page is always read
                break
            texts.append(reader.pages[index].extract_text() or "")
    except Exception as exc:  # pypdf raises many kinds of errors on damaged or unusual files
        logger.info("No text could be read from a PDF: %r", exc)
        return None
    text = "\n\n".join(page.strip() for page in texts if page.strip())
    return PdfText(text, len(texts), total) if text else None


_pdf_cache: OrderedDict[bytes, PdfText | None] = OrderedDict()


async def pdf_text(content: bytes) -> PdfText | None:
    """`read_pdf` in a worker thread, bounded in time; results kept by content hash (the same file
    is read again on each turn while its message is recent)."""
    key = hashlib.sha256(content).digest()
    if key in _pdf_cache:
        _pdf_cache.move_to_end(key)
        return _pdf_cache[key]
    result: PdfText | None = None
    with anyio.move_on_after(PDF_SECONDS + 2):  # a single page that takes too long: stop waiting
        read = partial(read_pdf, content, max_pages=PDF_PAGES, seconds=PDF_SECONDS)
        result = await anyio.to_thread.run_sync(read, abandon_on_cancel=True)
    _pdf_cache[key] = result
    if len(_pdf_cache) > PDF_CACHE_SIZE:
        _pdf_cache.popitem(last=False)
    return result


def _text(text: str) -> ResponseInputTextParam:
    return ResponseInputTextParam(type="input_text", text=text)


class AttachmentContent:
    """Reads one turn's attachments for the model: the caller's own files only (every read is
    scoped by the request's owner)."""

    def __init__(
        self,
        uploads: Uploads,
        context: RequestContext,
        budget: AttachmentBudget | None = None,
        *,
        links: AttachmentLinks | None = None,
    ) -> None:
        self.uploads, self.context = uploads, context
        self.budget = budget or AttachmentBudget()
        # Images as signed links only where the provider can reach them.
        self.links = links if links is not None and public_base_url(links.base_url) else None

    async def for_history(self, history: Sequence[ThreadItem]) -> dict[str, list[ResponseInputContentParam]]:
        """The content parts of the attachments of the newest user messages that have any, by item id."""
        carrying = [item for item in history if isinstance(item, UserMessageItem) and item.attachments]
        recent = carrying[max(0, len(carrying) - self.budget.recent_messages) :]
        return {item.id: await self.message_parts(item.attachments) for item in recent}

    async def message_parts(self, attachments: Sequence[Attachment]) -> list[ResponseInputContentParam]:
        """The parts for one message's attachments, within the message's text budget."""
        parts: list[ResponseInputContentParam] = []
        left = self.budget.message_chars
        for attachment in attachments:
            kind = kind_of(attachment.mime_type, attachment.name)
            content = None if kind == "other" else await self._bytes(attachment)
            if content is None:
                parts.append(
                    _text(note(attachment) if kind == "other" else f"{note(attachment)}\n{NOT_STORED}")
                )
            elif kind == "image":
                parts.extend(self._image(attachment, content))
            else:
                limit = min(self.budget.file_chars, left)
                body, used = await self._body(kind, content, limit)
                left -= used
                parts.append(_text(f"{note(attachment)}\n{body}"))
        return parts

    async def _bytes(self, attachment: Attachment) -> bytes | None:
        try:
            _, content = await self.uploads.load_upload(attachment.id, self.context)
        except NotFoundError:  # not uploaded, deleted, or not the caller's
            return None
        return content

    async def _body(self, kind: str, content: bytes, limit: int) -> tuple[str, int]:
        """What follows the note of a text file or PDF, cut to `limit` characters; and how many
        characters of the budget it used."""
        if kind == "text":
            if sniff(content) is not None:  # binary (stored before uploads were checked)
                return NOT_STORED, 0
            text = content.decode("utf-8", errors="replace").removeprefix("\ufeff")
            return cut(text, limit), min(len(text), limit)
        if limit <= 0:
            return "[... cut: not read, the message's attachments used up their budget]", 0
        read = await pdf_text(content)
        if read is None:
            return NO_PDF_TEXT, 0
        body = cut(read.text, limit)
        if read.pages_read < read.pages:
            body += f"\n[... cut: {read.pages - read.pages_read} more pages not read]"
        return body, min(len(read.text), limit)

    def _image(self, attachment: Attachment, content: bytes) -> list[ResponseInputContentParam]:
        found = sniff(content)
        if found not in IMAGE_TYPES:  # stored before uploads were checked, or damaged
            return [_text(f"{note(attachment)}\n{NOT_STORED}")]
        if self.links is not None:
            url = self.links.download_url(attachment.id, self.context.user_id, ttl_seconds=LINK_TTL_SECONDS)
        else:
            url = f"data:{found};base64,{base64.b64encode(content).decode('ascii')}"
        image = ResponseInputImageParam(type="input_image", image_url=url, detail="auto")
        return [_text(note(attachment)), image]
