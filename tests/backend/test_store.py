"""SqlStore conformance on SQLite and Postgres: round trips, keyset pages, upserts, ids, timestamps,
per-user isolation of every method, cascading deletes, attachments and feedback."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chatkit.store import NotFoundError
from chatkit.types import Annotation as SourceAnnotation
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    Attachment,
    AttachmentCreateParams,
    ClientToolCallItem,
    CustomSummary,
    CustomTask,
    EndOfTurnItem,
    FileAttachment,
    HiddenContextItem,
    ImageAttachment,
    InferenceOptions,
    LockedStatus,
    Page,
    SDKHiddenContextItem,
    StructuredInputFreeform,
    StructuredInputItem,
    TaskItem,
    ThoughtTask,
    Thread,
    ThreadItem,
    ThreadMetadata,
    URLSource,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from chatkit.widgets import DynamicWidgetRoot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.db import SQLITE_BUSY_TIMEOUT_MS, create_engine
from backend.store import SqlStore
from backend.store.models import ATTACHMENTS, FEEDBACK, FILES, ITEMS, THREADS

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")
# Naive, as ChatKit stamps items (local time): what the store hands back (see backend.timestamps).
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901)
MAX_UPLOAD = 1024


@pytest.fixture
async def store(engine: AsyncEngine) -> SqlStore:
    """A store with its tables created."""
    links = AttachmentLinks("store-tests-secret-" + "x" * 32, "http://chat.test/")
    sql_store = SqlStore(engine, links=links, max_upload_bytes=MAX_UPLOAD)
    await sql_store.prepare()
    return sql_store


async def new_thread(
    store: SqlStore, context: RequestContext = ALICE, *, created_at: datetime = T0, title: str | None = None
) -> ThreadMetadata:
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=created_at, title=title)
    await store.save_thread(thread, context)
    return thread


def message(thread_id: str, text: str, created_at: datetime = T0, item_id: str | None = None) -> ThreadItem:
    return AssistantMessageItem(
        id=item_id or f"msg_{text}",
        thread_id=thread_id,
        created_at=created_at,
        content=[AssistantMessageContent(text=text)],
    )


def text_of(item: ThreadItem) -> str:
    assert isinstance(item, AssistantMessageItem)
    return item.content[0].text


async def walk(load: Callable[[str | None], Awaitable[Page[Any]]], limit: int) -> list[str]:
    """Every id, page by page, checking each page's `has_more` and `after` on the way."""
    ids: list[str] = []
    after: str | None = None
    while True:
        page = await load(after)
        assert len(page.data) <= limit
        ids += [row.id for row in page.data]
        if not page.has_more:
            assert page.after is None
            return ids
        assert len(page.data) == limit and page.after == page.data[-1].id
        after = page.after


def all_item_kinds(thread_id: str) -> list[ThreadItem]:
    at = [T0 + timedelta(seconds=second) for second in range(12)]
    attachment = FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain", thread_id=thread_id)
    widget = DynamicWidgetRoot.model_validate(
        {"type": "Card", "children": [{"type": "Text", "value": "Hello", "extra": {"x": 1}}]}
    )
    return [
        UserMessageItem(
            id="msg_user",
            thread_id=thread_id,
            created_at=at[0],
            content=[
                UserMessageTextContent(text="hi ✓"),
                UserMessageTagContent(id="tag", text="@x", data={"k": [1, 2]}),
            ],
            attachments=[attachment],
            quoted_text="quoted",
            inference_options=InferenceOptions(model="m"),
        ),
        AssistantMessageItem(
            id="msg_assistant",
            thread_id=thread_id,
            created_at=at[1],
            content=[
                AssistantMessageContent(
                    text="see source",
                    annotations=[
                        SourceAnnotation(source=URLSource(title="t", url="https://x.test"), index=3)
                    ],
                )
            ],
        ),
        WidgetItem(id="msg_widget", thread_id=thread_id, created_at=at[2], widget=widget, copy_text="Hello"),
        SDKHiddenContextItem(id="shcx_1", thread_id=thread_id, created_at=at[3], content="cancelled"),
        HiddenContextItem(id="msg_hidden", thread_id=thread_id, created_at=at[4], content={"a": [1, None]}),
        ClientToolCallItem(
            id="tc_1",
            thread_id=thread_id,
            created_at=at[5],
            call_id="call_1",
            name="pick",
            arguments={"n": 1},
            output={"ok": True},
            status="completed",
        ),
        WorkflowItem(
            id="wf_1",
            thread_id=thread_id,
            created_at=at[6],
            workflow=Workflow(
                type="custom",
                tasks=[CustomTask(title="step", content="done"), ThoughtTask(content="hmm")],
                summary=CustomSummary(title="Summary"),
                expanded=True,
            ),
        ),
        TaskItem(id="tsk_1", thread_id=thread_id, created_at=at[7], task=CustomTask(title="task")),
        StructuredInputItem(
            id="msg_question",
            thread_id=thread_id,
            created_at=at[8],
            inputs=[StructuredInputFreeform(id="q", question="Why?")],
        ),
        EndOfTurnItem(id="msg_end", thread_id=thread_id, created_at=at[9]),
    ]


