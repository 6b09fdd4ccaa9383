"""A bare FastAPI SSE endpoint: the floor the ChatKit benchmark compares against.

`python bench/sse_floor.py PORT EVENTS` serves POST / streaming EVENTS small `data:` frames.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse


def create_floor_app(events: int) -> FastAPI:
    """An app whose POST / streams `events` SSE frames."""
    app = FastAPI()

    async def frames() -> AsyncIterator[bytes]:
        for index in range(events):
            yield b'data: {"type":"thread.item.updated","item_id":"msg_x","n":%d}\n\n' % index

    @app.post("/")
    async def stream() -> StreamingResponse:
        return StreamingResponse(frames(), media_type="text/event-stream")

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_floor_app(int(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning"
    )
