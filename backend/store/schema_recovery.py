"""A chat database that comes back empty under a running backend (dropped and re-created, restored
without its schema): how readiness sees it, and how the store re-creates its tables without a
restart (the migration, under the schema lock, at most once per interval)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.db_errors import database_error_summary, database_unreachable, schema_missing, touches_sql
from plumbing import migrations
from plumbing.migrations import History

logger = logging.getLogger(__name__)
DatabaseState = Literal["ok", "unreachable", "schema_missing"]
RECOVERY_INTERVAL_SECONDS = 2.0
RECOVERING_MESSAGE = "The chat database was found empty; its tables are being re-created. Try again shortly."


class SchemaRecovery:
    """Checks that the store's schema is there and re-creates it when it is not (only where this
    process may migrate: MIGRATE_ON_START)."""

    def __init__(
        self,
        engine: AsyncEngine | Any,
        history: History,
        *,
        allowed: bool = False,
        interval_seconds: float = RECOVERY_INTERVAL_SECONDS,
    ) -> None:
        self.engine = engine
        self.history = history
        self.allowed = allowed  # set by the store's prepare(migrate=...)
        self.interval_seconds = interval_seconds
        self.stuck = False  # migrated, and tables still missing: its version table outlived them
        self._lock = asyncio.Lock()
        self._last_attempt = -math.inf
        # Cheap reads that fail with "undefined table" when the schema is gone.
        self._probe = [
            text(f"SELECT version_num FROM {history.version_table}"),
            *(text(f"SELECT 1 FROM {table} LIMIT 0") for table in history.tables[:2]),
        ]

    @property
    def message(self) -> str:
        """What a request that met the missing schema is told (503)."""
        if self.stuck:
            return (
                f"The {self.history.store} database is missing some of its tables and cannot re-create "
                "them itself. An operator needs to restore it."
            )
        if self.allowed:
            return RECOVERING_MESSAGE
        return (
            f"The {self.history.store} database has no tables: it needs `{self.history.command}`. "
            "Try again once it has run."
        )

    async def state(self) -> DatabaseState:
        """What readiness reports: `ok`, `unreachable`, or `schema_missing` (then recovery starts)."""
        try:
            await self._check()
        except Exception as exc:  # any failure means "not ready", never a crash
            if schema_missing(exc):
                logger.warning("Readiness check: the %s database has no tables", self.history.store)
                await self.recover()
                return "schema_missing"
            summary = database_error_summary(exc) if touches_sql(exc) else type(exc).__qualname__
            logger.warning("Readiness check failed: %s", summary)
            return "unreachable"
        self.stuck = False
        return "ok"

    async def _check(self) -> None:
        """Raise unless the database answers with the store's version table and tables."""
        async with self.engine.connect() as connection:
            for statement in self._probe:
                await connection.execute(statement)

    async def recover(self) -> bool:
        """Re-create the schema (migrate to head, under the schema lock), unless this process may not
        migrate or tried less than `interval_seconds` ago; whether it ran and succeeded. Callers
        that arrive while it runs wait for it, then find nothing to do."""
        if not self.allowed:
            return False
        async with self._lock:
            now = time.monotonic()
            if now - self._last_attempt < self.interval_seconds:
                return False
            self._last_attempt = now
            logger.warning(
                "The %s database has no tables (re-created empty?): migrating it", self.history.store
            )
            try:
                migration = await migrations.upgrade(self.engine, self.history)
            except Exception as exc:
                if database_unreachable(exc) or touches_sql(exc):
                    logger.warning(
                        "Re-creating the %s tables failed: %s",
                        self.history.store,
                        database_error_summary(exc),
                    )
                else:
                    logger.exception("Re-creating the %s tables failed", self.history.store)
                return False
            try:
                await self._check()
            except Exception as exc:
                if not schema_missing(exc):  # lost again meanwhile: the next request tries again
                    logger.warning("The %s database did not answer after migrating", self.history.store)
                    return False
                self.stuck = True  # e.g. a table dropped or renamed by hand: migrating finds nothing to do
                logger.error(
                    "The %s database records revision %s but is missing tables (%s): not re-created "
                    "automatically; restore it from a backup",
                    self.history.store,
                    migration.after,
                    database_error_summary(exc),
                )
                return False
            self.stuck = False
            logger.warning("%s", migration)
            return True
