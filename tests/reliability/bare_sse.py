"""The load test's baseline: a bare FastAPI endpoint that answers a ChatKit turn with the events a
real turn streams (thread created, the user's message, the assistant's reply), without a store, a
model or tools. `python -m uvicorn tests.reliability.bare_sse:app` serves it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    Page,
    Thread,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
)
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def turn_events(body: dict[str, object]) -> list[ThreadStreamEvent]:
    """The events of one turn: `thread.created` for threads.create, then both messages."""
    params = body.get("params")
    params = params if isinstance(params, dict) else {}
    now = datetime.now(UTC)
    events: list[ThreadStreamEvent] = []
    thread_id = str(params.get("thread_id") or f"thr_{uuid.uuid4().hex[:12]}")
    if body.get("type") == "threads.create":
        events.append(ThreadCreatedEvent(thread=Thread(id=thread_id, created_at=now, items=Page())))
    text = "baseline"
    events.append(
        ThreadItemDoneEvent(
            item=UserMessageItem(
                id=f"msg_{uuid.uuid4().hex[:12]}",
                thread_id=thread_id,
                created_at=now,
                content=[UserMessageTextContent(text=text)],
                attachments=[],
                inference_options=InferenceOptions(),
            )
        )
    )
    events.append(
        ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=f"msg_{uuid.uuid4().hex[:12]}",
                thread_id=thread_id,
                created_at=now,
                content=[AssistantMessageContent(text="Baseline reply.")],
            )
        )
    )
    return events


@app.post("/chatkit")
async def chatkit(request: Request) -> StreamingResponse:
    """Stream one turn's events as SSE, as the backend does."""
    events = turn_events(json.loads(await request.body()))

    async def frames() -> AsyncIterator[bytes]:
        for event in events:
            yield b"data: " + event.model_dump_json(exclude_none=True).encode() + b"\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    """Ready as soon as it serves."""
    return {"status": "ok"}
