"""Alembic, run the way every process of ours runs it: on the process's own engine, under the
schema lock, with one history and one version table per store (so stores may share a database).

Each store's history is a package folder (`env.py`, `versions/`) named by a `History`. Its first
revision creates only the tables that are missing: a database made by `create_all` before there
were migrations is adopted as it is, with its rows, and upgraded from there.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic import context as alembic_context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from plumbing.schema_lock import lock_schema


@dataclass(frozen=True, slots=True)
class History:
    """One store's migrations: where they live and what their database holds beside the models."""

    store: str  # "chat", "tasks", "items": names the version table and the messages
    script_location: str  # "package.path:folder", the folder holding env.py and versions/
    command: str  # what an operator runs to migrate it, e.g. "tasks-mcp migrate"
    lock_key: int  # the Postgres advisory lock the store's processes share
    tables: tuple[str, ...]  # what the first revision creates: any of them found unversioned is adopted
    owns: tuple[str, ...]  # fnmatch patterns of its table names: other stores may share the database
    # Names the models do not declare but revisions create (search columns and indexes, FTS5
    # tables): "table", "index", "table.column", with fnmatch patterns ("tasks_fts*").
    unmodelled: frozenset[str] = field(default_factory=frozenset)

    @property
    def version_table(self) -> str:
        """The table that records this store's revision."""
        return f"alembic_version_{self.store}"


@dataclass(frozen=True, slots=True)
class Migration:
    """What one `upgrade` did."""

    store: str
    before: str | None
    after: str
    adopted: bool  # the database had the store's tables but no version: made before migrations

    def __str__(self) -> str:
        where = f"{self.store} database"
        if self.before == self.after:
            return f"{where}: at revision {self.after}, nothing to do"
        if self.adopted:
            return f"{where}: adopted its tables (made before migrations), now at revision {self.after}"
        if self.before is None:
            return f"{where}: created at revision {self.after}"
        return f"{where}: upgraded from revision {self.before} to {self.after}"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the revision this code needs, and the process may not migrate it."""


class PrepareFailed(RuntimeError):
    """A command could not prepare its database; the message says why, in words, without secrets."""


def _config(history: History, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", history.script_location)
    config.set_main_option("path_separator", "os")
    config.attributes["history"] = history
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts(history: History) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(history))


def head_revision(history: History) -> str:
    """The newest revision of `history` (a single head: branches are merged before they land)."""
    head = _scripts(history).get_current_head()
    if head is None:
        raise RuntimeError(f"the {history.store} migrations have no revision")
    return head


def _check_known(history: History, revision: str | None) -> None:
    """A revision this code does not know was written by a newer release: refuse, in words."""
    known = {script.revision for script in _scripts(history).walk_revisions()}
    if revision is not None and revision not in known:
        raise SchemaOutOfDate(
            f"the {history.store} database is at revision {revision}, which this version does not "
            "know: a newer release migrated it. Run that release, or restore the backup taken before it."
        )


def current_revision(connection: Connection, history: History) -> str | None:
    """The revision the database records for `history`, `None` before its first migration."""
    context = MigrationContext.configure(connection, opts={"version_table": history.version_table})
    return context.get_current_revision()


def _upgrade(connection: Connection, history: History) -> Migration:
    lock_schema(connection, history.lock_key)
    before = current_revision(connection, history)
    _check_known(history, before)
    head = head_revision(history)
    if before == head:
        return Migration(history.store, before, head, adopted=False)
    existing = set(inspect(connection).get_table_names())
    adopted = before is None and any(table in existing for table in history.tables)
    command.upgrade(_config(history, connection), "head")
    after = current_revision(connection, history)
    if after != head:
        raise RuntimeError(f"the {history.store} database ended at revision {after}, not {head}")
    return Migration(history.store, before, head, adopted)


async def upgrade(engine: AsyncEngine, history: History) -> Migration:
    """Bring the database to the newest revision of `history`, in one transaction under the schema
    lock: processes migrating together wait for each other, and the later ones find nothing to do."""
    async with engine.connect() as connection:
        migration = cast(Migration, await connection.run_sync(_upgrade, history))
        await connection.commit()
    return migration


async def ensure_current(engine: AsyncEngine, history: History) -> None:
    """Raise `SchemaOutOfDate`, saying what to run, unless the database is at the newest revision."""
    async with engine.connect() as connection:
        current = cast(str | None, await connection.run_sync(current_revision, history))
    _check_known(history, current)
    head = head_revision(history)
    if current != head:
        found = f"at revision {current}" if current else "not migrated yet"
        raise SchemaOutOfDate(
            f"the {history.store} database is {found}, and this version needs revision {head}: "
            f"run `{history.command}` (or let the process migrate at start: MIGRATE_ON_START=true)"
        )


def _keeps(history: History) -> Callable[..., bool]:
    """Autogenerate's name filter: only the store's own tables, without what its revisions made
    beside the models."""

    def include_name(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        if name is None:
            return True
        if kind == "table" and not any(fnmatch.fnmatchcase(name, pattern) for pattern in history.owns):
            return False  # another store's, or not ours at all
        qualified = f"{parents.get('table_name')}.{name}" if kind == "column" else name
        return not any(fnmatch.fnmatchcase(qualified, pattern) for pattern in history.unmodelled)

    return include_name


def run_environment(metadata: MetaData) -> None:
    """The body of every history's `env.py`: migrate the connection `upgrade` handed over."""
    context = cast(EnvironmentContext, alembic_context)
    history: History = context.config.attributes["history"]
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(f"the {history.store} migrations run through `{history.command}`")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=history.version_table,
        render_as_batch=True,  # SQLite changes columns by copying the table
        compare_type=True,
        include_name=_keeps(history),
    )
    with context.begin_transaction():
        context.run_migrations()


