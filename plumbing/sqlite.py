"""How every SQLite connection of ours is set up: WAL, a busy timeout, foreign keys."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

WAL_SWITCH_ATTEMPTS = 100


def use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file alone, and SQLite refuses
    at once rather than waiting when another process has it open: processes started together
    (backend workers, each with its own tool servers) try again for a moment."""
    for _ in range(WAL_SWITCH_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.02)
    raise sqlite3.OperationalError("database is locked: could not switch it to WAL mode")


def configure(dbapi_connection: Any, *, busy_timeout_ms: int) -> None:
    """Set up a new DB-API connection: WAL, a busy timeout, `synchronous=NORMAL`, foreign keys."""
    cursor = dbapi_connection.cursor()
    try:
        use_wal(cursor)
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
