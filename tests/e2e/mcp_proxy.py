"""A loopback proxy in front of an MCP server over streamable HTTP that counts the tool calls that
pass through it, by tool: what "the tool was never called" is measured by, on the server's side.
Given several upstreams (replicas of one server), it sends requests to them in turn and counts
the calls each one served."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


def _tool_calls(body: bytes) -> list[str]:
    try:
        message: Any = json.loads(body)
    except ValueError:
        return []
    messages = message if isinstance(message, list) else [message]
    return [
        str(entry.get("params", {}).get("name"))
        for entry in messages
        if isinstance(entry, dict) and entry.get("method") == "tools/call"
    ]


class CountingProxy:
    """Forwards `/mcp` to the upstreams in turn, as it is (streams included); `calls` counts
    tools/call by name, `served` by upstream."""

    def __init__(self, *upstreams: str) -> None:
        self.upstreams = upstreams
        self.calls: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self._turn = 0
        self._http: httpx2.AsyncClient | None = None
        self.app = Starlette(
            routes=[Route("/mcp", self._forward, methods=["GET", "POST", "DELETE"])], lifespan=self._lifespan
        )

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        async with httpx2.AsyncClient(timeout=60) as http:
            self._http = http
            yield

    async def _forward(self, request: Request) -> Response:
        assert self._http is not None  # set by the lifespan
        body = await request.body()
        calls = _tool_calls(body)
        upstream = self.upstreams[self._turn % len(self.upstreams)]
        self._turn += 1
        self.calls.update(calls)
        self.served[upstream] += len(calls)
        headers = {key: value for key, value in request.headers.items() if key.lower() not in HOP_BY_HOP}
        response = await self._http.send(
            self._http.build_request(request.method, upstream, content=body, headers=headers),
            stream=True,
        )
        answer = {key: value for key, value in response.headers.items() if key.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers=answer,
            background=BackgroundTask(response.aclose),
        )


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` under uvicorn on a free 127.0.0.1 port, in a thread of its own (so a test may block on
    processes meanwhile); its base URL. Stopped on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False)
    )  # off the main thread: no signals
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the proxy did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
