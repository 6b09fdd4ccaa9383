"""`items.list` / `threads.list` page latency at 1k and 100k rows, through the app in process.

Rows are bulk-inserted into the store's tables (the same JSON the Store writes) so that seeding
100k takes seconds; every page is then read through the ChatKit protocol (ASGI transport).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx2
import jwt
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from sqlalchemy import insert

from backend.app import create_app
from backend.settings import BackendSettings
from backend.store.models import ChatItemRow, ChatThreadRow

SECRET = "bench-secret-for-end-user-tokens-0123456789abcdef"
ITEMS, THREADS = ChatItemRow.__table__, ChatThreadRow.__table__  # type: ignore[attr-defined]


async def seed(app: object, owner: str, count: int) -> str:
    """`count` threads for `owner`, the first of them holding `count` items; its id."""
    engine = app.state.store.engine  # type: ignore[attr-defined]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    threads = []
    for n in range(count):
        meta = ThreadMetadata(
            id=f"thr_bench{n:07d}", created_at=base + timedelta(seconds=n), title=f"Thread {n}"
        )
        threads.append({"id": meta.id, "owner": owner, "created_at": meta.created_at, "title": meta.title,
                        "data": meta.model_dump_json(exclude={"items"})})  # fmt: skip
    thread_id = threads[0]["id"]
    items = []
    for n in range(count):
        item = AssistantMessageItem(
            id=f"msg_bench{n:07d}", thread_id=thread_id, created_at=base + timedelta(milliseconds=n),
            content=[AssistantMessageContent(text=f"reply number {n}", annotations=[])],
        )  # fmt: skip
        items.append({"id": item.id, "thread_id": thread_id, "owner": owner, "created_at": item.created_at,
                      "type": item.type, "data": item.model_dump_json()})  # fmt: skip
    async with engine.begin() as connection:
        for start in range(0, count, 5_000):
            await connection.execute(insert(THREADS), threads[start : start + 5_000])
        for start in range(0, count, 5_000):
            await connection.execute(insert(ITEMS), items[start : start + 5_000])
    return thread_id


async def page_latency(rounds: int = 200) -> None:
    """Print page latency for both request types at 1k and 100k rows, and the ratio."""
    print("== page latency (in process, SQLite, auth on) ==")
    medians: dict[tuple[str, int], float] = {}
    for count in (1_000, 100_000):
        with tempfile.TemporaryDirectory() as directory:
            settings = BackendSettings(
                DATABASE_URL=f"sqlite+aiosqlite:///{directory}/chat.db", AUTH_JWT_SECRET=SECRET
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                thread_id = await seed(app, "bench", count)
                token = jwt.encode(
                    {"sub": "bench", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256"
                )
                headers = {"Authorization": f"Bearer {token}"}
                transport = httpx2.ASGITransport(app=app)
                async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
                    for kind, params in (
                        ("items.list", {"thread_id": thread_id, "limit": 20, "order": "desc"}),
                        ("threads.list", {"limit": 20, "order": "desc"}),
                    ):
                        samples = []
                        after = None
                        for _ in range(rounds):
                            body = {"type": kind, "params": params | ({"after": after} if after else {})}
                            start = time.perf_counter()
                            response = await http.post("/chatkit", json=body, headers=headers)
                            samples.append((time.perf_counter() - start) * 1000)
                            page = response.json()
                            after = page["after"] if page["has_more"] else None
                        medians[(kind, count)] = statistics.median(samples)
                        ordered = sorted(samples)
                        print(f"  {kind:13s} {count:>7,} rows: median {medians[(kind, count)]:6.2f} ms   "
                              f"p90 {ordered[int(0.9 * (len(ordered) - 1))]:6.2f} ms")  # fmt: skip
    for kind in ("items.list", "threads.list"):
        print(f"  {kind}: 100k/1k median ratio {medians[(kind, 100_000)] / medians[(kind, 1_000)]:.2f}")
