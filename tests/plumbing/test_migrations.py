"""Migrations of the three stores (chat, tasks, items) on SQLite and Postgres: a new database is
created at the newest revision and matches the models exactly (autogenerate finds nothing to do);
one made before migrations is adopted with every row; `migrate` is idempotent, safe from several
processes at once, and a process told not to migrate refuses a database that is not current."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    AttachmentCreateParams,
    ThreadMetadata,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.db import create_engine as create_chat_engine
from backend.store import SqlStore
from backend.store.approvals import Approval
from backend.store.migrations import HISTORY as CHAT
from backend.store.models import TABLES
from mcp_servers.common.db import create_engine
from mcp_servers.items.catalog import load_catalog
from mcp_servers.items.migrations import HISTORY as ITEMS
from mcp_servers.items.models import ItemRow
from mcp_servers.items.repository import ItemRepository, SearchFilters
from mcp_servers.tasks.migrations import HISTORY as TASKS
from mcp_servers.tasks.models import TaskRow, TaskStatus
from mcp_servers.tasks.repository import TaskRepository
from plumbing import migrations
from plumbing.migrations import History, SchemaOutOfDate
from shared_widgets.state import WidgetState
from tests.conftest import fresh_postgres_database
from tests.plumbing import legacy_schema

ALICE, BOB = RequestContext(user_id="alice"), RequestContext(user_id="bob")
BIN = Path(sys.executable).parent
LINKS = AttachmentLinks("migration-tests-secret-" + "x" * 32, "http://chat.test/")
STORES: dict[str, tuple[History, Any]] = {
    "chat": (CHAT, TABLES),
    "tasks": (TASKS, [TaskRow.__table__]),  # type: ignore[attr-defined]
    "items": (ITEMS, [ItemRow.__table__]),  # type: ignore[attr-defined]
}
COMMANDS = {"chat": "chatkit-backend", "tasks": "tasks-mcp", "items": "items-mcp"}
VARIABLES = {"chat": "DATABASE_URL", "tasks": "TASKS_DATABASE_URL", "items": "ITEMS_DATABASE_URL"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or a new database on the local Postgres."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        return
    async with fresh_postgres_database() as postgres_url:
        yield postgres_url


def engine_for(store: str, url: str) -> AsyncEngine:
    """The engine the store's own process would use."""
    return create_chat_engine(url) if store == "chat" else create_engine(url)


async def differences(engine: AsyncEngine, store: str) -> list[Any]:
    history, tables = STORES[store]
    metadata = migrations.store_metadata(tables)
    async with engine.connect() as connection:
        return await connection.run_sync(migrations.differences, history, metadata)  # type: ignore[no-any-return]


async def revision(engine: AsyncEngine, history: History) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(migrations.current_revision, history)  # type: ignore[no-any-return]


@pytest.mark.parametrize("store", ["chat", "tasks", "items"])
async def test_a_new_database_is_created_at_the_head_and_matches_the_models(url: str, store: str) -> None:
    history, _ = STORES[store]
    engine = engine_for(store, url)
    try:
        created = await migrations.upgrade(engine, history)
        assert (created.before, created.after, created.adopted) == (
            None,
            migrations.head_revision(history),
            False,
        )
        assert str(created) == f"{store} database: created at revision {created.after}"
        assert await differences(engine, store) == []  # what autogenerate would write: nothing
        again = await migrations.upgrade(engine, history)
        assert again.before == again.after == created.after and "nothing to do" in str(again)
        await migrations.ensure_current(engine, history)
    finally:
        await engine.dispose()


async def test_the_three_stores_share_one_database_each_with_its_own_version(url: str) -> None:
    """Version tables are per store: on one database each history keeps its own revision."""
    engines = {store: engine_for(store, url) for store in STORES}
    try:
        for store, (history, _) in STORES.items():
            assert (await migrations.upgrade(engines[store], history)).before is None
        for store, (history, _) in STORES.items():
            assert await revision(engines[store], history) == migrations.head_revision(history)
            assert await differences(engines[store], store) == []
    finally:
        for engine in engines.values():
            await engine.dispose()


