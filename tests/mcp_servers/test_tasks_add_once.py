"""TaskRepository.add_once on SQLite and Postgres: one task per (owner, idempotency key), also for
calls made at the same time (the unique index decides), and the migration that adds the key to a
tasks database that already has rows."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_servers.tasks.migrations import HISTORY
from mcp_servers.tasks.models import Priority, TaskRow
from mcp_servers.tasks.repository import TaskRepository
from plumbing import migrations

KEY = "tcr_0123456789abcdef0123456789abcdef"


@pytest.fixture
async def repo(engine: AsyncEngine) -> TaskRepository:
    """A task repository with its tables created."""
    repository = TaskRepository(engine)
    await repository.prepare()
    return repository


async def rows(engine: AsyncEngine, owner: str) -> int:
    """How many tasks `owner` has, counted in the table itself."""
    async with engine.connect() as connection:
        count = select(func.count()).select_from(TaskRow).where(TaskRow.owner == owner)  # type: ignore[arg-type]
        return int((await connection.execute(count)).scalar_one())


async def test_a_key_stores_one_task_and_hands_it_back_after(
    repo: TaskRepository, engine: AsyncEngine
) -> None:
    first = await repo.add_once(owner="alice", key=KEY, title="Buy milk", priority=Priority.high)
    again = await repo.add_once(owner="alice", key=KEY, title="Buy milk", priority=Priority.high)
    assert first.created and not again.created
    assert again.task == first.task == await repo.get(owner="alice", task_id=first.task.id)
    assert await rows(engine, "alice") == 1
    other = await repo.add_once(owner="alice", key=KEY + "2", title="Buy milk")
    assert other.created and other.task.id != first.task.id
    assert await rows(engine, "alice") == 2


async def test_the_task_handed_back_is_the_one_stored_as_it_is_now(repo: TaskRepository) -> None:
    """The key names the call, not its arguments: the stored task comes back, edits included."""
    first = await repo.add_once(owner="alice", key=KEY, title="Buy milk")
    await repo.update(owner="alice", task_id=first.task.id, due_date=date(2026, 12, 24))
    again = await repo.add_once(owner="alice", key=KEY, title="Something else")
    assert (again.created, again.task.id, again.task.title, again.task.due_date) == (
        False,
        first.task.id,
        "Buy milk",
        date(2026, 12, 24),
    )


async def test_keys_are_scoped_by_owner(repo: TaskRepository, engine: AsyncEngine) -> None:
    alices = await repo.add_once(owner="alice", key=KEY, title="Alice's secret")
    bobs = await repo.add_once(owner="bob", key=KEY, title="Bob's errand")
    assert alices.created and bobs.created
    assert bobs.task.id != alices.task.id and bobs.task.title == "Bob's errand"
    assert [task.title for task in (await repo.list(owner="bob")).tasks] == ["Bob's errand"]
    assert await rows(engine, "alice") == await rows(engine, "bob") == 1


async def test_tasks_without_a_key_never_collide(repo: TaskRepository, engine: AsyncEngine) -> None:
    """NULL keys are distinct in the unique index, on both databases."""
    for _ in range(3):
        await repo.add(owner="alice", title="Water the plants")
    assert await rows(engine, "alice") == 3


async def test_calls_with_one_key_at_the_same_time_store_one_task(
    repo: TaskRepository, engine: AsyncEngine
) -> None:
    """The race the unique index settles: every call gets the same task, one of them created it."""
    results = await asyncio.gather(
        *(repo.add_once(owner="alice", key=KEY, title="Buy milk") for _ in range(8))
    )
    assert {result.task.id for result in results} == {results[0].task.id}
    assert sum(result.created for result in results) == 1
    assert await rows(engine, "alice") == 1


def history_up_to_baseline(directory: Path) -> migrations.History:
    """A copy of the tasks history with only its first revision (the database as it was)."""
    package, folder = HISTORY.script_location.split(":")
    source = Path(sys.modules[package].__file__ or "").parent / folder
    copy = directory / "migrations"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for revision in (copy / "versions").glob("*.py"):
        if revision.name not in ("__init__.py",) and not revision.name.startswith("0001_"):
            revision.unlink()
    return dataclasses.replace(HISTORY, script_location=str(copy))


async def test_the_key_migration_keeps_the_rows_and_the_word_search(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """A database at revision 0001 with tasks: upgraded, its rows stay (without a key), and old
    and new tasks are found by their words (on SQLite the table is not copied: the triggers stay)."""
    old = history_up_to_baseline(tmp_path)
    assert (await migrations.upgrade(engine, old)).after == "0001"
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO tasks (id, owner, title, description, priority, status, created_at, "
                "updated_at) VALUES ('task_old000000001', 'alice', 'Renew the passport', '', "
                "'medium', 'pending', :now, :now)"
            ),
            {"now": now},
        )
    upgraded = await migrations.upgrade(engine, HISTORY)
    assert (upgraded.before, upgraded.after) == ("0001", migrations.head_revision(HISTORY))
    repository = TaskRepository(engine)
    assert await repository.prepare(migrate=False) is None  # current
    added = await repository.add_once(owner="alice", key=KEY, title="Renew the driving licence")
    assert not (await repository.add_once(owner="alice", key=KEY, title="Renew the driving licence")).created
    page = await repository.list(owner="alice", query="renew")
    assert [task.id for task in page.tasks] == [added.task.id, "task_old000000001"]
