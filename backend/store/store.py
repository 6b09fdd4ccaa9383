"""The ChatKit Store and AttachmentStore on SQL (SQLite or Postgres), scoped by the caller's user id.

Items and threads are SDK models stored as JSON; `(created_at, pk)` gives them a total order that
keyset pages follow. Timestamps follow `backend.timestamps`: stored as UTC, handed back as naive
local time (the SDK's convention, which it does arithmetic with).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from chatkit.store import _ID_PREFIXES, AttachmentStore, NotFoundError, Store, StoreItemType
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FeedbackKind,
    FileAttachment,
    ImageAttachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
)
from pydantic import AnyUrl, TypeAdapter
from sqlalchemy import DateTime, String, Table, Text, and_, bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.db import is_sqlite
from backend.file_types import DEFAULT_UPLOAD_TYPES, UploadTypes, contradiction
from backend.store import approvals as approval_rows
from backend.store.approvals import Approvals
from backend.store.items import ItemDecoder
from backend.store.migrations import HISTORY
from backend.store.models import ATTACHMENTS, FEEDBACK, FILES, ITEMS, THREADS
from backend.store.schema_recovery import SchemaRecovery
from backend.store.tool_calls import ToolCalls
from backend.store.widget_states import WidgetStates, delete_for_item, delete_for_thread
from backend.timestamps import from_storage, to_utc
from plumbing import migrations
from plumbing.migrations import Migration

ATTACHMENT_ADAPTER: TypeAdapter[Attachment] = TypeAdapter(Attachment)
THREAD_FIELDS = set(ThreadMetadata.model_fields)
FEEDBACK_KINDS = ("positive", "negative")
MAX_MIME_TYPE_CHARS = 200
_TIMESTAMP = DateTime(timezone=True)
T = TypeVar("T", ThreadMetadata, ThreadItem)


class AlreadyUploaded(ValueError):
    """The attachment has its bytes already: an upload link is good for one upload."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"  # 128 random bits


def _page_sql(table: str, scope: str, order: str, cursor: bool) -> Any:
    """A keyset page: rows of one scope ordered by (created_at, pk), strictly after the cursor row.

    The cursor's position comes from two scalar subqueries, which Postgres evaluates once and uses
    as an index bound (a join to the cursor row would make it filter from the start instead)."""
    direction, op = ("ASC", ">") if order == "asc" else ("DESC", "<")
    where = " AND ".join(f"{column} = :{column}" for column in scope.split())
    columns = "created_at, type, data" if table == "chat_items" else "created_at, data"
    sql = f"SELECT {columns} FROM {table} WHERE {where}"
    if cursor:
        position = [
            f"(SELECT {column} FROM {table} WHERE id = :after AND {where})" for column in ("created_at", "pk")
        ]
        sql += f" AND (created_at, pk) {op} ({', '.join(position)})"
    sql += f" ORDER BY created_at {direction}, pk {direction} LIMIT :limit"
    return text(sql).columns(created_at=_TIMESTAMP)


def _upsert(
    insert: Any,
    table: Table,
    *,
    updated: list[str],
    guard: Sequence[str] = (),
    key: str = "id",
    source: Any = None,
) -> Any:
    """INSERT (bound values, or `source` whose columns follow the table's) ON CONFLICT (key) DO UPDATE
    the `updated` columns where the stored row's `guard` columns match; RETURNING the first key column,
    so no row back means nothing was written. An update keeps the row's pk and created_at."""
    names = [column.name for column in table.c if column.name != "pk"]
    statement = insert(table)
    if source is None:
        statement = statement.values({name: bindparam(name, type_=table.c[name].type) for name in names})
    else:
        statement = statement.from_select(names, source)
    excluded = statement.excluded
    keys = key.split()
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: excluded[name] for name in updated},
        where=and_(*(table.c[name] == excluded[name] for name in guard)) if guard else None,
    ).returning(table.c[keys[0]])


