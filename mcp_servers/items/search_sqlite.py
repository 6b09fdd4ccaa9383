"""Catalog search on SQLite: FTS5 with BM25, plus precomputed rankings for the heaviest prefixes.

BM25 must score every match before it can order them: a word found in a quarter of 100,000
products costs ~15 ms however small the page. The catalog changes only when it is (re)seeded, so
`refresh` asks FTS5 itself for the first `HEAD_DEPTH` results of every single-word prefix query
with at least `HEAD_MIN_MATCHES` matches and stores them: those queries then read a stored
ranking, identical to the live one, instead of scoring tens of thousands of rows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_servers.common.search_terms import MIN_PREFIX_CHARS, fold, fts5_query

HEAD_MIN_MATCHES = 3_000
HEAD_DEPTH = 100
# Relevance weights: a word in the name counts most, then tags, then the description.
BM25 = "bm25(items_fts, 10.0, 1.0, 4.0)"


class SqliteSearch:
    """FTS5 search over the `items` table."""

    def __init__(self) -> None:
        self._head_totals: dict[str, int] | None = None  # stored query -> total, loaded on first use

    async def refresh(self, connection: AsyncConnection) -> None:
        """Rebuild the index from `items`, then the stored rankings of the heaviest prefixes."""
        await connection.execute(text("INSERT INTO items_fts(items_fts) VALUES ('rebuild')"))
        await connection.execute(text("INSERT INTO items_fts(items_fts) VALUES ('optimize')"))
        await connection.execute(text("DELETE FROM items_search_head"))
        await connection.execute(text("DELETE FROM items_search_head_total"))
        self._head_totals = None
        bound: Counter[str] = Counter()  # an upper bound of each prefix's matching rows
        for term, documents in await connection.execute(text("SELECT term, doc FROM items_fts_vocab")):
            for end in range(MIN_PREFIX_CHARS, len(term) + 1):
                bound[term[:end]] += documents
        for prefix, upper in bound.items():
            if upper < HEAD_MIN_MATCHES:
                continue
            query = fts5_query([prefix], match_all=True)
            total = (await connection.execute(text(_COUNT), {"q": query})).scalar_one()
            if total < HEAD_MIN_MATCHES:
                continue
            await connection.execute(
                text("INSERT INTO items_search_head_total (query, total) VALUES (:q, :total)"),
                {"q": query, "total": total},
            )
            ranked = await connection.execute(
                text(f"{_RANKED_IDS} LIMIT {HEAD_DEPTH}"),
                {"q": query},
            )
            await connection.execute(
                text("INSERT INTO items_search_head (query, position, pk) VALUES (:q, :position, :pk)"),
                [
                    {"q": query, "position": position, "pk": pk}
                    for position, (pk,) in enumerate(ranked, start=1)
                ],
            )

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
        """The page of matching rows, best first, and the total when it was known without counting."""
        query = fts5_query([fold(term) for term in terms], match_all=match_all)
        params = {**params, "q": query, "limit": limit, "offset": offset}
        if not where and offset + limit <= HEAD_DEPTH:
            stored = await self._stored(connection, columns, params)
            if stored is not None:
                return stored
        if where:  # filters need each match joined to its row before ranking
            sql = (
                f"SELECT {columns} FROM items_fts JOIN items ON items.pk = items_fts.rowid "
                f"WHERE items_fts MATCH :q{where} ORDER BY {BM25}, items.pk LIMIT :limit OFFSET :offset"
            )
        else:  # rank inside the index, join only the page
            sql = (
                f"SELECT {columns} FROM (SELECT rowid AS hit, {BM25} AS score FROM items_fts "
                "WHERE items_fts MATCH :q ORDER BY score, rowid LIMIT :limit OFFSET :offset) AS page "
                "JOIN items ON items.pk = page.hit ORDER BY page.score, page.hit"
            )
        return list(await connection.execute(text(sql), params)), None

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
        query = fts5_query([fold(term) for term in terms], match_all=match_all)
        sql = f"{_COUNT_JOINED}{where}" if where else _COUNT
        return (await connection.execute(text(sql), {**params, "q": query})).scalar_one()

    async def _stored(
        self, connection: AsyncConnection, columns: str, params: dict[str, Any]
    ) -> tuple[list[Row[Any]], int] | None:
        if self._head_totals is None:
            rows = await connection.execute(text("SELECT query, total FROM items_search_head_total"))
            self._head_totals = {query: total for query, total in rows}
        total = self._head_totals.get(params["q"])
        if total is None:
            return None
        rows = await connection.execute(
            text(
                f"SELECT {columns} FROM items_search_head AS head JOIN items ON items.pk = head.pk "
                "WHERE head.query = :q AND head.position > :offset ORDER BY head.position LIMIT :limit"
            ),
            params,
        )
        return list(rows), total


_RANKED_IDS = f"SELECT rowid FROM items_fts WHERE items_fts MATCH :q ORDER BY {BM25}, rowid"
_COUNT = "SELECT count(*) FROM items_fts WHERE items_fts MATCH :q"
_COUNT_JOINED = (
    "SELECT count(*) FROM items_fts JOIN items ON items.pk = items_fts.rowid WHERE items_fts MATCH :q"
)