# -- round trips ----------------------------------------------------------------------------------


async def test_thread_round_trips(store: SqlStore) -> None:
    """Every metadata field comes back; timestamps as naive local time."""
    thread = ThreadMetadata(
        id="thr_1",
        title="Title ✓",
        created_at=T0,
        status=LockedStatus(reason="why"),
        allowed_image_domains=["img.test"],
        metadata={"k": {"nested": [1, "two"]}},
    )
    await store.save_thread(thread, ALICE)
    loaded = await store.load_thread("thr_1", ALICE)
    assert loaded == thread
    assert loaded.created_at.tzinfo is None


async def test_every_item_kind_round_trips(store: SqlStore) -> None:
    """Each item type comes back as the same JSON, by id and in a page."""
    thread = await new_thread(store)
    items = all_item_kinds(thread.id)
    for item in items:
        await store.add_thread_item(thread.id, item, ALICE)
    for item in items:
        loaded = await store.load_item(thread.id, item.id, ALICE)
        assert type(loaded) is type(item)
        assert loaded.model_dump(mode="json") == item.model_dump(mode="json")
        assert loaded.created_at.tzinfo is None
    page = await store.load_thread_items(thread.id, None, 100, "asc", ALICE)
    assert [i.model_dump(mode="json") for i in page.data] == [i.model_dump(mode="json") for i in items]


async def test_widgets_read_again_are_fresh_copies_and_follow_replacements(store: SqlStore) -> None:
    """A widget read twice (parsed once) comes back equal; changing what was loaded changes nothing
    stored; a replaced widget (same id, new tree) is read as the new one."""
    thread = await new_thread(store)
    card = lambda text: DynamicWidgetRoot.model_validate(  # noqa: E731
        {"type": "Card", "children": [{"type": "Text", "value": text}]}
    )
    await store.add_thread_item(
        thread.id, WidgetItem(id="msg_w", thread_id=thread.id, created_at=T0, widget=card("v1")), ALICE
    )
    first = await store.load_item(thread.id, "msg_w", ALICE)
    first.copy_text = "changed by a caller"
    first.created_at = T0 + timedelta(days=9)
    again = await store.load_item(thread.id, "msg_w", ALICE)
    assert again is not first and again.copy_text is None and again.created_at == T0
    assert again.model_dump(mode="json") == (
        await store.load_thread_items(thread.id, None, 5, "asc", ALICE)
    ).data[0].model_dump(mode="json")
    await store.save_item(
        thread.id, WidgetItem(id="msg_w", thread_id=thread.id, created_at=T0, widget=card("v2")), ALICE
    )
    replaced = await store.load_item(thread.id, "msg_w", ALICE)
    assert isinstance(replaced, WidgetItem) and "v2" in replaced.widget.model_dump_json()
    assert "v1" not in replaced.widget.model_dump_json()