_LOAD_THREAD = select(THREADS.c.created_at, THREADS.c.data).where(
    THREADS.c.id == bindparam("id"), THREADS.c.owner == bindparam("owner")
)
_LOAD_ITEM = select(ITEMS.c.created_at, ITEMS.c.type, ITEMS.c.data).where(
    ITEMS.c.id == bindparam("id"),
    ITEMS.c.thread_id == bindparam("thread_id"),
    ITEMS.c.owner == bindparam("owner"),
)
_LOAD_ATTACHMENT = select(ATTACHMENTS.c.data).where(
    ATTACHMENTS.c.id == bindparam("id"), ATTACHMENTS.c.owner == bindparam("owner")
)
_PAGES = {
    (table, order, cursor): _page_sql(table, scope, order, cursor)
    for table, scope in (("chat_threads", "owner"), ("chat_items", "thread_id owner"))
    for order in ("asc", "desc")
    for cursor in (False, True)
}


class SqlStore(Store[RequestContext], AttachmentStore[RequestContext]):
    """Threads, items, attachments (with their bytes) and feedback, each visible only to its owner."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        links: AttachmentLinks,
        max_upload_bytes: int = 10 * 1024 * 1024,
        upload_types: UploadTypes | None = None,
    ) -> None:
        self.engine = engine
        self.upload_types = upload_types or UploadTypes(DEFAULT_UPLOAD_TYPES)  # UPLOAD_ALLOWED_TYPES
        on_sqlite = is_sqlite(engine)
        # One-statement calls skip BEGIN/COMMIT round trips on Postgres; the statement is atomic on
        # its own (SQLite runs inline: nothing to save there). Multi-statement calls use begin().
        self._single = engine if on_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        self.links = links
        self.widget_states = WidgetStates(engine, self._single)
        self.approvals = Approvals(engine, self._single)
        self.schema = SchemaRecovery(engine, HISTORY)  # a database that comes back empty
        self.tool_calls = ToolCalls(engine, self._single)  # records of tool calls with side effects
        self._decoder = ItemDecoder()
        self.max_upload_bytes = max_upload_bytes
        insert = sqlite.insert if on_sqlite else postgresql.insert
        self._upsert_thread = _upsert(insert, THREADS, updated=["title", "data"], guard=["owner"])
        self._upsert_attachment = _upsert(insert, ATTACHMENTS, updated=["thread_id", "data"], guard=["owner"])
        self._upsert_file = _upsert(
            insert, FILES, updated=["mime_type", "size", "content"], guard=["owner"], key="attachment_id"
        )
        # Selecting the caller's thread row both checks ownership and stamps the owner.
        caller_thread = select(
            bindparam("id", type_=String),
            THREADS.c.id,
            THREADS.c.owner,
            bindparam("created_at", type_=_TIMESTAMP),
            bindparam("type", type_=String),
            bindparam("data", type_=Text),
        ).where(THREADS.c.id == bindparam("thread_id"), THREADS.c.owner == bindparam("owner"))
        self._upsert_item = _upsert(
            insert, ITEMS, updated=["type", "data"], guard=["owner", "thread_id"], source=caller_thread
        )
        caller_items = select(
            ITEMS.c.owner,
            ITEMS.c.thread_id,
            ITEMS.c.id,
            bindparam("kind", type_=String),
            bindparam("created_at", type_=_TIMESTAMP),
        ).where(
            ITEMS.c.id.in_(bindparam("item_ids", expanding=True)),
            ITEMS.c.thread_id == bindparam("thread_id"),
            ITEMS.c.owner == bindparam("owner"),
        )
        self._upsert_feedback = _upsert(
            insert, FEEDBACK, updated=["kind", "created_at"], key="item_id owner", source=caller_items
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def prepare(self, *, migrate: bool = True) -> Migration | None:
        """Bring the store's tables to the newest schema (Alembic, under the schema lock); with
        `migrate=False` only check that they are (else `SchemaOutOfDate`, saying what to run).
        A process that migrates at start also re-creates the tables when they vanish (`schema`)."""
        self.schema.allowed = migrate
        return await migrations.prepare(self.engine, HISTORY, migrate=migrate)

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self._single.connect() as connection:
            await connection.execute(text("SELECT 1"))

    # -- ids ---------------------------------------------------------------------------------

    def generate_thread_id(self, context: RequestContext) -> str:
        """`thr_` and 128 random bits."""
        return _new_id(_ID_PREFIXES["thread"])

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        """The SDK's prefix for `item_type` and 128 random bits."""
        return _new_id(_ID_PREFIXES[item_type])

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        """`atc_` and 128 random bits."""
        return _new_id(_ID_PREFIXES["attachment"])

    # -- threads -----------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        """The caller's thread metadata, or `NotFoundError`."""
        async with self._single.connect() as connection:
            row = (
                await connection.execute(_LOAD_THREAD, {"id": thread_id, "owner": context.user_id})
            ).first()
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return _thread(*row)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        """Upsert the metadata (never the items) of one of the caller's threads."""
        created_at = to_utc(thread.created_at)
        metadata = thread.model_copy(update={"created_at": created_at})
        values = {
            "id": thread.id,
            "owner": context.user_id,
            "created_at": created_at,
            "title": thread.title,
            "data": metadata.model_dump_json(include=THREAD_FIELDS),
        }
        async with self._single.begin() as connection:
            if (await connection.execute(self._upsert_thread, values)).first() is None:
                raise NotFoundError(f"Thread {thread.id} not found")

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        """A page of the caller's threads by creation time; `after` is an exclusive thread-id cursor."""
        params = {"owner": context.user_id}
        async with self._single.connect() as connection:
            rows = await _page(connection, "chat_threads", params, after, limit, order)
            if not rows and after is not None:
                await _require(connection, THREADS, after, owner=context.user_id)
        threads = [_thread(*row) for row in rows]
        return _paged(threads, limit)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        """Delete one of the caller's threads with its items, feedback, attachments, widget states,
        paused runs and approvals."""
        owner = context.user_id
        mine = ATTACHMENTS.c.owner == owner
        async with self.engine.begin() as connection:
            await delete_for_thread(connection, thread_id, owner)
            await approval_rows.delete_for_thread(connection, thread_id, owner)
            await connection.execute(
                delete(FEEDBACK).where(FEEDBACK.c.thread_id == thread_id, FEEDBACK.c.owner == owner)
            )
            attached = select(ATTACHMENTS.c.id).where(ATTACHMENTS.c.thread_id == thread_id, mine)
            await connection.execute(
                delete(FILES).where(FILES.c.attachment_id.in_(attached), FILES.c.owner == owner)
            )
            await connection.execute(delete(ATTACHMENTS).where(ATTACHMENTS.c.thread_id == thread_id, mine))
            await connection.execute(
                delete(ITEMS).where(ITEMS.c.thread_id == thread_id, ITEMS.c.owner == owner)
            )
            deleted = await connection.execute(
                delete(THREADS)
                .where(THREADS.c.id == thread_id, THREADS.c.owner == owner)
                .returning(THREADS.c.pk)
            )
            if deleted.first() is None:
                raise NotFoundError(f"Thread {thread_id} not found")

    # -- items -------------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: RequestContext
    ) -> Page[ThreadItem]:
        """A page of a thread's items by creation time; `after` is an exclusive item-id cursor."""
        params = {"thread_id": thread_id, "owner": context.user_id}
        async with self._single.connect() as connection:
            rows = await _page(connection, "chat_items", params, after, limit, order)
            if not rows:  # an empty page: is it empty, or not the caller's?
                await _require(connection, THREADS, thread_id, owner=context.user_id)
                if after is not None:
                    await _require(connection, ITEMS, after, owner=context.user_id, thread_id=thread_id)
        items = [self._signed(self._decoder.decode(*row), context) for row in rows]
        return _paged(await self._settle_interrupted(thread_id, items, context), limit)

    async def _settle_interrupted(
        self, thread_id: str, items: list[ThreadItem], context: RequestContext
    ) -> list[ThreadItem]:
        """`items`, where a tool call a killed backend left pending now shows as interrupted (saved)."""
        settled = await self.tool_calls.interrupted(items, context)
        for item in settled.values():
            await self.save_item(thread_id, item, context)
        return [settled.get(item.id, item) for item in items] if settled else items

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        """One item of one of the caller's threads, or `NotFoundError`."""
        params = {"id": item_id, "thread_id": thread_id, "owner": context.user_id}
        async with self._single.connect() as connection:
            row = (await connection.execute(_LOAD_ITEM, params)).first()
        if row is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return self._signed(self._decoder.decode(*row), context)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        """Upsert an item into one of the caller's threads (the SDK may add the same item twice)."""
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        """Upsert an item by id; an existing item keeps its place in the thread."""
        created_at = to_utc(item.created_at)
        stored = item.model_copy(update={"created_at": created_at, "thread_id": thread_id})
        values = {
            "id": item.id,
            "thread_id": thread_id,
            "owner": context.user_id,
            "created_at": created_at,
            "type": item.type,
            "data": stored.model_dump_json(serialize_as_any=True),  # widgets as their trees
        }
        async with self._single.begin() as connection:
            if (await connection.execute(self._upsert_item, values)).first() is None:
                raise NotFoundError(f"Thread {thread_id} not found")

    async def delete_thread_item(self, thread_id: str, item_id: str, context: RequestContext) -> None:
        """Delete one item (and feedback on it, and its widget state) from one of the caller's threads."""
        owner = context.user_id
        async with self.engine.begin() as connection:
            await delete_for_item(connection, item_id, owner)
            await connection.execute(
                delete(FEEDBACK).where(FEEDBACK.c.item_id == item_id, FEEDBACK.c.owner == owner)
            )
            deleted = await connection.execute(
                delete(ITEMS)
                .where(ITEMS.c.id == item_id, ITEMS.c.thread_id == thread_id, ITEMS.c.owner == owner)
                .returning(ITEMS.c.pk)
            )
            if deleted.first() is None:
                raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")

    # -- feedback ----------------------------------------------------------------------------

    async def save_feedback(
        self, thread_id: str, item_ids: list[str], kind: FeedbackKind, context: RequestContext
    ) -> None:
        """Record `kind` on items of one of the caller's threads (the latest feedback per item wins)."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"Feedback must be one of {', '.join(FEEDBACK_KINDS)}.")
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            async with self._single.connect() as connection:
                await _require(connection, THREADS, thread_id, owner=context.user_id)
            return
        values = {
            "item_ids": wanted,
            "thread_id": thread_id,
            "owner": context.user_id,
            "kind": kind,
            "created_at": datetime.now(UTC),
        }
        async with self.engine.begin() as connection:
            saved = {item_id for (item_id,) in await connection.execute(self._upsert_feedback, values)}
            if saved != set(wanted):  # raising rolls the whole statement back
                raise NotFoundError(f"Items not found in thread {thread_id}")

    async def load_feedback(self, thread_id: str, context: RequestContext) -> dict[str, FeedbackKind]:
        """The caller's feedback on the items of one of their threads, by item id."""
        statement = select(FEEDBACK.c.item_id, FEEDBACK.c.kind).where(
            FEEDBACK.c.thread_id == thread_id, FEEDBACK.c.owner == context.user_id
        )
        async with self._single.connect() as connection:
            await _require(connection, THREADS, thread_id, owner=context.user_id)
            rows = (await connection.execute(statement)).all()
        return {item_id: kind for item_id, kind in rows}

    # -- attachments -------------------------------------------------------------------------

    def _signed(self, item: ThreadItem, context: RequestContext) -> ThreadItem:
        """`item` with fresh preview links for its images (stored links expire)."""
        if isinstance(item, UserMessageItem) and item.attachments:
            item.attachments = [self._preview(attachment, context) for attachment in item.attachments]
        return item

    def _preview(self, attachment: Attachment, context: RequestContext) -> Attachment:
        if not isinstance(attachment, ImageAttachment):
            return attachment
        url = self.links.download_url(attachment.id, context.user_id)
        return attachment.model_copy(update={"preview_url": AnyUrl(url)})

    async def create_attachment(self, input: AttachmentCreateParams, context: RequestContext) -> Attachment:
        """A new attachment awaiting its upload (not saved: the SDK calls `save_attachment` next), of
        a type the allowlist (`upload_types`) allows."""
        name, mime_type = input.name.strip(), input.mime_type.strip()
        if not name:
            raise ValueError("An attachment needs a file name.")
        if not mime_type or "/" not in mime_type or len(mime_type) > MAX_MIME_TYPE_CHARS:
            raise ValueError(f"'{input.mime_type[:80]}' is not a valid MIME type.")
        refusal = self.upload_types.refusal(mime_type, name)
        if refusal is not None:
            raise ValueError(refusal)
        if input.size <= 0:
            raise ValueError("The file is empty.")
        if input.size > self.max_upload_bytes:
            raise ValueError(
                f"The file is too large: attachments are limited to {self.max_upload_bytes} bytes."
            )
        attachment_id = self.generate_attachment_id(mime_type, context)
        descriptor = AttachmentUploadDescriptor(
            url=AnyUrl(self.links.upload_url(attachment_id, context.user_id)), method="POST"
        )
        fields: dict[str, Any] = {"id": attachment_id, "name": input.name, "mime_type": mime_type}
        if mime_type.lower().startswith("image/"):
            preview = AnyUrl(self.links.download_url(attachment_id, context.user_id))
            return ImageAttachment(**fields, upload_descriptor=descriptor, preview_url=preview)
        return FileAttachment(**fields, upload_descriptor=descriptor)

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        """Upsert the metadata of one of the caller's attachments."""
        values = {
            "id": attachment.id,
            "owner": context.user_id,
            "thread_id": attachment.thread_id,
            "created_at": datetime.now(UTC),
            "data": attachment.model_dump_json(),
        }
        async with self._single.begin() as connection:
            if attachment.thread_id is not None:
                await _require(connection, THREADS, attachment.thread_id, owner=context.user_id)
            if (await connection.execute(self._upsert_attachment, values)).first() is None:
                raise NotFoundError(f"Attachment {attachment.id} not found")

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        """The caller's attachment metadata, or `NotFoundError`."""
        params = {"id": attachment_id, "owner": context.user_id}
        async with self._single.connect() as connection:
            data = (await connection.execute(_LOAD_ATTACHMENT, params)).scalar()
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return self._preview(ATTACHMENT_ADAPTER.validate_json(data), context)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Delete one of the caller's attachments and its bytes."""
        owner = context.user_id
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(FILES).where(FILES.c.attachment_id == attachment_id, FILES.c.owner == owner)
            )
            deleted = await connection.execute(
                delete(ATTACHMENTS)
                .where(ATTACHMENTS.c.id == attachment_id, ATTACHMENTS.c.owner == owner)
                .returning(ATTACHMENTS.c.id)
            )
            if deleted.first() is None:
                raise NotFoundError(f"Attachment {attachment_id} not found")

    async def save_upload(
        self, attachment_id: str, content: bytes, context: RequestContext, *, mime_type: str | None = None
    ) -> Attachment:
        """Store the bytes of one of the caller's attachments and mark its upload done.

        `mime_type`, when the upload declares one, must be the type the attachment was created with,
        and the bytes must not contradict that type (`backend.file_types.contradiction`: an image or
        PDF must be one, a file read as text must not be a known binary format)."""
        attachment = await self.load_attachment(attachment_id, context)
        if attachment.thread_id is not None:
            raise ValueError("This attachment is already part of a message; upload a new file instead.")
        if not content:
            raise ValueError("The upload is empty.")
        if len(content) > self.max_upload_bytes:
            raise ValueError(
                f"The file is too large: attachments are limited to {self.max_upload_bytes} bytes."
            )
        if mime_type is not None and _media_type(mime_type) != _media_type(attachment.mime_type):
            raise ValueError(
                f"The upload is {mime_type[:80]}, but the attachment was declared as {attachment.mime_type}."
            )
        mismatch = contradiction(attachment.mime_type, attachment.name, content)
        if mismatch is not None:
            raise ValueError(mismatch)
        uploaded = attachment.model_copy(update={"upload_descriptor": None})
        owner = context.user_id
        async with self.engine.begin() as connection:
            updated = await connection.execute(
                update(ATTACHMENTS)
                .where(
                    ATTACHMENTS.c.id == attachment_id,
                    ATTACHMENTS.c.owner == owner,
                    ATTACHMENTS.c.thread_id.is_(None),
                )
                .values(data=uploaded.model_dump_json())
                .returning(ATTACHMENTS.c.id)
            )
            if updated.first() is None:  # deleted (or attached to a message) meanwhile
                raise NotFoundError(f"Attachment {attachment_id} not found")
            # Checked after the update, which locks the attachment's row: a racing upload has committed.
            taken = await connection.execute(
                select(FILES.c.attachment_id).where(FILES.c.attachment_id == attachment_id)
            )
            if taken.first() is not None:  # rolls the update back
                raise AlreadyUploaded("This attachment has been uploaded already; upload a new file instead.")
            file = {
                "attachment_id": attachment_id,
                "owner": owner,
                "mime_type": attachment.mime_type,
                "size": len(content),
                "content": content,
            }
            await connection.execute(self._upsert_file, file)
        return uploaded

    async def load_upload(self, attachment_id: str, context: RequestContext) -> tuple[Attachment, bytes]:
        """One of the caller's attachments with its uploaded bytes, or `NotFoundError`."""
        statement = (
            select(ATTACHMENTS.c.data, FILES.c.content)
            .join(FILES, FILES.c.attachment_id == ATTACHMENTS.c.id)
            .where(ATTACHMENTS.c.id == attachment_id, ATTACHMENTS.c.owner == context.user_id)
        )
        async with self._single.connect() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            raise NotFoundError(f"No uploaded file for attachment {attachment_id}")
        return ATTACHMENT_ADAPTER.validate_json(row.data), bytes(row.content)


