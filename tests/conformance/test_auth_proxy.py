"""The conformance suite's token proxy: what it adds, what it keeps, and that it streams."""

from __future__ import annotations

import asyncio

import httpx2

from tests.conformance.auth_proxy import bearer_proxy

SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def test_adds_the_token_keeps_the_rest_and_streams_each_event_as_it_comes() -> None:
    """The upstream sees the token (not the client's), the client's Host and body; an SSE event
    reaches the client while the upstream still holds the rest; a second request on the same
    connection is framed right."""
    heads: list[bytes] = []
    bodies: list[bytes] = []
    release = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            heads.append(head)
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            bodies.append(await reader.readexactly(length))
            writer.write(SSE_HEAD + _chunk(b"data: first\n\n"))
            await writer.drain()
            await release.wait()
            release.clear()
            writer.write(_chunk(b"data: second\n\n") + b"0\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with bearer_proxy(port, "the-token") as base:
            headers = {"Authorization": "Bearer the-client's", "Origin": "http://evil.example"}
            async with httpx2.AsyncClient(timeout=5.0) as http:
                for round_ in (b"1", b"2"):
                    body = b'{"round": ' + round_ + b"}"
                    async with http.stream(
                        "POST", f"{base}/mcp?x=1", content=body, headers=headers
                    ) as answer:
                        lines = answer.aiter_lines()
                        assert await asyncio.wait_for(anext(lines), 5) == "data: first"
                        release.set()
                        assert [line async for line in lines if line] == ["data: second"]
    assert bodies == [b'{"round": 1}', b'{"round": 2}']
    for head in heads:
        fields = head.lower().split(b"\r\n")
        assert fields[0] == b"post /mcp?x=1 http/1.1"
        assert b"authorization: bearer the-token" in fields
        assert not any(b"the-client's" in field for field in fields)
        assert f"host: {base.removeprefix('http://')}".encode() in fields
        assert b"origin: http://evil.example" in fields
