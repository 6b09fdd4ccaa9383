"""Catalog persistence and ranked search: SQLite FTS5 (BM25) or Postgres full-text search. No MCP here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_servers.common.db import is_sqlite
from mcp_servers.items.migrations import HISTORY
from mcp_servers.items.models import Category, Item, ItemRow
from mcp_servers.items.search_postgres import PostgresSearch
from mcp_servers.items.search_sqlite import SqliteSearch
from plumbing import migrations
from plumbing.migrations import Migration

MatchMode = Literal["all_words", "any_word", "browse", "no_words"]
_TABLE = ItemRow.__table__  # type: ignore[attr-defined]
_COLUMNS = ", ".join(
    f"items.{name}" for name in ("id", "name", "description", "category", "price", "stock", "tags", "rating")
)
_SEED_CHUNK = 2_000


class ItemNotFoundError(LookupError):
    """No item has this id."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Optional narrowing of a search; `category` must be a stored category name."""

    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def sql(self) -> tuple[str, dict[str, Any]]:
        """`AND ...` clauses over the `items` table and their parameters."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.category is not None:
            clauses.append("items.category = :category")
            params["category"] = self.category
        if self.min_price is not None:
            clauses.append("items.price >= :min_price")
            params["min_price"] = self.min_price
        if self.max_price is not None:
            clauses.append("items.price <= :max_price")
            params["max_price"] = self.max_price
        if self.in_stock is True:
            clauses.append("items.stock > 0")
        elif self.in_stock is False:
            clauses.append("items.stock = 0")
        return "".join(f" AND {clause}" for clause in clauses), params


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[Item]
    total: int
    match: MatchMode


def _item(row: Row[Any]) -> Item:
    return Item.from_values(**row._mapping)


class ItemRepository:
    """The catalog on one database (SQLite or Postgres). The catalog is shared: no owner column."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        self._search = SqliteSearch() if self._sqlite else PostgresSearch()
        self._categories: list[Category] | None = None

    async def prepare(self, *, migrate: bool = True) -> Migration | None:
        """Bring the items table and its search to the newest schema (Alembic, under the schema
        lock); with `migrate=False` only check that they are (else `SchemaOutOfDate`)."""
        return await migrations.prepare(self._engine, HISTORY, migrate=migrate)

    async def count(self) -> int:
        """How many items the catalog holds."""
        async with self._engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(_TABLE))).scalar_one()

    async def seed(self, products: Iterable[Mapping[str, Any]]) -> int:
        """Load products into an empty catalog (ids already present are skipped); returns the new count."""
        rows = [
            {
                "id": product["id"],
                "name": product["name"],
                "description": product["description"],
                "category": product["category"],
                "price": float(product["price"]),
                "stock": int(product["stock"]),
                "tags": json.dumps(list(product["tags"]), ensure_ascii=False),
                "rating": float(product["rating"]),
            }
            for product in products
        ]
        dialect_insert = sqlite_insert if self._sqlite else pg_insert
        async with self._engine.begin() as connection:
            for start in range(0, len(rows), _SEED_CHUNK):
                statement = dialect_insert(_TABLE).on_conflict_do_nothing(index_elements=["id"])
                await connection.execute(statement, rows[start : start + _SEED_CHUNK])
            await self._search.refresh(connection)
        self._categories = None
        return await self.count()

    async def get(self, item_id: str) -> Item:
        """One item by id, or `ItemNotFoundError`."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    text(f"SELECT {_COLUMNS} FROM items WHERE id = :id"), {"id": item_id}
                )
            ).first()
        if row is None:
            raise ItemNotFoundError(item_id)
        return _item(row)

    async def ids_starting_with(self, prefix: str, *, limit: int = 100) -> list[str]:
        """Item ids that start with `prefix` (as typed: case-sensitive), in id order."""
        statement = (
            select(_TABLE.c.id)
            .where(_TABLE.c.id.startswith(prefix, autoescape=True))
            .order_by(_TABLE.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())

    async def categories(self) -> list[Category]:
        """Every category with its item counts, by name (cached: the catalog changes only by seeding)."""
        if self._categories is None:
            statement = text(
                "SELECT category, count(*), sum(CASE WHEN stock > 0 THEN 1 ELSE 0 END) "
                "FROM items GROUP BY category ORDER BY category"
            )
            async with self._engine.connect() as connection:
                result = await connection.execute(statement)
                self._categories = [
                    Category(name=name, item_count=count, in_stock_count=int(in_stock or 0))
                    for name, count, in_stock in result
                ]
        return self._categories

    async def search(
        self, *, terms: Sequence[str], filters: SearchFilters, limit: int = 10, offset: int = 0
    ) -> SearchPage:
        """Items matching every term (or, when none matches them all, any term), best first.

        Terms are prefixes ("lam" finds "lamp"). With no terms, the filtered catalog by rating.
        """
        async with self._engine.connect() as connection:
            if not terms:
                return await self._browse(connection, filters, limit, offset)
            page = await self._match(connection, list(terms), filters, limit, offset, match_all=True)
            if page.total == 0 and len(terms) > 1:
                page = await self._match(connection, list(terms), filters, limit, offset, match_all=False)
            return page

    async def _browse(
        self, connection: AsyncConnection, filters: SearchFilters, limit: int, offset: int
    ) -> SearchPage:
        where, params = filters.sql()
        rows = await connection.execute(
            text(
                f"SELECT {_COLUMNS} FROM items WHERE 1=1{where} "
                "ORDER BY items.rating DESC, items.pk LIMIT :limit OFFSET :offset"
            ),
            {**params, "limit": limit, "offset": offset},
        )
        items = [_item(row) for row in rows]
        total = (
            await connection.execute(text(f"SELECT count(*) FROM items WHERE 1=1{where}"), params)
        ).scalar_one()
        return SearchPage(items=items, total=total, match="browse")

    async def _match(
        self,
        connection: AsyncConnection,
        terms: list[str],
        filters: SearchFilters,
        limit: int,
        offset: int,
        *,
        match_all: bool,
    ) -> SearchPage:
        where, params = filters.sql()
        rows, total = await self._search.match(
            connection,
            terms=terms,
            columns=_COLUMNS,
            where=where,
            params=params,
            limit=limit,
            offset=offset,
            match_all=match_all,
        )
        items = [_item(row) for row in rows]
        if total is None:
            if offset == 0 and len(items) < limit:
                total = len(items)
            else:
                total = await self._search.count(
                    connection, terms=terms, where=where, params=params, match_all=match_all
                )
        return SearchPage(items=items, total=total, match="all_words" if match_all else "any_word")
