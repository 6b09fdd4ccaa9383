"""What a database error means for a request: unreachable (503), a refused value (400) or a fault
(500), and how it is logged without the statement's parameters."""

from __future__ import annotations

import re
import socket
import sqlite3
import traceback

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, StatementError

# SQLSTATEs of a lost or refused connection (class 08), a server shutting down or starting up, and
# a server out of connection slots: the database cannot be reached right now.
UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite's word for a database file that cannot be opened or is held by another writer too long.
SQLITE_UNREACHABLE = ("unable to open database file", "database is locked", "disk i/o error")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+\"?(\w+)", re.IGNORECASE)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the driver error it wraps and what that was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return chain


def _sqlstate(exc: BaseException) -> str | None:
    """The Postgres SQLSTATE of a database error, when its driver gives one."""
    for cause in _causes(exc):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, str) and code:
            return code
    return None


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (503), rather than that a statement, a
    value or our code is wrong (400/500): a refused, lost or timed-out connection only."""
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:  # lost under the statement
        return True
    if isinstance(exc, DataError | IntegrityError):
        return False
    if exc.statement is None:  # no statement ran: connecting failed (no such database, refused...)
        return True
    if isinstance(exc, ProgrammingError):
        return False
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        return sqlstate.startswith(UNREACHABLE_SQLSTATES)
    for cause in _causes(exc)[1:]:
        if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror):
            return True
        if isinstance(cause, sqlite3.OperationalError):
            return str(cause).lower().startswith(SQLITE_UNREACHABLE)
        if type(cause).__name__ in ("ConnectionDoesNotExistError", "InterfaceError") and "closed" in str(
            cause
        ):  # asyncpg: the connection went away under the statement
            return True
    return False


def bad_value(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing a value (SQLSTATE class 22, `DataError`): the request's
    fault (400), not the database's."""
    sqlstate = _sqlstate(exc)
    return isinstance(exc, DataError) or (sqlstate is not None and sqlstate.startswith("22"))


def database_error_summary(exc: BaseException) -> str:
    """What a failed statement was, for the log: its kind, its table and the error's class and
    SQLSTATE, never its parameters or the driver's message (which may quote a value)."""
    statement = next(
        (cause.statement for cause in _causes(exc) if isinstance(cause, StatementError) and cause.statement),
        None,
    )
    kind, table = "connect", None  # no statement: the connection itself failed
    if statement:
        kind = statement.split(None, 1)[0].upper()
        if (found := _TABLE.search(statement)) is not None:
            table = found.group(1)
    classes = " <- ".join(type(cause).__qualname__ for cause in _causes(exc))
    sqlstate = _sqlstate(exc)
    where = f" on {table}" if table else ""
    return f"{kind}{where} failed: {classes}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


def frames(exc: BaseException) -> str:
    """Where `exc` was raised, as traceback lines without the exception's message."""
    return "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-8:])).rstrip()


def touches_sql(exc: BaseException) -> bool:
    """Whether `exc` is or was raised from a failed SQL statement (whose text may quote values)."""
    return any(isinstance(cause, DBAPIError | StatementError) for cause in _causes(exc))


# SQLSTATE 42P01 (undefined_table), and SQLite's word for it: the store's tables are not there.
UNDEFINED_TABLE_SQLSTATE = "42P01"


def schema_missing(exc: BaseException) -> bool:
    """Whether `exc` says a table the statement needs does not exist: the database came back empty
    (dropped and re-created, or restored without its schema), not a fault of the request."""
    if _sqlstate(exc) == UNDEFINED_TABLE_SQLSTATE:
        return True
    return any(
        isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith("no such table")
        for cause in _causes(exc)
    )