def store_metadata(tables: list[Table]) -> MetaData:
    """A `MetaData` of only these tables (the models of every store share SQLModel's)."""
    metadata = MetaData()
    for table in tables:
        table.to_metadata(metadata)
    return metadata


def differences(connection: Connection, history: History, metadata: MetaData) -> list[Any]:
    """What autogenerate would change to make the database match `metadata` (empty when in step)."""
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": history.version_table,
            "compare_type": True,
            "include_name": _keeps(history),
            "target_metadata": metadata,
        },
    )
    return cast(list[Any], compare_metadata(context, metadata))


async def prepare(engine: AsyncEngine, history: History, *, migrate: bool) -> Migration | None:
    """What a process does with its database before it serves: migrate it (the default), or only
    check that it is current (`MIGRATE_ON_START=false`, for a deployment that runs `migrate` first)."""
    if migrate:
        return await upgrade(engine, history)
    await ensure_current(engine, history)
    return None


def prepare_once(
    create_engine: Callable[[str], AsyncEngine], url: str, history: History, *, migrate: bool
) -> Migration | None:
    """`prepare` for a command line, on an engine and event loop of its own; any failure is one
    `PrepareFailed` that names the database (password hidden) and the reason."""

    async def run() -> Migration | None:
        engine = create_engine(url)
        try:
            return await prepare(engine, history, migrate=migrate)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except SchemaOutOfDate as exc:
        raise PrepareFailed(str(exc)) from None
    except (OSError, SQLAlchemyError, sqlite3.Error) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        where = make_url(url).render_as_string(hide_password=True)
        raise PrepareFailed(f"cannot prepare the {history.store} database at {where}: {reason}") from exc


def new_revision(history: History, message: str) -> Path:
    """Write the next revision of `history` (for a developer): what autogenerate finds between the
    models and the newest schema, on a scratch SQLite database migrated to it. Dialect-specific
    parts (Postgres search columns, FTS5 tables) are the author's to add. Its file."""
    head = head_revision(history)
    rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    with tempfile.TemporaryDirectory(prefix="revision-") as directory:
        engine = create_engine(f"sqlite:///{directory}/scratch.db")
        try:
            with engine.begin() as connection:
                command.upgrade(_config(history, connection), "head")
                script = command.revision(
                    _config(history, connection), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            engine.dispose()
    _scripts.cache_clear()
    if script is None or isinstance(script, list):
        raise RuntimeError("Alembic wrote no single revision")
    path = Path(script.path)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is not None:  # in the project's style, as `make format` would leave it
        subprocess.run([ruff, "format", "--quiet", str(path)], check=False, timeout=60)
    return path