async def fill_chat(store: SqlStore) -> None:
    """A row in every table of the chat store, through the store itself."""
    for context in (ALICE, BOB):
        thread = ThreadMetadata(
            id=store.generate_thread_id(context), created_at=datetime(2026, 3, 4, 5, 6, 7)
        )
        thread.title = f"{context.user_id}'s thread"
        await store.save_thread(thread, context)
        for index in range(3):
            item = AssistantMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime(2026, 3, 4, 5, 6, 8 + index),
                content=[AssistantMessageContent(text=f"reply {index} for {context.user_id} ✓")],
            )
            await store.add_thread_item(thread.id, item, context)
        await store.save_feedback(thread.id, [item.id], "positive", context)
        attachment = await store.create_attachment(
            AttachmentCreateParams(name="notes.txt", size=5, mime_type="text/plain"), context
        )
        await store.save_attachment(attachment, context)
        await store.save_upload(attachment.id, b"hello", context)
        state = WidgetState(template="task_list", data={"tasks": [], "total": 0})
        assert await store.widget_states.save(thread.id, item.id, state, context) is not None
        approval = Approval(
            id=f"apr_{thread.id}",
            thread_id=thread.id,
            run_id=f"run_{thread.id}",
            item_id=item.id,
            call_id="call_1",
            server="tasks",
            tool="delete_task",
            status="pending",
            created_at=datetime.now(),
        )
        paused = await store.approvals.pause(
            run_id=approval.run_id,
            thread_id=thread.id,
            state='{"run": 1}',
            approvals=[approval],
            context=context,
        )
        assert paused


async def fill_tasks(repository: TaskRepository) -> None:
    for owner in ("alice", "bob"):
        for index in range(5):
            task = await repository.add(
                owner=owner, title=f"Pay the electricity bill {index}", due_date=date(2026, 12, 24)
            )
            if index % 2:
                await repository.set_status(owner=owner, task_id=task.id, status=TaskStatus.completed)


@pytest.mark.parametrize("store", ["chat", "tasks", "items"])
async def test_a_database_made_before_migrations_is_adopted_with_every_row(url: str, store: str) -> None:
    history, tables = STORES[store]
    engine = engine_for(store, url)
    try:
        if store == "chat":
            await legacy_schema.create_chat(engine)
            await fill_chat(SqlStore(engine, links=LINKS))
        elif store == "tasks":
            await legacy_schema.create_tasks(engine)
            await fill_tasks(TaskRepository(engine))
        else:
            await legacy_schema.create_items(engine)
            await ItemRepository(engine).seed(load_catalog(None)[:300])
        names = [table.name for table in tables if table.name not in legacy_schema.LATER_TABLES]
        before = await legacy_schema.dump(engine, names)
        assert all(before[name] for name in names), {name: len(rows) for name, rows in before.items()}

        adopted = await migrations.upgrade(engine, history)

        assert adopted.adopted and adopted.before is None and "adopted" in str(adopted)
        assert await legacy_schema.dump(engine, names) == before
        assert await differences(engine, store) == []
        if store == "tasks":  # the word search still finds the old rows, per owner
            page = await TaskRepository(engine).list(owner="alice", query="electricity")
            assert page.total == 5
        if store == "items":
            page = await ItemRepository(engine).search(terms=["lamp"], filters=SearchFilters(), limit=5)
            assert page.total > 0
    finally:
        await engine.dispose()


async def test_a_database_adopted_before_its_word_index_existed_indexes_its_old_rows(sqlite_url: str) -> None:
    """An older tasks database without the FTS table: the baseline adds the index and fills it."""
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(TaskRow.metadata.create_all, tables=[TaskRow.__table__])  # type: ignore[attr-defined]
        repository = TaskRepository(engine)
        old = await repository.add(owner="alice", title="Renew the passport")
        assert (await repository.prepare()).adopted  # type: ignore[union-attr]
        assert [task.id for task in (await repository.list(owner="alice", query="passport")).tasks] == [
            old.id
        ]
    finally:
        await engine.dispose()


