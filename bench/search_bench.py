"""search_items latency at 1k, 10k and 100k catalog items: in process and over streamable HTTP.

Prints medians and p90s for a realistic mix of one- and two-word queries, and for the most
frequent single term on its own, beside floors measured in the same run:
- in process, the plain BM25 query a straightforward FTS5 implementation would run (rank every
  match, join, count), on the same database through the same driver;
- over HTTP, `list_categories` (answered from memory: MCP + HTTP + auth overhead only).

Usage: python -m bench.search_bench [--sizes 1000,10000,100000] [--rounds 20]
Databases are kept under ./data/bench/ and reused by later runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import text

from bench.support import free_port, summary, wait_for_port
from mcp_servers.common.db import create_engine
from mcp_servers.common.identity import TokenCodec
from mcp_servers.common.search_terms import STOPWORDS, search_terms
from mcp_servers.items.catalog_generator import generate_catalog
from mcp_servers.items.repository import ItemRepository, SearchFilters
from mcp_servers.items.search_sqlite import BM25

SECRET = "bench-secret-for-identity-tokens-0123456789abcdef"
MIX = [
    # one word: frequent, mid-frequency, rare, partly typed
    "black",
    "premium",
    "lamp",
    "chair",
    "wireless",
    "knife",
    "monitor",
    "jacket",
    "lantern",
    "cream",
    "bookshelf",
    "obsidian",
    "kevlar",
    "graphene",
    "jadeite",
    "café",
    "lam",
    "cha",
    "walnut",
    "linen",
    # two words
    "desk lamp",
    "wireless charger",
    "office chair",
    "cast iron",
    "dog bed",
    "matte black",
    "black chair",
    "premium set",
    "smart monitor",
    "garden lantern",
    "walnut bookshelf",
    "linen jacket",
    "pet bed",
    "knife set",
    "kevlar jacket",
    "portable speaker",
    "stand mixer",
    "black premium",
    "water bottle",
    "air fryer",
]


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    await call()  # warm caches and connections
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def catalog(size: int) -> tuple[str, ItemRepository, Any]:
    """A seeded catalog database of `size` items (reused when present)."""
    path = Path("data/bench") / f"items-{size}.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    repository = ItemRepository(engine)
    await repository.prepare()
    if await repository.count() != size:
        await engine.dispose()
        remove_database(path)
        engine = create_engine(url)
        repository = ItemRepository(engine)
        await repository.prepare()
        started = time.perf_counter()
        await repository.seed(generate_catalog(size))
        print(f"  seeded {size:,} items in {time.perf_counter() - started:.1f} s")
    return url, repository, engine


async def most_frequent_term(engine: Any) -> str:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT term FROM items_fts_vocab ORDER BY doc DESC LIMIT 50"))
        return next(term for (term,) in rows if term not in STOPWORDS and len(term) > 2)


async def in_process(repository: ItemRepository, engine: Any, frequent: str, rounds: int) -> None:
    naive = (
        "SELECT items.* FROM items_fts JOIN items ON items.pk = items_fts.rowid "
        f"WHERE items_fts MATCH :q ORDER BY {BM25} LIMIT 10"
    )
    count = "SELECT count(*) FROM items_fts WHERE items_fts MATCH :q"

    async def plain(query: str) -> None:
        fts = " AND ".join(f'"{term}"*' for term in search_terms(query))
        async with engine.connect() as connection:
            (await connection.execute(text(naive), {"q": fts})).all()
            (await connection.execute(text(count), {"q": fts})).scalar_one()

    async def ours(query: str) -> None:
        await repository.search(terms=search_terms(query), filters=SearchFilters(), limit=10)

    mix_ours, mix_plain = [], []
    for query in MIX:
        mix_ours += await timed(lambda q=query: ours(q), rounds)
        mix_plain += await timed(lambda q=query: plain(q), rounds)
    print(f"  in process   mix ({len(MIX)} queries)     ours   {summary(mix_ours)}")
    print(f"                                      plain  {summary(mix_plain)}")
    frequent_ours = await timed(lambda: ours(frequent), rounds * 3)
    frequent_plain = await timed(lambda: plain(frequent), rounds * 3)
    print(f"  in process   most frequent '{frequent}'  ours   {summary(frequent_ours)}")
    print(f"                                      plain  {summary(frequent_plain)}")
    ratio = statistics.median(mix_plain) / statistics.median(mix_ours)
    print(
        f"  in process   plain/ours median ratio: mix {ratio:.1f}x, frequent term "
        f"{statistics.median(frequent_plain) / statistics.median(frequent_ours):.1f}x"
    )


async def over_http(url: str, frequent: str, rounds: int) -> None:
    port = free_port()
    env = {**os.environ, "ITEMS_DATABASE_URL": url, "MCP_AUTH_SECRET": SECRET}
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "items-mcp"),
        "--transport",
        "http",
        "--port",
        str(port),
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        token = TokenCodec(SECRET).mint("bench", ttl_seconds=3600)
        endpoint = f"http://127.0.0.1:{port}/mcp"
        await wait_for_port(port)
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(endpoint, http_client=http)) as client,
        ):

            async def search(query: str) -> None:
                result = await client.call_tool("search_items", {"query": query})
                assert not result.is_error, result.content

            floor = await timed(lambda: client.call_tool("list_categories", {}), rounds * 3)
            mix: list[float] = []
            for query in MIX:
                mix += await timed(lambda q=query: search(q), rounds)
            frequent_samples = await timed(lambda: search(frequent), rounds * 3)
        print(f"  over HTTP    mix                        ours   {summary(mix)}")
        print(f"  over HTTP    most frequent '{frequent}'  ours   {summary(frequent_samples)}")
        print(f"  over HTTP    floor: list_categories          {summary(floor)}")
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    for size in (int(value) for value in options.sizes.split(",")):
        print(f"\n== {size:,} catalog items ==")
        url, repository, engine = await catalog(size)
        frequent = await most_frequent_term(engine)
        totals = {
            query: (await repository.search(terms=search_terms(query), filters=SearchFilters())).total
            for query in (frequent, "desk lamp", "obsidian")
        }
        print(f"  matches: {', '.join(f'{query!r} {total:,}' for query, total in totals.items())}")
        await in_process(repository, engine, frequent, options.rounds)
        await engine.dispose()
        await over_http(url, frequent, options.rounds)


if __name__ == "__main__":
    asyncio.run(main())
