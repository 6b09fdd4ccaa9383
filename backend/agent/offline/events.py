"""The offline model's replies as a real Responses model sends them: output items, and the stream
events (output item added, content part added, text deltas a few words each, text done, content
part done, output item done, completed; for a call, its argument delta and done), with fresh ids."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

from backend.agent.offline.plans import Call

MODEL_NAME = "offline"
WORDS_PER_DELTA = 6


def new_id(prefix: str) -> str:
    """A fresh id like the API's (`msg_…`, `call_…`, `resp_…`)."""
    return f"{prefix}_{secrets.token_hex(16)}"


def chunks(text: str) -> Iterator[str]:
    """`text` in pieces of WORDS_PER_DELTA words (with the space after each but the last)."""
    words = text.split(" ")
    for start in range(0, len(words), WORDS_PER_DELTA):
        piece = " ".join(words[start : start + WORDS_PER_DELTA])
        yield piece if start + WORDS_PER_DELTA >= len(words) else piece + " "


def message(message_id: str, text: str, status: Any) -> ResponseOutputMessage:
    """An assistant message item."""
    content: list[ResponseOutputText | ResponseOutputRefusal] = (
        [ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])] if text else []
    )
    return ResponseOutputMessage(
        id=message_id, type="message", role="assistant", status=status, content=content
    )


def response(response_id: str, output: list[Any], status: Any) -> Response:
    """A response object around `output`."""
    return Response(
        id=response_id,
        created_at=0,
        model=MODEL_NAME,
        object="response",
        output=output,
        tool_choice="auto",
        tools=[],
        parallel_tool_calls=False,
        status=status,
    )


def function_call(decision: Call, status: Any = "completed") -> ResponseFunctionToolCall:
    """A function call item for `decision`."""
    call_id = new_id("call")
    return ResponseFunctionToolCall(
        id=call_id,
        call_id=call_id,
        type="function_call",
        name=decision.name,
        arguments=json.dumps(decision.arguments),
        status=status,
    )


def call_events(decision: Call, response_id: str, sequence: Iterator[int]) -> Iterator[ResponseStreamEvent]:
    """A function call as stream events: item added, argument delta, arguments done, item done,
    completed."""
    call = function_call(decision)
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=call.model_copy(update={"arguments": "", "status": "in_progress"}),
        output_index=0,
        sequence_number=next(sequence),
    )
    yield ResponseFunctionCallArgumentsDeltaEvent(
        type="response.function_call_arguments.delta",
        item_id=call.id or "",
        output_index=0,
        delta=call.arguments,
        sequence_number=next(sequence),
    )
    yield ResponseFunctionCallArgumentsDoneEvent.model_validate(
        {
            "type": "response.function_call_arguments.done",
            "item_id": call.id,
            "output_index": 0,
            "arguments": call.arguments,
            "name": call.name,
            "sequence_number": next(sequence),
        }
    )
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=call, output_index=0, sequence_number=next(sequence)
    )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=response(response_id, [call], "completed"),
        sequence_number=next(sequence),
    )


def text_events(text: str, response_id: str, sequence: Iterator[int]) -> Iterator[ResponseStreamEvent]:
    """A message as stream events, its text in several deltas."""
    message_id = new_id("msg")
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=message(message_id, "", "in_progress"),
        output_index=0,
        sequence_number=next(sequence),
    )
    common: dict[str, Any] = {"item_id": message_id, "output_index": 0, "content_index": 0}
    yield ResponseContentPartAddedEvent(
        type="response.content_part.added",
        part=ResponseOutputText(type="output_text", text="", annotations=[], logprobs=[]),
        sequence_number=next(sequence),
        **common,
    )
    for delta in chunks(text):
        yield ResponseTextDeltaEvent(
            type="response.output_text.delta",
            delta=delta,
            logprobs=[],
            sequence_number=next(sequence),
            **common,
        )
    yield ResponseTextDoneEvent(
        type="response.output_text.done", text=text, logprobs=[], sequence_number=next(sequence), **common
    )
    yield ResponseContentPartDoneEvent(
        type="response.content_part.done",
        part=ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[]),
        sequence_number=next(sequence),
        **common,
    )
    done = message(message_id, text, "completed")
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=done, output_index=0, sequence_number=next(sequence)
    )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=response(response_id, [done], "completed"),
        sequence_number=next(sequence),
    )


def created(response_id: str, sequence: Iterator[int]) -> ResponseCreatedEvent:
    """The first event of a stream."""
    return ResponseCreatedEvent(
        type="response.created",
        response=response(response_id, [], "in_progress"),
        sequence_number=next(sequence),
    )