async def test_items_read_again_are_unchanged_by_what_callers_did_to_earlier_copies(store: SqlStore) -> None:
    """Parsed items are reused between loads: a caller setting fields on what it loaded, or (for a
    workflow, as the SDK does when it continues one) changing it in depth, changes no later load."""
    thread = await new_thread(store)
    workflow = WorkflowItem(
        id="wf_open",
        thread_id=thread.id,
        created_at=T0,
        workflow=Workflow(type="custom", tasks=[CustomTask(title="step 1")], expanded=True),
    )
    await store.add_thread_item(thread.id, message(thread.id, "hello"), ALICE)
    await store.add_thread_item(thread.id, workflow, ALICE)
    for _ in range(2):
        reply, flow = (await store.load_thread_items(thread.id, None, 10, "asc", ALICE)).data
        assert isinstance(reply, AssistantMessageItem) and isinstance(flow, WorkflowItem)
        assert text_of(reply) == "hello" and reply.created_at == T0
        assert flow.model_dump(mode="json") == workflow.model_dump(mode="json")
        reply.content = [AssistantMessageContent(text="changed")]
        reply.created_at = T0 + timedelta(days=1)
        flow.workflow.tasks.append(CustomTask(title="step 2"))
        flow.workflow.expanded = False
    assert text_of(await store.load_item(thread.id, "msg_hello", ALICE)) == "hello"
    with pytest.raises(NotFoundError):  # reuse never skips the owner check
        await store.load_item(thread.id, "msg_hello", BOB)


async def test_sdk_positional_calls(store: SqlStore) -> None:
    """The SDK calls `load_thread_items(thread.id, None, 1, "desc", context)` positionally."""
    thread = await new_thread(store)
    for second in range(3):
        await store.add_thread_item(
            thread.id, message(thread.id, f"m{second}", T0 + timedelta(seconds=second)), ALICE
        )
    page = await store.load_thread_items(thread.id, None, 1, "desc", ALICE)
    assert [text_of(item) for item in page.data] == ["m2"] and page.has_more and page.after == "msg_m2"
    threads = await store.load_threads(10, None, "desc", ALICE)
    assert [t.id for t in threads.data] == [thread.id] and not threads.has_more and threads.after is None


# -- keyset pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 7, 25, 26, 100])
async def test_thread_pages_follow_created_at_then_insertion(store: SqlStore, limit: int) -> None:
    """Threads with equal creation times keep a total order: every page walk sees each once."""
    expected = []
    for index in range(25):
        created_at = T0 + timedelta(seconds=(index * 7) % 4)  # four distinct times, many ties
        thread = await new_thread(store, created_at=created_at)
        expected.append((created_at, index, thread.id))
    await new_thread(store, BOB)
    ascending = [thread_id for _, _, thread_id in sorted(expected)]

    async def page(after: str | None, order: str) -> Page[ThreadMetadata]:
        return await store.load_threads(limit, after, order, ALICE)

    assert await walk(lambda after: page(after, "asc"), limit) == ascending
    assert await walk(lambda after: page(after, "desc"), limit) == ascending[::-1]


@pytest.mark.parametrize("limit", [1, 4, 10, 37, 100])
async def test_item_pages_follow_created_at_then_insertion(store: SqlStore, limit: int) -> None:
    """Items with equal creation times keep a total order in both directions; other threads stay out."""
    thread = await new_thread(store)
    other = await new_thread(store)
    expected = []
    for index in range(37):
        created_at = T0 + timedelta(milliseconds=(index * 3) % 5)
        item = message(thread.id, f"m{index}", created_at)
        await store.add_thread_item(thread.id, item, ALICE)
        await store.add_thread_item(other.id, message(other.id, f"o{index}", created_at), ALICE)
        expected.append((created_at, index, item.id))
    ascending = [item_id for _, _, item_id in sorted(expected)]

    async def page(after: str | None, order: str) -> Page[ThreadItem]:
        return await store.load_thread_items(thread.id, after, limit, order, ALICE)

    assert await walk(lambda after: page(after, "asc"), limit) == ascending
    assert await walk(lambda after: page(after, "desc"), limit) == ascending[::-1]
    # A cursor in the middle continues strictly after it, in either direction.
    middle = ascending[17]
    assert [i.id for i in (await page(middle, "asc")).data][:2] == ascending[18:20][:limit]
    assert [i.id for i in (await page(middle, "desc")).data][:2] == ascending[16:14:-1][:limit]


