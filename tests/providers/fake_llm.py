"""A scripted OpenAI-compatible model server, served over real HTTP on 127.0.0.1
(docs/architecture.md, "How we test").

Each test pushes the replies it wants onto a queue; every request to the model takes the next one
and is recorded (path, headers, JSON body, arrival time). Replies are streamed as the real APIs
stream them, so the openai client's HTTP and SSE code and the Agents SDK's stream handling run:

- `POST /v1/responses` (OpenAI Responses API, `event:` + `data:` frames, no `[DONE]`): text is
  response.created, response.in_progress, output_item.added (message, unique `msg_` id),
  content_part.added, output_text.delta × N, output_text.done, content_part.done,
  output_item.done, response.completed (with the whole output and usage). A function call is
  output_item.added (function_call, `fc_` id, `call_` call id), function_call_arguments.delta × N,
  function_call_arguments.done, output_item.done, response.completed.
- `POST /v1/chat/completions`, `chat_style = "openai"` (OpenAI, vLLM, Ollama): a role-only first
  chunk (`"content": ""`), one chunk per content delta, an empty delta with finish_reason `stop`
  (`tool_calls` after tool-call deltas: id, type and name first, arguments split over several
  chunks), a usage chunk with empty `choices` only when the request asks with
  `stream_options.include_usage`, then `data: [DONE]`. One `chatcmpl-` id per response.
- `chat_style = "gemini"` (Google's OpenAI-compatible endpoint, as reported by users of it, not
  verified against Google): no role-only chunk, every delta carries `role` and `content`, the last
  content chunk carries finish_reason `stop` and the usage (unasked), the same chunk `id` in every
  response; a tool call arrives whole in one chunk with no `index`, a `function-call-N` id, an
  `extra_content.google.thought_signature` and finish_reason `stop` (not `tool_calls`); error
  bodies are a JSON list `[{"error": {"code", "message", "status"}}]`.
- Errors (`Error`): the status with the API's JSON error body (an invalid key is echoed masked, as
  OpenAI does), optional headers (`retry-after-ms`). `Broken`: the stream starts, sends some text,
  then the connection is dropped without the end of the chunked body (uvicorn logs the exception).
- `Slow(seconds, then=reply)`: `reply`, after `seconds` of silence: before the response starts
  (a slow first byte), or with `headers_first` after its headers (a stream that stalls at once).
- `ToolCall(..., before=pieces)`: a message streamed before the call in the same response;
  `pause=seconds` holds the stream that long between that message and the call (OpenAI chat and
  Responses styles), as a model that thinks before calling a tool.
- `Reasoning(summary pieces, then=Text(...) or None)` (Responses only): a reasoning item whose
  summary streams (reasoning_summary_part.added, reasoning_summary_text.delta × N, .done,
  part.done), as reasoning models send it, then the message if any.
A request with nothing scripted gets a 400 (not retried by the client) and fails the test. Any
other path is recorded and answered 404 (so a misdirected request, e.g. a trace export, shows).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

GEMINI_CHUNK_ID = "gemini-compat-not-unique"
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


@dataclass
class Text:
    """An assistant message streamed in these pieces."""

    deltas: list[str]

    def __init__(self, *deltas: str) -> None:
        self.deltas = list(deltas)


@dataclass
class ToolCall:
    """A call of function `name` with `arguments`, after a message streamed in `before` pieces, if any."""

    name: str
    arguments: dict[str, Any]
    before: tuple[str, ...] = ()
    call_id: str = field(default_factory=lambda: new_id("call_"))
    pause: float = 0.0  # seconds between the message before the call and the call


@dataclass(frozen=True)
class Pause:
    """In a reply's frames: hold the stream this many seconds before the next frame."""

    seconds: float