def _thread(created_at: datetime, data: str) -> ThreadMetadata:
    thread = ThreadMetadata.model_validate_json(data)
    thread.created_at = from_storage(created_at)  # the stored position wins over the payload's copy
    return thread


def _media_type(mime_type: str) -> str:
    return mime_type.split(";", 1)[0].strip().lower()


async def _page(
    connection: AsyncConnection,
    table: str,
    params: dict[str, Any],
    after: str | None,
    limit: int,
    order: str,
) -> Sequence[Any]:
    if order not in ("asc", "desc"):
        raise ValueError("order must be 'asc' or 'desc'")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if after is not None:
        params = {**params, "after": after}
    result = await connection.execute(_PAGES[table, order, after is not None], {**params, "limit": limit + 1})
    return result.all()


def _paged(data: list[T], limit: int) -> Page[T]:
    if len(data) <= limit:
        return Page(data=data, has_more=False, after=None)
    data = data[:limit]
    return Page(data=data, has_more=True, after=data[-1].id)


async def _require(connection: AsyncConnection, table: Table, row_id: str, **scope: str) -> None:
    """`NotFoundError` unless the row with `row_id` exists within `scope` (owner, thread)."""
    statement = select(table.c.id).where(table.c.id == row_id, *(table.c[k] == v for k, v in scope.items()))
    if (await connection.execute(statement)).first() is None:
        raise NotFoundError(f"{row_id} not found")
