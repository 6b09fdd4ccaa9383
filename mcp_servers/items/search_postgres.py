"""Catalog search on Postgres: a weighted `tsvector` column with a GIN index, ranked by `ts_rank`.

Words are cut and folded as on SQLite (`postgres_text`); nothing is stemmed, so a prefix such as
`adjusta` still finds `adjustable`, which an English stemmer would store as `adjust`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_servers.common.search_terms import tsquery


class PostgresSearch:
    """Full-text search over the `items` table's generated `search` column."""

    async def refresh(self, connection: AsyncConnection) -> None:
        """The generated column follows every write; only refresh the planner's statistics."""
        await connection.execute(text("ANALYZE items"))

    async def match(
        self,
        connection: AsyncConnection,
        *,
        terms: list[str],
        columns: str,
        where: str,
        params: dict[str, Any],
        limit: int,
        offset: int,
        match_all: bool,
    ) -> tuple[list[Row[Any]], int | None]:
        """The page of matching rows, best first (the total is counted separately)."""
        sql = (
            f"SELECT {columns} FROM items, to_tsquery('simple', :q) AS query "
            f"WHERE items.search @@ query{where} "
            "ORDER BY ts_rank(items.search, query) DESC, items.pk LIMIT :limit OFFSET :offset"
        )
        values = {**params, "q": tsquery(terms, match_all=match_all), "limit": limit, "offset": offset}
        return list(await connection.execute(text(sql), values)), None

    async def count(
        self,
        connection: AsyncConnection,
        *,
        terms: list[str],
        where: str,
        params: dict[str, Any],
        match_all: bool,
    ) -> int:
        """How many rows match."""
        sql = f"SELECT count(*) FROM items WHERE items.search @@ to_tsquery('simple', :q){where}"
        values = {**params, "q": tsquery(terms, match_all=match_all)}
        return (await connection.execute(text(sql), values)).scalar_one()
