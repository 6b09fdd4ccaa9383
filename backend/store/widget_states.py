"""Widget states: what each widget item with actions was rendered from, scoped by its owner.

A state is written when its widget is streamed (before the SDK saves the item itself) and again by
each action on the widget. Updates by actions carry the version they read, so two actions on one
widget at once cannot silently overwrite each other: the second finds the version moved on,
reads the state again and re-applies its result.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.context import RequestContext
from backend.db import is_sqlite
from backend.store.models import THREADS, WIDGET_STATES
from shared_widgets import WidgetState

_LOAD = select(WIDGET_STATES.c.version, WIDGET_STATES.c.data).where(
    WIDGET_STATES.c.item_id == bindparam("item_id"),
    WIDGET_STATES.c.thread_id == bindparam("thread_id"),
    WIDGET_STATES.c.owner == bindparam("owner"),
)
# (UPDATE binds may not be named after the table's columns.)
_UPDATE = (
    update(WIDGET_STATES)
    .where(
        WIDGET_STATES.c.item_id == bindparam("b_item_id"),
        WIDGET_STATES.c.thread_id == bindparam("b_thread_id"),
        WIDGET_STATES.c.owner == bindparam("b_owner"),
        WIDGET_STATES.c.version == bindparam("b_expected"),
    )
    .values(data=bindparam("b_data"), version=WIDGET_STATES.c.version + 1)
    .returning(WIDGET_STATES.c.version)
)


class WidgetStates:
    """Load and save the states of the caller's widget items."""

    def __init__(self, engine: AsyncEngine, single: AsyncEngine) -> None:
        self._engine, self._single = engine, single
        insert: Any = sqlite.insert if is_sqlite(engine) else postgresql.insert
        # Selecting the caller's thread row both checks ownership and supplies the thread id.
        caller_thread = select(
            bindparam("item_id", type_=String),
            bindparam("owner", type_=String),
            THREADS.c.id,
            bindparam("data", type_=Text),
        ).where(THREADS.c.id == bindparam("thread_id"), THREADS.c.owner == bindparam("owner"))
        statement = insert(WIDGET_STATES).from_select(
            ["item_id", "owner", "thread_id", "data"], caller_thread
        )
        self._insert = statement.on_conflict_do_update(
            index_elements=["item_id"],
            set_={"data": statement.excluded.data, "version": WIDGET_STATES.c.version + 1},
            where=(WIDGET_STATES.c.owner == statement.excluded.owner)
            & (WIDGET_STATES.c.thread_id == statement.excluded.thread_id),
        ).returning(WIDGET_STATES.c.version)

    async def load(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> tuple[WidgetState, int] | None:
        """The state of one of the caller's widget items and its version, or None (no actions)."""
        params = {"item_id": item_id, "thread_id": thread_id, "owner": context.user_id}
        async with self._single.connect() as connection:
            row = (await connection.execute(_LOAD, params)).first()
        if row is None:
            return None
        return WidgetState.model_validate_json(row.data), int(row.version)

    async def save(
        self,
        thread_id: str,
        item_id: str,
        state: WidgetState,
        context: RequestContext,
        *,
        expected: int | None = None,
    ) -> int | None:
        """Write a state; its new version. With `expected`, only over that version (None when the
        state moved on meanwhile); without, as the state of a new widget (None: not the caller's thread)."""
        params: dict[str, Any] = {
            "item_id": item_id,
            "thread_id": thread_id,
            "owner": context.user_id,
            "data": state.model_dump_json(),
        }
        statement: Any = self._insert
        if expected is not None:
            statement = _UPDATE
            params = {f"b_{key}": value for key, value in params.items()} | {"b_expected": expected}
        async with self._single.begin() as connection:
            version = (await connection.execute(statement, params)).scalar()
        return None if version is None else int(version)


async def delete_for_thread(connection: AsyncConnection, thread_id: str, owner: str) -> None:
    """Drop the widget states of one of `owner`'s threads (inside the caller's transaction)."""
    await connection.execute(
        delete(WIDGET_STATES).where(WIDGET_STATES.c.thread_id == thread_id, WIDGET_STATES.c.owner == owner)
    )


async def delete_for_item(connection: AsyncConnection, item_id: str, owner: str) -> None:
    """Drop the widget state of one of `owner`'s items (inside the caller's transaction)."""
    await connection.execute(
        delete(WIDGET_STATES).where(WIDGET_STATES.c.item_id == item_id, WIDGET_STATES.c.owner == owner)
    )