@dataclass
class Error:
    """An HTTP error with the API's JSON error body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Broken:
    """A text stream that sends these pieces, then loses its connection."""

    deltas: list[str]

    def __init__(self, *deltas: str) -> None:
        self.deltas = list(deltas)


@dataclass
class Reasoning:
    """A reasoning item whose summary streams in these pieces, then (optionally) a message."""

    summary: list[str]
    then: Text | None

    def __init__(self, *summary: str, then: Text | None = None) -> None:
        self.summary, self.then = list(summary), then


@dataclass
class Slow:
    """`then`, after `seconds` of silence (before the headers, or after them with `headers_first`)."""

    seconds: float
    then: Text | ToolCall | Error | Broken | Reasoning
    headers_first: bool = False


Reply = Text | ToolCall | Error | Broken | Reasoning | Slow


@dataclass
class Seen:
    """One request as the fake received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class ConnectionDropped(Exception):
    """Raised inside a streaming body: uvicorn then closes the connection mid-response."""


ERRORS = {
    401: ("invalid_request_error", "invalid_api_key", "UNAUTHENTICATED"),
    429: ("requests", "rate_limit_exceeded", "RESOURCE_EXHAUSTED"),
    500: ("server_error", None, "INTERNAL"),
    503: ("server_error", None, "UNAVAILABLE"),
}