async def test_empty_pages(store: SqlStore) -> None:
    """No rows: an empty page without a cursor; the last row as cursor: an empty page too."""
    assert await store.load_threads(5, None, "asc", ALICE) == Page(data=[], has_more=False, after=None)
    thread = await new_thread(store)
    assert (await store.load_thread_items(thread.id, None, 5, "asc", ALICE)).data == []
    await store.add_thread_item(thread.id, message(thread.id, "only"), ALICE)
    assert (await store.load_thread_items(thread.id, "msg_only", 5, "asc", ALICE)).data == []
    assert (await store.load_threads(5, thread.id, "desc", ALICE)).data == []


async def test_walks_a_10k_item_thread(store: SqlStore) -> None:
    """A 10,000-item thread is walked page by page in both orders, in order, without gaps."""
    thread = await new_thread(store)
    count, started = 10_000, time.perf_counter()
    ids = [f"msg_{index:05d}" for index in range(count)]
    for index, item_id in enumerate(ids):  # equal times in runs of ten
        item = message(thread.id, str(index), T0 + timedelta(seconds=index // 10), item_id)
        await store.add_thread_item(thread.id, item, ALICE)
    inserted = time.perf_counter() - started

    async def page(after: str | None, order: str) -> Page[ThreadItem]:
        return await store.load_thread_items(thread.id, after, 100, order, ALICE)

    started = time.perf_counter()
    assert await walk(lambda after: page(after, "asc"), 100) == ids
    assert await walk(lambda after: page(after, "desc"), 100) == ids[::-1]
    walked = time.perf_counter() - started
    print(f"10k items: inserted in {inserted:.1f} s, walked 2 x 100 pages in {walked:.2f} s")


async def test_unknown_cursor_is_not_found(store: SqlStore) -> None:
    """A cursor that is not a row of this user (or of this thread) is `NotFoundError`."""
    thread = await new_thread(store)
    other = await new_thread(store)
    await store.add_thread_item(thread.id, message(thread.id, "a"), ALICE)
    await store.add_thread_item(other.id, message(other.id, "b"), ALICE)
    with pytest.raises(NotFoundError):
        await store.load_threads(10, "thr_missing", "desc", ALICE)
    for cursor in ("msg_missing", "msg_b"):  # unknown, and an item of another thread
        with pytest.raises(NotFoundError):
            await store.load_thread_items(thread.id, cursor, 10, "asc", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_missing", None, 10, "asc", ALICE)


async def test_bad_page_arguments(store: SqlStore) -> None:
    thread = await new_thread(store)
    with pytest.raises(ValueError, match="limit"):
        await store.load_thread_items(thread.id, None, 0, "asc", ALICE)
    with pytest.raises(ValueError, match="order"):
        await store.load_threads(10, None, "sideways", ALICE)


# -- upserts --------------------------------------------------------------------------------------


async def count(store: SqlStore, table: Any, *conditions: Any) -> int:
    async with store.engine.connect() as connection:
        return (
            await connection.execute(select(func.count()).select_from(table).where(*conditions))
        ).scalar_one()


@pytest.mark.parametrize("method", ["add_thread_item", "save_item"])
async def test_item_upsert_keeps_position_and_takes_latest_content(store: SqlStore, method: str) -> None:
    """Saving an item again updates it in place: one row, the new content, the old position."""
    thread = await new_thread(store)
    for index, name in enumerate("abc"):
        await store.add_thread_item(thread.id, message(thread.id, name, T0 + timedelta(seconds=index)), ALICE)
    again = message(thread.id, "a-edited", T0 + timedelta(hours=1), item_id="msg_a")
    await getattr(store, method)(thread.id, again, ALICE)
    page = await store.load_thread_items(thread.id, None, 10, "asc", ALICE)
    assert [(i.id, text_of(i)) for i in page.data] == [("msg_a", "a-edited"), ("msg_b", "b"), ("msg_c", "c")]
    assert page.data[0].created_at == T0
    assert await count(store, ITEMS, ITEMS.c.id == "msg_a") == 1


async def test_concurrent_upserts_of_one_item_keep_one_row(store: SqlStore) -> None:
    thread = await new_thread(store)
    await asyncio.gather(
        *(
            store.add_thread_item(thread.id, message(thread.id, f"v{n}", item_id="msg_x"), ALICE)
            for n in range(12)
        )
    )
    assert await count(store, ITEMS, ITEMS.c.thread_id == thread.id) == 1


async def test_save_thread_upserts_in_place(store: SqlStore) -> None:
    """A renamed thread keeps its creation time and its place in the list."""
    first = await new_thread(store, created_at=T0)
    second = await new_thread(store, created_at=T0 + timedelta(seconds=1))
    renamed = first.model_copy(update={"title": "Renamed", "created_at": T0 + timedelta(days=1)})
    await store.save_thread(renamed, ALICE)
    page = await store.load_threads(10, None, "asc", ALICE)
    assert [(t.id, t.title) for t in page.data] == [(first.id, "Renamed"), (second.id, None)]
    assert page.data[0].created_at == T0
    assert await count(store, THREADS) == 2


async def test_save_thread_never_stores_items(store: SqlStore) -> None:
    """`save_thread` may get a `Thread` with items: only its metadata is kept."""
    thread = Thread(id="thr_full", created_at=T0, title="t", items=Page(data=[message("thr_full", "x")]))
    await store.save_thread(thread, ALICE)
    loaded = await store.load_thread("thr_full", ALICE)
    assert type(loaded) is ThreadMetadata and loaded.title == "t"
    assert (await store.load_thread_items("thr_full", None, 10, "asc", ALICE)).data == []
    assert await count(store, ITEMS) == 0
    async with store.engine.connect() as connection:
        data = (await connection.execute(select(THREADS.c.data))).scalar_one()
    assert "items" not in data


# -- ids and time ---------------------------------------------------------------------------------


async def test_ids_have_sdk_prefixes_and_128_random_bits(store: SqlStore) -> None:
    thread = await new_thread(store)
    ids = {store.generate_thread_id(ALICE) for _ in range(1000)}
    assert len(ids) == 1000 and all(re.fullmatch(r"thr_[0-9a-f]{32}", i) for i in ids)
    for kind, prefix in [("message", "msg"), ("tool_call", "tc"), ("workflow", "wf"), ("task", "tsk")]:
        assert re.fullmatch(prefix + r"_[0-9a-f]{32}", store.generate_item_id(kind, thread, ALICE))  # type: ignore[arg-type]
    assert re.fullmatch(r"shcx_[0-9a-f]{32}", store.generate_item_id("sdk_hidden_context", thread, ALICE))
    assert re.fullmatch(r"atc_[0-9a-f]{32}", store.generate_attachment_id("text/plain", ALICE))


@pytest.fixture
def local_time_is_not_utc() -> Iterator[None]:
    """Run with the process's local time zone at UTC+05:30, so naive-as-local differs from naive-as-UTC."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "IST-5:30"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


@pytest.mark.usefixtures("local_time_is_not_utc")
async def test_times_are_stored_as_utc_and_come_back_as_naive_local_time(
    store: SqlStore, engine: AsyncEngine
) -> None:
    """ChatKit's naive `datetime.now()` is local time: stored as that instant in UTC, and handed back
    as naive local time (the SDK subtracts loaded times from `datetime.now()`); an aware time in any
    zone comes back as the same instant."""
    naive = datetime(2026, 3, 4, 12, 0, 0, 123456)
    instant = datetime(2026, 3, 4, 6, 30, 0, 123456, tzinfo=UTC)
    assert naive.astimezone() == instant  # the fixture took effect
    thread = ThreadMetadata(id="thr_tz", created_at=naive)
    await store.save_thread(thread, ALICE)
    await store.add_thread_item(thread.id, message(thread.id, "naive", naive), ALICE)
    plus_two = instant.astimezone(timezone(timedelta(hours=2)))
    await store.add_thread_item(thread.id, message(thread.id, "aware", plus_two), ALICE)
    loaded_thread = await store.load_thread(thread.id, ALICE)
    items = (await store.load_thread_items(thread.id, None, 10, "asc", ALICE)).data
    for moment in [loaded_thread.created_at, *(item.created_at for item in items)]:
        assert moment == naive and moment.tzinfo is None
    assert (await store.load_threads(10, None, "asc", ALICE)).data[0].created_at == naive
    loaded = await store.load_item(thread.id, "msg_naive", ALICE)
    assert (datetime.now() - loaded.created_at).total_seconds() > 0  # the SDK's arithmetic works
    async with engine.connect() as connection:
        stored = (
            await connection.execute(select(ITEMS.c.created_at).where(ITEMS.c.id == "msg_naive"))
        ).scalar()
    assert stored is not None and stored.replace(tzinfo=stored.tzinfo or UTC) == instant  # UTC on disk


# -- isolation ------------------------------------------------------------------------------------


@dataclass
class World:
    """Alice's thread, item, attachment (uploaded, in the thread) and feedback; Bob's own thread."""

    store: SqlStore
    thread: ThreadMetadata
    item: ThreadItem
    attachment: Attachment
    bob_thread: ThreadMetadata

    async def alice_snapshot(self) -> tuple[Any, ...]:
        store, thread_id = self.store, self.thread.id
        return (
            await store.load_thread(thread_id, ALICE),
            (await store.load_thread_items(thread_id, None, 100, "asc", ALICE)).data,
            await store.load_attachment(self.attachment.id, ALICE),
            await store.load_upload(self.attachment.id, ALICE),
            await store.load_feedback(thread_id, ALICE),
            (await store.load_threads(100, None, "asc", ALICE)).data,
        )


async def make_world(store: SqlStore) -> World:
    thread = await new_thread(store, title="Alice's")
    item = message(thread.id, "secret")
    await store.add_thread_item(thread.id, item, ALICE)
    attachment = await store.create_attachment(
        AttachmentCreateParams(name="a.txt", size=3, mime_type="text/plain"), ALICE
    )
    await store.save_attachment(attachment, ALICE)
    attachment = await store.save_upload(attachment.id, b"abc", ALICE)
    attachment = attachment.model_copy(update={"thread_id": thread.id})
    await store.save_attachment(attachment, ALICE)
    await store.save_feedback(thread.id, [item.id], "positive", ALICE)
    bob_thread = await new_thread(store, BOB, title="Bob's")
    return World(store, thread, item, attachment, bob_thread)


ATTACKS: dict[str, Callable[[World], Awaitable[Any]]] = {
    "load_thread": lambda w: w.store.load_thread(w.thread.id, BOB),
    "save_thread": lambda w: w.store.save_thread(w.thread.model_copy(update={"title": "pwned"}), BOB),
    "delete_thread": lambda w: w.store.delete_thread(w.thread.id, BOB),
    "load_threads_after": lambda w: w.store.load_threads(10, w.thread.id, "asc", BOB),
    "load_thread_items": lambda w: w.store.load_thread_items(w.thread.id, None, 10, "asc", BOB),
    "load_thread_items_after": lambda w: w.store.load_thread_items(
        w.bob_thread.id, w.item.id, 10, "asc", BOB
    ),
    "load_item": lambda w: w.store.load_item(w.thread.id, w.item.id, BOB),
    "add_thread_item": lambda w: w.store.add_thread_item(w.thread.id, message(w.thread.id, "bob"), BOB),
    "save_item": lambda w: w.store.save_item(
        w.thread.id, message(w.thread.id, "pwned", item_id=w.item.id), BOB
    ),
    "save_item_over_into_own_thread": lambda w: w.store.save_item(
        w.bob_thread.id, message(w.bob_thread.id, "pwned", item_id=w.item.id), BOB
    ),
    "delete_thread_item": lambda w: w.store.delete_thread_item(w.thread.id, w.item.id, BOB),
    "load_attachment": lambda w: w.store.load_attachment(w.attachment.id, BOB),
    "save_attachment": lambda w: w.store.save_attachment(
        w.attachment.model_copy(update={"name": "pwned"}), BOB
    ),
    "save_attachment_into_their_thread": lambda w: w.store.save_attachment(
        FileAttachment(id="atc_bob", name="b", mime_type="text/plain", thread_id=w.thread.id), BOB
    ),
    "delete_attachment": lambda w: w.store.delete_attachment(w.attachment.id, BOB),
    "save_upload": lambda w: w.store.save_upload(w.attachment.id, b"pwned", BOB),
    "load_upload": lambda w: w.store.load_upload(w.attachment.id, BOB),
    "save_feedback": lambda w: w.store.save_feedback(w.thread.id, [w.item.id], "negative", BOB),
    "save_feedback_via_own_thread": lambda w: w.store.save_feedback(
        w.bob_thread.id, [w.item.id], "negative", BOB
    ),
    "save_feedback_no_items": lambda w: w.store.save_feedback(w.thread.id, [], "negative", BOB),
    "load_feedback": lambda w: w.store.load_feedback(w.thread.id, BOB),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_another_users_objects_are_not_found(store: SqlStore, attack: str) -> None:
    """Bob reaching for Alice's thread, item or attachment gets `NotFoundError`; nothing of hers changes."""
    world = await make_world(store)
    before = await world.alice_snapshot()
    with pytest.raises(NotFoundError):
        await ATTACKS[attack](world)
    assert await world.alice_snapshot() == before
    bob_threads = await store.load_threads(100, None, "asc", BOB)
    assert [t.id for t in bob_threads.data] == [world.bob_thread.id]


# -- deletes --------------------------------------------------------------------------------------


async def test_delete_thread_cascades(store: SqlStore) -> None:
    """Deleting a thread removes its items, feedback, attachments and their bytes, and nothing else."""
    world = await make_world(store)
    keep = await new_thread(store)
    await store.add_thread_item(keep.id, message(keep.id, "kept"), ALICE)
    await store.save_feedback(keep.id, ["msg_kept"], "negative", ALICE)
    loose = await store.create_attachment(
        AttachmentCreateParams(name="l.png", size=1, mime_type="image/png"), ALICE
    )
    await store.save_attachment(loose, ALICE)
    await store.save_upload(loose.id, b"\x89PNG", ALICE)

    await store.delete_thread(world.thread.id, ALICE)

    with pytest.raises(NotFoundError):
        await store.load_thread(world.thread.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment(world.attachment.id, ALICE)
    assert await count(store, ITEMS, ITEMS.c.thread_id == world.thread.id) == 0
    assert await count(store, FEEDBACK, FEEDBACK.c.thread_id == world.thread.id) == 0
    assert await count(store, ATTACHMENTS, ATTACHMENTS.c.thread_id == world.thread.id) == 0
    assert await count(store, FILES, FILES.c.attachment_id == world.attachment.id) == 0
    assert await store.load_feedback(keep.id, ALICE) == {"msg_kept": "negative"}
    assert (await store.load_upload(loose.id, ALICE))[1] == b"\x89PNG"
    assert [t.id for t in (await store.load_threads(10, None, "asc", BOB)).data] == [world.bob_thread.id]
    with pytest.raises(NotFoundError):
        await store.delete_thread(world.thread.id, ALICE)


async def test_delete_thread_item_removes_its_feedback(store: SqlStore) -> None:
    world = await make_world(store)
    await store.delete_thread_item(world.thread.id, world.item.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_item(world.thread.id, world.item.id, ALICE)
    assert await store.load_feedback(world.thread.id, ALICE) == {}
    with pytest.raises(NotFoundError):
        await store.delete_thread_item(world.thread.id, world.item.id, ALICE)


async def test_delete_attachment_removes_its_bytes(store: SqlStore) -> None:
    world = await make_world(store)
    await store.delete_attachment(world.attachment.id, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment(world.attachment.id, ALICE)
    assert await count(store, FILES) == 0
    with pytest.raises(NotFoundError):
        await store.delete_attachment(world.attachment.id, ALICE)


# -- attachments ----------------------------------------------------------------------------------


async def test_create_attachment_describes_the_upload_without_saving(store: SqlStore) -> None:
    image = await store.create_attachment(
        AttachmentCreateParams(name="p.png", size=10, mime_type="image/png"), ALICE
    )
    assert isinstance(image, ImageAttachment) and re.fullmatch(r"atc_[0-9a-f]{32}", image.id)
    assert image.upload_descriptor is not None and image.upload_descriptor.method == "POST"
    upload = urlsplit(str(image.upload_descriptor.url))
    assert upload[:3] == ("http", "chat.test", f"/chatkit/upload/{image.id}")
    assert store.links.verify(parse_qs(upload.query)["token"][0], image.id, "upload") == ALICE.user_id
    assert image.preview_url is not None
    preview = urlsplit(str(image.preview_url))
    assert preview[:3] == ("http", "chat.test", f"/chatkit/attachments/{image.id}")
    assert store.links.verify(parse_qs(preview.query)["token"][0], image.id, "download") == ALICE.user_id
    file = await store.create_attachment(
        AttachmentCreateParams(name="r.pdf", size=MAX_UPLOAD, mime_type="application/pdf"), ALICE
    )
    assert type(file) is FileAttachment and file.name == "r.pdf" and file.thread_id is None
    with pytest.raises(NotFoundError):
        await store.load_attachment(image.id, ALICE)


@pytest.mark.parametrize(
    ("name", "size", "mime_type", "message"),
    [
        ("a.txt", 0, "text/plain", "empty"),
        ("a.txt", -5, "text/plain", "empty"),
        ("a.txt", MAX_UPLOAD + 1, "text/plain", "too large"),
        ("", 3, "text/plain", "name"),
        ("   ", 3, "text/plain", "name"),
        ("a.txt", 3, "", "MIME"),
        ("a.txt", 3, "plain", "MIME"),
    ],
)
async def test_create_attachment_validates(
    store: SqlStore, name: str, size: int, mime_type: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await store.create_attachment(
            AttachmentCreateParams(name=name, size=size, mime_type=mime_type), ALICE
        )


async def test_upload_round_trip_and_checks(store: SqlStore) -> None:
    """Uploaded bytes are kept, the upload descriptor is cleared, and bad uploads are refused."""
    created = await store.create_attachment(
        AttachmentCreateParams(name="p.png", size=4, mime_type="image/png"), ALICE
    )
    await store.save_attachment(created, ALICE)
    with pytest.raises(NotFoundError):
        await store.load_upload(created.id, ALICE)  # nothing uploaded yet
    for content, mime_type, problem in [
        (b"", None, "empty"),
        (b"x" * (MAX_UPLOAD + 1), None, "too large"),
        (b"abcd", "text/html", "declared"),
    ]:
        with pytest.raises(ValueError, match=problem):
            await store.save_upload(created.id, content, ALICE, mime_type=mime_type)
    uploaded = await store.save_upload(created.id, b"\x89PNG", ALICE, mime_type="image/png")
    assert uploaded.upload_descriptor is None
    assert await store.load_attachment(created.id, ALICE) == uploaded
    assert await store.load_upload(created.id, ALICE) == (uploaded, b"\x89PNG")
    await store.save_attachment(
        uploaded.model_copy(update={"thread_id": (await new_thread(store)).id}), ALICE
    )
    with pytest.raises(ValueError, match="already part of a message"):
        await store.save_upload(created.id, b"new", ALICE)


# -- feedback -------------------------------------------------------------------------------------


async def test_feedback_upserts_per_item(store: SqlStore) -> None:
    thread = await new_thread(store)
    for name in "abc":
        await store.add_thread_item(thread.id, message(thread.id, name), ALICE)
    await store.save_feedback(thread.id, ["msg_a", "msg_b", "msg_a"], "positive", ALICE)
    await store.save_feedback(thread.id, ["msg_b"], "negative", ALICE)
    await store.save_feedback(thread.id, [], "negative", ALICE)
    assert await store.load_feedback(thread.id, ALICE) == {"msg_a": "positive", "msg_b": "negative"}
    assert await count(store, FEEDBACK) == 2


async def test_feedback_on_a_missing_item_saves_nothing(store: SqlStore) -> None:
    thread = await new_thread(store)
    await store.add_thread_item(thread.id, message(thread.id, "a"), ALICE)
    with pytest.raises(NotFoundError):
        await store.save_feedback(thread.id, ["msg_a", "msg_missing"], "positive", ALICE)
    assert await store.load_feedback(thread.id, ALICE) == {}


# -- lifecycle ------------------------------------------------------------------------------------


async def test_prepare_is_idempotent_and_ping_answers(store: SqlStore) -> None:
    await store.prepare()
    await store.ping()


async def test_sqlite_engine_settings(tmp_path) -> None:
    """`backend.db.create_engine` makes the directory and turns on WAL, the busy timeout and foreign keys."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'dir' / 'chat.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
            ]
        assert pragmas == ["wal", SQLITE_BUSY_TIMEOUT_MS, 1, 1]
        await SqlStore(engine, links=AttachmentLinks("s" * 40, "http://chat.test")).ping()
    finally:
        await engine.dispose()