async def test_a_process_told_not_to_migrate_refuses_a_database_that_is_not_current(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        with pytest.raises(SchemaOutOfDate, match=r"not migrated yet.*run `tasks-mcp migrate`"):
            await TaskRepository(engine).prepare(migrate=False)
        await TaskRepository(engine).prepare()
        assert await TaskRepository(engine).prepare(migrate=False) is None
        async with engine.begin() as connection:  # as a newer release would leave it
            await connection.execute(text("UPDATE alembic_version_tasks SET version_num = 'f00d'"))
        with pytest.raises(SchemaOutOfDate, match="at revision f00d"):
            await TaskRepository(engine).prepare(migrate=False)
    finally:
        await engine.dispose()


def test_a_database_from_a_newer_release_is_refused_in_words(tmp_path: Path) -> None:
    """Rolling back the code over a migrated database: `migrate` says so instead of a traceback."""
    database = tmp_path / "tasks.db"
    env = {**os.environ, "TASKS_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    subprocess.run([BIN / "tasks-mcp", "migrate"], env=env, check=True, capture_output=True, timeout=60)
    with sqlite3.connect(database) as connection:  # as a newer release would leave it
        connection.execute("UPDATE alembic_version_tasks SET version_num = 'f00d'")
    refused = subprocess.run(
        [BIN / "tasks-mcp", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert "revision f00d" in refused.stderr and "newer release" in refused.stderr
    assert "Traceback" not in refused.stderr


def run_migrate(
    commands: list[str], env: dict[str, str], start: float
) -> list[subprocess.CompletedProcess[str]]:
    """Start `migrate` of each command at the same instant; their results."""
    launcher = (
        "import os, sys, time; start = float(sys.argv[1]); "
        "time.sleep(max(0.0, start - time.time())); os.execv(sys.argv[2], sys.argv[2:])"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", launcher, str(start), str(BIN / command), "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


async def test_processes_migrating_one_database_at_once_create_each_schema_once(url: str) -> None:
    """Two `migrate` per store, all started together on one database: all succeed, each schema is
    created exactly once, and the later ones find nothing to do."""
    env = {**os.environ, **{variable: url for variable in VARIABLES.values()}}
    commands = [COMMANDS[store] for store in STORES for _ in range(2)]
    results = await asyncio.to_thread(run_migrate, commands, env, time.time() + 1.5)
    for result in results:
        assert result.returncode == 0, result.stderr
    for command in COMMANDS.values():
        said = [result.stdout for result in results if Path(result.args[4]).name == command]
        assert sum("created at revision" in line for line in said) == 1, said
        assert sum("nothing to do" in line for line in said) == 1, said
    for store, (history, _) in STORES.items():
        engine = engine_for(store, url)
        try:
            assert await revision(engine, history) == migrations.head_revision(history)
            assert await differences(engine, store) == []
        finally:
            await engine.dispose()


@pytest.mark.parametrize("store", ["chat", "tasks"])
def test_servers_told_not_to_migrate_refuse_to_start_until_migrate_has_run(
    tmp_path: Path, store: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, VARIABLES[store]: url, "MIGRATE_ON_START": "false", "MCP_CONFIG": ""}
    env["MCP_AUTH_SECRET_FILE"] = str(tmp_path / "secret")
    with socket.socket() as taken:  # once past the database check, the server stops on this port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        serve = [str(BIN / COMMANDS[store])] + (["--transport", "http"] if store != "chat" else [])
        serve += ["--port", str(taken.getsockname()[1])]
        refused = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert f"run `{COMMANDS[store]} migrate`" in refused.stderr and "Traceback" not in refused.stderr
        migrated = subprocess.run(
            [BIN / COMMANDS[store], "migrate"], env=env, capture_output=True, text=True, timeout=60
        )
        assert migrated.returncode == 0 and "created at revision" in migrated.stdout, migrated.stderr
        again = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "migrate" not in again.stderr, again.stderr  # past the check


@pytest.mark.parametrize("store", ["chat", "tasks", "items"])
def test_a_new_revision_is_written_from_the_models_and_is_empty_while_they_are_unchanged(
    tmp_path: Path, store: str
) -> None:
    """`make migration`: on a copy of the history, the next revision follows the head and has
    nothing to do, since the models match the newest schema."""
    history, _ = STORES[store]
    package, folder = history.script_location.split(":")
    source = Path(sys.modules[package].__file__ or "").parent / folder
    copy = tmp_path / "migrations"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    scratch = dataclasses.replace(history, script_location=str(copy))
    head = migrations.head_revision(history)
    following = f"{int(head) + 1:04d}"
    written = migrations.new_revision(scratch, "nothing changed")
    text = written.read_text(encoding="utf-8")
    assert written.name == f"{following}_nothing_changed.py"
    assert f'revision = "{following}"' in text and f'down_revision = "{head}"' in text
    body = text.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    assert [
        line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")
    ] == ["pass"]
    assert migrations.head_revision(scratch) == following
