"""Paused runs and approvals in the Store, on SQLite and Postgres: decided once, claimed once (also
when decisions race), scoped by owner, gone with their thread."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from chatkit.types import ThreadMetadata
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.store import SqlStore
from backend.store.approvals import Approval

ALICE, BOB = RequestContext(user_id="alice"), RequestContext(user_id="bob")


@pytest.fixture
async def store(engine: AsyncEngine) -> SqlStore:
    sql_store = SqlStore(
        engine, links=AttachmentLinks("approvals-tests-secret-" + "x" * 32, "http://chat.test/")
    )
    await sql_store.prepare()
    return sql_store


async def paused(
    store: SqlStore, calls: int = 1, context: RequestContext = ALICE
) -> tuple[str, list[Approval]]:
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now())
    await store.save_thread(thread, context)
    run_id = f"run_{thread.id}"
    approvals = [
        Approval(
            id=f"apr_{thread.id}_{index}",
            thread_id=thread.id,
            run_id=run_id,
            item_id=f"msg_{index}",
            call_id=f"call_{index}",
            server="tasks",
            tool="delete_task",
            status="pending",
            created_at=datetime.now(),
        )
        for index in range(calls)
    ]
    assert await store.approvals.pause(
        run_id=run_id, thread_id=thread.id, state='{"s": 1}', approvals=approvals, context=context
    )
    return thread.id, approvals


async def test_a_decision_is_taken_once_and_the_run_claimed_once(store: SqlStore) -> None:
    _, (approval,) = await paused(store)
    settled = await store.approvals.settle(approval.id, "approved", ALICE)
    assert settled is not None and settled.status == "approved"
    assert await store.approvals.settle(approval.id, "rejected", ALICE) is None  # decided already
    claim = await store.approvals.claim_run(approval.run_id, ALICE)
    assert claim is not None and claim[0] == '{"s": 1}' and [a.status for a in claim[1]] == ["approved"]
    assert await store.approvals.claim_run(approval.run_id, ALICE) is None  # it resumes once


async def test_a_run_waits_for_all_its_calls(store: SqlStore) -> None:
    _, (first, second) = await paused(store, calls=2)
    await store.approvals.settle(first.id, "approved", ALICE)
    assert await store.approvals.claim_run(first.run_id, ALICE) is None  # the second is pending
    await store.approvals.settle(second.id, "rejected", ALICE)
    claim = await store.approvals.claim_run(first.run_id, ALICE)
    assert claim is not None and {a.call_id: a.status for a in claim[1]} == {
        "call_0": "approved",
        "call_1": "rejected",
    }


async def test_racing_decisions_resume_the_run_exactly_once(store: SqlStore) -> None:
    _, approvals = await paused(store, calls=2)

    async def decide(approval: Approval) -> bool:
        await store.approvals.settle(approval.id, "approved", ALICE)
        return await store.approvals.claim_run(approval.run_id, ALICE) is not None

    rounds = [sum(await asyncio.gather(*(decide(approval) for approval in approvals))) for _ in range(3)]
    assert rounds == [1, 0, 0]  # one of the two racing decisions resumes it; replays change nothing


async def test_approvals_belong_to_their_owner(store: SqlStore) -> None:
    thread_id, (approval,) = await paused(store)
    assert await store.approvals.load(approval.id, BOB) is None
    assert await store.approvals.settle(approval.id, "approved", BOB) is None
    assert await store.approvals.claim_run(approval.run_id, BOB) is None
    assert await store.approvals.expire_thread(thread_id, BOB) == []
    assert (await store.approvals.load(approval.id, ALICE)).status == "pending"  # type: ignore[union-attr]
    bobs_thread = ThreadMetadata(id=store.generate_thread_id(BOB), created_at=datetime.now())
    await store.save_thread(bobs_thread, BOB)
    assert not await store.approvals.pause(
        run_id="run_x", thread_id=thread_id, state="{}", approvals=[], context=BOB
    )


async def test_a_new_message_expires_what_is_pending_and_drops_the_run(store: SqlStore) -> None:
    thread_id, (first, second) = await paused(store, calls=2)
    await store.approvals.settle(first.id, "approved", ALICE)
    expired = await store.approvals.expire_thread(thread_id, ALICE)
    assert [approval.id for approval in expired] == [second.id]
    assert await store.approvals.claim_run(first.run_id, ALICE) is None  # the run is gone
    assert await store.approvals.expire_thread(thread_id, ALICE) == []


async def test_deleting_the_thread_deletes_its_approvals(store: SqlStore) -> None:
    thread_id, (approval,) = await paused(store)
    await store.delete_thread(thread_id, ALICE)
    assert await store.approvals.load(approval.id, ALICE) is None
    assert await store.approvals.claim_run(approval.run_id, ALICE) is None


async def test_a_decision_only_settles_a_request_of_its_thread_and_age(store: SqlStore) -> None:
    thread_id, (approval,) = await paused(store)
    other_thread, _ = await paused(store)
    assert await store.approvals.settle(approval.id, "approved", ALICE, thread_id=other_thread) is None
    future = datetime.now() + timedelta(minutes=1)  # as if it were older than the TTL
    assert await store.approvals.settle(approval.id, "approved", ALICE, created_after=future) is None
    past = datetime.now() - timedelta(minutes=1)
    settled = await store.approvals.settle(
        approval.id, "approved", ALICE, thread_id=thread_id, created_after=past
    )
    assert settled is not None and settled.status == "approved"
