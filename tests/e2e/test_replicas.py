"""Replicas, on real processes and one Postgres: two backends serve one conversation with every
request alternating between them (threads, tool turns, an upload, widget actions, an approval),
and the tasks server runs as two HTTP replicas behind the backends' config, both serving calls."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import user_input
from tests.backend.tool_app import User, control, has_control, task_id_of
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import Launcher, backend_env, run_backend, server_env
from tests.e2e.mcp_proxy import CountingProxy, serving

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


class Alternating(httpx2.AsyncBaseTransport):
    """Sends each request to the next backend in turn (as a proxy in front of replicas may), and
    counts what each one served."""

    def __init__(self, *base_urls: str) -> None:
        self.targets = [httpx2.URL(url) for url in base_urls]
        self.served: Counter[str] = Counter()
        self._inner = httpx2.AsyncHTTPTransport()
        self._turn = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        target = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        request.headers["host"] = f"{target.host}:{target.port}"
        self.served[str(target)] += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_two_backends_serve_one_conversation_request_by_request(
    tmp_path: Path, launcher: Launcher
) -> None:
    async with fresh_postgres_database() as chat_url, fresh_postgres_database() as tasks_url:
        tasks_env = server_env(tmp_path, TASKS_DATABASE_URL=tasks_url)
        replicas = [launcher.http("tasks-mcp", tasks_env) for _ in range(2)]
        items = launcher.http("items-mcp", server_env(tmp_path))
        proxy = CountingProxy(*(replica.url for replica in replicas))
        with ExitStack() as stack:
            proxy_url = stack.enter_context(serving(proxy.app))
            config = tmp_path / "mcp-replicas.json"
            config.write_text(
                json.dumps(
                    {"mcpServers": {"tasks": {"url": f"{proxy_url}/mcp"}, "items": {"url": items.url}}}
                )
            )
            env = backend_env(tmp_path, DATABASE_URL=chat_url, MCP_CONFIG=str(config))
            backends = [stack.enter_context(run_backend(tmp_path, env)) for _ in range(2)]
            transport = Alternating(*(backend.url for backend in backends))
            async with httpx2.AsyncClient(transport=transport, base_url=backends[0].url, timeout=60) as http:
                user = User(http, "dana")

                thread_id, card = await user.widget("add task buy milk")  # a tool turn, widget streamed
                task_id = task_id_of(card)
                _, listing = await user.widget("list tasks", thread_id)  # the same thread, the other backend
                assert task_id in json.dumps(listing.widget.model_dump())

                notes = await user.client.call(
                    "attachments.create", name="notes.txt", size=5, mime_type="text/plain"
                )
                uploaded = await http.post(notes["upload_descriptor"]["url"], content=b"hello")
                assert uploaded.status_code == 200, uploaded.text
                await user.client.stream(
                    "threads.add_user_message",
                    thread_id=thread_id,
                    input=user_input("see notes", [notes["id"]]),
                )
                downloaded = await http.get(
                    f"/chatkit/attachments/{notes['id']}", headers=user.client.headers
                )
                assert downloaded.content == b"hello"

                for mode in ("stream", "sync"):  # a click, read back and clicked again elsewhere
                    stored = await user.stored(thread_id, listing.id)
                    kind = "tasks.complete" if has_control(stored, "tasks.complete") else "tasks.reopen"
                    updated, _ = await user.act(
                        mode, thread_id, stored, kind, control(stored, kind, task_id=task_id)
                    )
                    assert updated is not None
                assert (await user.tasks())[task_id][1] == "pending"  # completed, then reopened

                _, events = await user.say(f"delete task {task_id}", thread_id)  # paused for approval
                confirmation = next(
                    e.item for e in events if e.type == "thread.item.done" and e.item.type == "widget"
                )
                stored = await user.stored(thread_id, confirmation.id)
                response = await user.client.post(
                    user.request(
                        "stream",
                        thread_id,
                        confirmation.id,
                        "approval.approve",
                        control(stored, "approval.approve"),
                    )
                )
                assert response.status_code == 200 and b"Task deleted" in response.content
                assert task_id not in await user.tasks()

                threads = await user.client.call("threads.list", limit=10, order="desc")
                assert thread_id in [thread["id"] for thread in threads["data"]]

            assert all(count >= 5 for count in transport.served.values()), transport.served
            assert len(transport.served) == 2
            assert all(proxy.served[replica.url] > 0 for replica in replicas), proxy.served