class FakeLLM:
    """The scripted server: `push()` replies, read `requests` afterwards; `app` is its ASGI app."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self.chat_style: Literal["openai", "gemini"] = "openai"
        self.frame_delay = 0.0  # seconds between streamed frames: a slow model
        self.base_url = ""  # set by the fixture that serves `app`
        self._gemini_calls = 0
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/{path:path}", self._elsewhere, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    def push(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        self.script.extend(replies)

    async def _elsewhere(self, request: Request) -> Response:
        """Any other request (e.g. a trace export pointed here): recorded, answered 404."""
        body = await request.body()
        parsed = json.loads(body) if body.startswith(b"{") else {"raw": body.decode(errors="replace")}
        self.requests.append(Seen(request.url.path, dict(request.headers), parsed, time.monotonic()))
        return JSONResponse({"error": {"message": "not emulated"}}, status_code=404)

    async def _take(self, request: Request) -> tuple[dict[str, Any], Reply | Response, float]:
        """The request's body, the reply to stream (or the response to send) and how long the
        stream stalls after its headers."""
        stall = 0.0
        body, reply = await self._next(request)
        if isinstance(reply, Slow):
            if reply.headers_first:
                stall = reply.seconds
            else:
                await asyncio.sleep(reply.seconds)
            reply = reply.then
            if isinstance(reply, Error):
                return body, self._error(reply, request.headers.get("authorization", "")), 0.0
        return body, reply, stall

    async def _next(self, request: Request) -> tuple[dict[str, Any], Reply | Response]:
        body = await request.json()
        self.requests.append(Seen(request.url.path, dict(request.headers), body, time.monotonic()))
        if not body.get("stream"):
            return body, JSONResponse({"error": {"message": "the fake only streams"}}, status_code=400)
        if not self.script:
            return body, JSONResponse({"error": {"message": "fake LLM: nothing scripted"}}, status_code=400)
        reply = self.script.popleft()
        if isinstance(reply, Error):
            return body, self._error(reply, request.headers.get("authorization", ""))
        return body, reply

    def _error(self, error: Error, authorization: str) -> Response:
        kind, code, status = ERRORS.get(error.status, ("server_error", None, "UNKNOWN"))
        message = f"Fake error {error.status}."
        if error.status == 401:
            key = authorization.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key[:3]}{'*' * 20}{key[-4:]}."
        if self.chat_style == "gemini":
            content: Any = [{"error": {"code": error.status, "message": message, "status": status}}]
        else:
            content = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(content, status_code=error.status, headers=error.headers)

    def _stream(self, frames: Iterator[str | Pause], stall: float = 0.0) -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            if stall:
                yield ": stalled\n\n"  # an SSE comment: the headers are out, then nothing for a while
                await asyncio.sleep(stall)
            for frame in frames:
                if isinstance(frame, Pause):
                    await asyncio.sleep(frame.seconds)
                    continue
                yield frame
                await asyncio.sleep(self.frame_delay)  # one frame per write, as a real server flushes them

        return StreamingResponse(body(), media_type="text/event-stream")

    async def _chat(self, request: Request) -> Response:
        body, reply, stall = await self._take(request)
        if isinstance(reply, Response):
            return reply
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks: Iterator[dict[str, Any] | Pause]
        if self.chat_style == "gemini":
            chunks = self._gemini_chunks(reply, body)
        else:
            chunks = self._openai_chunks(reply, body["model"], include_usage)
        return self._stream(self._chat_frames(chunks, broken=isinstance(reply, Broken)), stall)

    @staticmethod
    def _chat_frames(chunks: Iterator[dict[str, Any] | Pause], *, broken: bool) -> Iterator[str | Pause]:
        for chunk in chunks:
            yield chunk if isinstance(chunk, Pause) else f"data: {json.dumps(chunk)}\n\n"
        if broken:
            raise ConnectionDropped("the fake model drops the connection mid-stream")
        yield "data: [DONE]\n\n"

    @staticmethod
    def _openai_chunks(reply: Reply, model: str, include_usage: bool) -> Iterator[dict[str, Any] | Pause]:
        base: dict[str, Any] = {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }
        if include_usage:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return base | {
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            }

        texts = pieces(reply)
        if texts or not isinstance(reply, ToolCall):
            yield chunk({"role": "assistant", "content": "", "refusal": None})
        for delta in texts:
            yield chunk({"content": delta})
        if isinstance(reply, Broken):
            return
        if isinstance(reply, ToolCall):
            if reply.pause:
                yield Pause(reply.pause)
            function = {"name": reply.name, "arguments": ""}
            call = {"index": 0, "id": reply.call_id, "type": "function", "function": function}
            yield chunk(({} if texts else {"role": "assistant", "content": None}) | {"tool_calls": [call]})
            for piece in split(json.dumps(reply.arguments)):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if isinstance(reply, ToolCall) else "stop")
        if include_usage:
            yield base | {"choices": [], "usage": USAGE}

    def _gemini_chunks(self, reply: Reply, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        base = {"id": GEMINI_CHUNK_ID, "object": "chat.completion.chunk", "created": int(time.time())}
        base["model"] = body["model"]
        texts = pieces(reply)
        for number, delta in enumerate(texts, 1):
            last = number == len(texts) and isinstance(reply, Text)
            choice = {"index": 0, "delta": {"role": "assistant", "content": delta}}
            yield (
                base
                | {"choices": [choice | {"finish_reason": "stop" if last else None}]}
                | ({"usage": USAGE} if last else {})
            )
        if isinstance(reply, ToolCall):
            self._gemini_calls += 1
            reply.call_id = f"function-call-{self._gemini_calls}"
            call = {
                "id": reply.call_id,
                "type": "function",
                "function": {"name": reply.name, "arguments": json.dumps(reply.arguments)},
                "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}},
            }
            choice = {
                "index": 0,
                "delta": {"role": "assistant", "tool_calls": [call]},
                "finish_reason": "stop",
            }
            yield base | {"choices": [choice], "usage": USAGE}

    async def _responses(self, request: Request) -> Response:
        body, reply, stall = await self._take(request)
        if isinstance(reply, Response):
            return reply
        return self._stream(self._response_frames(reply, body), stall)

    @staticmethod
    def _response_frames(reply: Reply, body: dict[str, Any]) -> Iterator[str | Pause]:
        sequence = iter(range(1_000_000))

        def frame(type_: str, **data: Any) -> str:
            event = {"type": type_, "sequence_number": next(sequence), **data}
            return f"event: {type_}\ndata: {json.dumps(event)}\n\n"

        response: dict[str, Any] = {
            "id": new_id("resp_"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "in_progress",
            "model": body["model"],
            "instructions": body.get("instructions"),
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "text": {"format": {"type": "text"}},
            "error": None,
            "incomplete_details": None,
            "metadata": {},
            "usage": None,
        }
        yield frame("response.created", response=response)
        yield frame("response.in_progress", response=response)
        output: list[dict[str, Any]] = []
        if isinstance(reply, Reasoning):
            item = {"id": new_id("rs_"), "type": "reasoning", "summary": [], "status": "in_progress"}
            where = {"item_id": item["id"], "output_index": 0, "summary_index": 0}
            part = {"type": "summary_text", "text": ""}
            yield frame("response.output_item.added", output_index=0, item=item)
            yield frame("response.reasoning_summary_part.added", **where, part=part)
            for delta in reply.summary:
                yield frame("response.reasoning_summary_text.delta", **where, delta=delta)
            thought = "".join(reply.summary)
            yield frame("response.reasoning_summary_text.done", **where, text=thought)
            yield frame("response.reasoning_summary_part.done", **where, part=part | {"text": thought})
            output.append(item | {"status": "completed", "summary": [part | {"text": thought}]})
            yield frame("response.output_item.done", output_index=0, item=output[-1])
        texts = pieces(reply)
        if texts or not isinstance(reply, ToolCall | Reasoning):
            item = {
                "id": new_id("msg_"),
                "type": "message",
                "status": "in_progress",
                "content": [],
                "role": "assistant",
            }
            index = len(output)
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            yield frame("response.output_item.added", output_index=index, item=item)
            yield frame("response.content_part.added", **where, part=part)
            for delta in texts:
                yield frame("response.output_text.delta", **where, delta=delta, logprobs=[])
            if isinstance(reply, Broken):
                raise ConnectionDropped("the fake model drops the connection mid-stream")
            text = "".join(texts)
            yield frame("response.output_text.done", **where, text=text, logprobs=[])
            yield frame("response.content_part.done", **where, part=part | {"text": text})
            output.append(item | {"status": "completed", "content": [part | {"text": text}]})
            yield frame("response.output_item.done", output_index=index, item=output[-1])
        if isinstance(reply, ToolCall):
            if reply.pause:
                yield Pause(reply.pause)
            index, arguments = len(output), json.dumps(reply.arguments)
            item = {"id": new_id("fc_"), "type": "function_call", "status": "in_progress", "arguments": ""}
            item |= {"call_id": reply.call_id, "name": reply.name}
            where = {"item_id": item["id"], "output_index": index}
            yield frame("response.output_item.added", output_index=index, item=item)
            for piece in split(arguments):
                yield frame("response.function_call_arguments.delta", **where, delta=piece)
            yield frame("response.function_call_arguments.done", **where, arguments=arguments)
            output.append(item | {"status": "completed", "arguments": arguments})
            yield frame("response.output_item.done", output_index=index, item=output[-1])
        usage = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}
        usage |= {
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        completed = response | {"status": "completed", "output": output, "usage": usage}
        yield frame("response.completed", response=completed)


def pieces(reply: Reply) -> list[str]:
    """The text pieces of the message a reply streams (for a tool call, the message before it; for
    reasoning, the message after it)."""
    if isinstance(reply, Reasoning):
        return list(reply.then.deltas) if reply.then is not None else []
    return list(reply.before) if isinstance(reply, ToolCall) else list(getattr(reply, "deltas", []))


def split(text: str, parts: int = 3) -> list[str]:
    """`text` in `parts` roughly equal pieces (as arguments arrive from a real model)."""
    size = max(1, -(-len(text) // parts))
    return [text[start : start + size] for start in range(0, len(text), size)]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_done = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave Ctrl-C to pytest
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.startup_done.set()  # started, or gave up (`started` stays False)


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app (lifespan included) under uvicorn on a free 127.0.0.1 port; its base URL.
    Stopped (lifespan shutdown included) when the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    started = asyncio.create_task(server.startup_done.wait())
    try:
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if not server.started:
            await task  # raises what failed, if anything did
            raise RuntimeError("the server did not start (see the log)")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        started.cancel()
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def running(frame_delay: float = 0.0) -> AsyncIterator[FakeLLM]:
    """A fresh fake model served on 127.0.0.1 (one frame every `frame_delay` s): push replies, read
    `requests`; its `base_url` ends in `/v1`."""
    fake = FakeLLM()
    fake.frame_delay = frame_delay
    async with serve(fake.app) as url:
        fake.base_url = f"{url}/v1"
        yield fake
