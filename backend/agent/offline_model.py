"""The built-in offline model: deterministic, keyless, streamed like a real Responses model.

It goes through the same Agents SDK and ChatKit streaming path as a provider model: the same
event shapes (output item added, content part added, text deltas, text done, completed), in
several deltas, with a fresh message id per reply.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

MODEL_NAME = "offline"
WORDS_PER_DELTA = 6
CAPABILITIES = (
    "I'm the built-in offline model: no AI provider key is configured, so I answer from a few fixed "
    "rules instead of understanding language. Set OPENAI_API_KEY or GEMINI_API_KEY (or LLM_PROVIDER) "
    "for a real model."
)


def user_texts(model_input: str | list[Any]) -> list[str]:
    """The text of every user message in the model input, oldest first."""
    if isinstance(model_input, str):
        return [model_input]
    texts = []
    for item in model_input:
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            parts = [part.get("text", "") for part in content if isinstance(part, dict)]
            texts.append(" ".join(part for part in parts if part))
    return texts


def reply_to(model_input: str | list[Any]) -> str:
    """What the offline model says to this conversation."""
    texts = [text.strip() for text in user_texts(model_input) if text.strip()]
    if not texts:
        return f"Hello! {CAPABILITIES}"
    last = re.sub(r"\s+", " ", texts[-1])
    quoted = last if len(last) <= 200 else last[:197] + "..."
    count = len(texts)
    history = (
        "This is your first message." if count == 1 else f"You have sent {count} messages in this thread."
    )
    return f"You said: “{quoted}”. {history} {CAPABILITIES}"


def _chunks(text: str) -> Iterator[str]:
    words = text.split(" ")
    for start in range(0, len(words), WORDS_PER_DELTA):
        piece = " ".join(words[start : start + WORDS_PER_DELTA])
        yield piece if start + WORDS_PER_DELTA >= len(words) else piece + " "


def _message(message_id: str, text: str, status: Any) -> ResponseOutputMessage:
    content: list[ResponseOutputText | ResponseOutputRefusal] = (
        [ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])] if text else []
    )
    return ResponseOutputMessage(
        id=message_id, type="message", role="assistant", status=status, content=content
    )


def _response(response_id: str, output: list[Any], status: Any) -> Response:
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


class OfflineModel(Model):
    """A Responses-style model that needs no network and no key."""

    async def get_response(
        self, system_instructions: str | None, input: str | list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        """The whole reply at once."""
        message = _message(f"msg_{secrets.token_hex(16)}", reply_to(input), "completed")
        return ModelResponse(output=[message], usage=Usage(), response_id=f"resp_{secrets.token_hex(8)}")

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        **kwargs: Any,
    ) -> AsyncIterator[ResponseStreamEvent]:
        """The reply as Responses stream events, a few words per text delta."""
        text = reply_to(input)
        response_id, message_id = f"resp_{secrets.token_hex(8)}", f"msg_{secrets.token_hex(16)}"
        sequence = iter(range(1_000_000))
        yield ResponseCreatedEvent(
            type="response.created",
            response=_response(response_id, [], "in_progress"),
            sequence_number=next(sequence),
        )
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=_message(message_id, "", "in_progress"),
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
        for delta in _chunks(text):
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
        done = _message(message_id, text, "completed")
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done", item=done, output_index=0, sequence_number=next(sequence)
        )
        yield ResponseCompletedEvent(
            type="response.completed",
            response=_response(response_id, [done], "completed"),
            sequence_number=next(sequence),
        )
