"""Checks made before `process()`: a streaming request must fail as a 4xx, not as an empty 200.

Every id a request names must belong to the caller (404 otherwise, the same answer as for an id
that does not exist), requests this server does not support are refused with a clear 400, and an
attachment of a type the allowlist does not name with a 415. Text neither database can store (a
NUL character, a lone surrogate) anywhere in a request, and a page size outside 1..MAX_PAGE_SIZE,
are refused with a 400 before any SQL runs, the same on SQLite and Postgres.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chatkit.store import NotFoundError, Store
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    ClientToolCallItem,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    StructuredInputItem,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
    UserMessageItem,
)
from pydantic import BaseModel

from backend.context import RequestContext
from backend.store import SqlStore

if TYPE_CHECKING:
    from backend.actions import WidgetActions

MAX_TITLE_CHARS = 200
# The most threads or items one `threads.list` / `items.list` page may ask for. The ChatKit UI asks
# for small pages (the SDK's default is 20); this leaves room for a client that reads a whole
# history at once while keeping a page (and `limit + 1` in SQL) far from any integer overflow.
MAX_PAGE_SIZE = 10_000
# Postgres stores no NUL in text, and neither database can encode a lone surrogate as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = (
    "The request contains a character that cannot be stored (a NUL character or a lone surrogate)."
)


class RequestRejected(Exception):
    """A request refused before processing, with the HTTP status and a message a person can act on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def unstorable(value: object) -> bool:
    """Whether `value` (a string, or any string inside a model, mapping or list) holds a character
    that cannot be stored: NUL, or a lone UTF-16 surrogate."""
    if isinstance(value, str):
        return "\x00" in value or (not value.isascii() and _UNSTORABLE.search(value) is not None)
    if isinstance(value, BaseModel):
        fields = [getattr(value, name) for name in type(value).model_fields]
        return unstorable(fields) or unstorable(value.__pydantic_extra__ or {})
    if isinstance(value, Mapping):
        return any(unstorable(key) or unstorable(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(unstorable(item) for item in value)
    return False


def check_text(*values: object) -> None:
    """`RequestRejected` (400) when any of `values` holds text that cannot be stored."""
    if unstorable(values):
        raise RequestRejected(400, "unstorable_text", UNSTORABLE_MESSAGE)


def _page_size(limit: int | None) -> None:
    """A page size is left out (the SDK's default) or within 1..MAX_PAGE_SIZE."""
    if limit is not None and not 1 <= limit <= MAX_PAGE_SIZE:
        raise RequestRejected(
            400, "invalid_request", f"'limit' must be between 1 and {MAX_PAGE_SIZE} (or left out)."
        )


def _not_found(what: str, ident: str) -> RequestRejected:
    return RequestRejected(404, "not_found", f"No {what} with id '{ident}'.")


async def check_request(
    request: ChatKitReq,
    store: Store[RequestContext],
    context: RequestContext,
    *,
    max_upload_bytes: int,
    actions: WidgetActions | None = None,
) -> None:
    """Raise `RequestRejected` unless the caller may make this request now."""
    check_text(request)  # before any SQL: one answer for NUL and surrogates on every database
    match request:
        case ThreadsCreateReq():
            await _attachments(store, request.params.input.attachments, context)
        case ThreadsAddUserMessageReq():
            await _thread(store, request.params.thread_id, context)
            await _attachments(store, request.params.input.attachments, context)
        case ThreadsUpdateReq():
            if len(request.params.title) > MAX_TITLE_CHARS:
                raise RequestRejected(
                    400, "invalid_request", f"Titles are limited to {MAX_TITLE_CHARS} characters."
                )
            await _thread(store, request.params.thread_id, context)
        case ThreadsGetByIdReq() | ThreadsDeleteReq():
            await _thread(store, request.params.thread_id, context)
        case ItemsListReq():
            _page_size(request.params.limit)
            await _thread(store, request.params.thread_id, context)
            if request.params.after:
                await _item(store, request.params.thread_id, request.params.after, context)
        case ItemsFeedbackReq():
            await _thread(store, request.params.thread_id, context)
            for item_id in request.params.item_ids:
                await _item(store, request.params.thread_id, item_id, context)
        case ThreadsRetryAfterItemReq():
            await _thread(store, request.params.thread_id, context)
            item = await _item(store, request.params.thread_id, request.params.item_id, context)
            if not isinstance(item, UserMessageItem):
                raise RequestRejected(400, "invalid_request", "Retry is only possible after a user message.")
        case ThreadsAddClientToolOutputReq():
            await _thread(store, request.params.thread_id, context)
            last = await store.load_thread_items(request.params.thread_id, None, 1, "desc", context)
            if not (
                last.data
                and isinstance(last.data[0], ClientToolCallItem)
                and last.data[0].status == "pending"
            ):
                raise RequestRejected(400, "invalid_request", "No client tool call is waiting for output.")
        case ThreadsAddStructuredInputReq():
            await _thread(store, request.params.thread_id, context)
            item = await _item(store, request.params.thread_id, request.params.item_id, context)
            if not (isinstance(item, StructuredInputItem) and item.status == "pending"):
                raise RequestRejected(
                    400, "invalid_request", "That item is not a question waiting for an answer."
                )
        case ThreadsCustomActionReq() | ThreadsSyncCustomActionReq():
            action = request.params
            await _thread(store, action.thread_id, context)
            if actions is None:
                raise RequestRejected(400, "unsupported", "This server runs no widget actions.")
            await actions.check(action.thread_id, action.item_id, action.action, context)
        case AttachmentsCreateReq():
            params = request.params
            if not params.name.strip() or not params.mime_type.strip():
                raise RequestRejected(400, "invalid_request", "An attachment needs a name and a MIME type.")
            if isinstance(store, SqlStore):  # its allowlist (UPLOAD_ALLOWED_TYPES), which it enforces too
                refusal = store.upload_types.refusal(params.mime_type, params.name)
                if refusal is not None:
                    raise RequestRejected(415, "unsupported_type", refusal)
            if not 0 < params.size <= max_upload_bytes:
                raise RequestRejected(
                    413, "too_large", f"Attachments are limited to {max_upload_bytes} bytes."
                )
        case AttachmentsDeleteReq():
            await _attachments(store, [request.params.attachment_id], context)
        case InputTranscribeReq():
            raise RequestRejected(400, "unsupported", "Speech transcription is not supported by this server.")
        case ThreadsListReq():
            _page_size(request.params.limit)
            if request.params.after:
                await _thread(store, request.params.after, context)


async def _thread(store: Store[RequestContext], thread_id: str, context: RequestContext) -> None:
    try:
        await store.load_thread(thread_id, context)
    except NotFoundError:
        raise _not_found("thread", thread_id) from None


async def _item(
    store: Store[RequestContext], thread_id: str, item_id: str, context: RequestContext
) -> object:
    try:
        return await store.load_item(thread_id, item_id, context)
    except NotFoundError:
        raise _not_found("item", item_id) from None


async def _attachments(
    store: Store[RequestContext], attachment_ids: list[str], context: RequestContext
) -> None:
    for attachment_id in attachment_ids:
        try:
            await store.load_attachment(attachment_id, context)
        except NotFoundError:
            raise _not_found("attachment", attachment_id) from None
