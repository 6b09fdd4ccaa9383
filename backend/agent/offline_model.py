"""The built-in offline model: deterministic, keyless, streamed like a real Responses model.

It goes through the same Agents SDK and ChatKit streaming path as a provider model: the same
event shapes (output item added, content part added, text deltas, text done, completed), in
several deltas, with a fresh message id per reply.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Usage
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

from backend.agent.offline_intents import PHRASES, parse_intent

MODEL_NAME = "offline"
WORDS_PER_DELTA = 6
HELP = (
    "I'm the built-in offline model: no AI provider key is configured, so I only understand these "
    "phrases: " + "; ".join(f"“{phrase}”" for phrase in PHRASES) + ". Set OPENAI_API_KEY or "
    "GEMINI_API_KEY (or LLM_PROVIDER) for a real model."
)
SHORT_HELP = (
    "I'm the built-in offline model (no AI provider key is set), so I only understand a few phrases, "
    "such as “add task <title>”, “list tasks” and “search <words>”. Say “help” for all of them."
)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the offline model decided to make."""

    name: str
    arguments: dict[str, Any]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict)).strip()
    return ""


def user_texts(model_input: str | list[Any]) -> list[str]:
    """The text of every user message in the model input, oldest first."""
    if isinstance(model_input, str):
        return [model_input]
    return [
        _text_of(item.get("content"))
        for item in model_input
        if isinstance(item, dict) and item.get("role") == "user"
    ]


def decide(model_input: str | list[Any], tool_names: set[str]) -> str | ToolCall:
    """What the offline model does next: call a tool, or say something."""
    items = [model_input] if isinstance(model_input, str) else model_input
    last = items[-1] if items else None
    if isinstance(last, dict) and last.get("type") == "function_call_output":
        output = _text_of(last.get("output")) or "Done."
        first_line = output.splitlines()[0]
        return first_line if len(first_line) <= 300 else first_line[:297] + "..."
    texts = [text for text in user_texts(model_input) if text.strip()]
    if not texts:
        return f"Hello! {HELP}"
    if texts[-1].strip().lower().rstrip("?!.") in {"help", "what can you do"}:
        return HELP
    intent = parse_intent(texts[-1])
    if intent is None:
        quoted = re.sub(r"\s+", " ", texts[-1]).strip()
        quoted = quoted if len(quoted) <= 200 else quoted[:197] + "..."
        count = len(texts)
        history = (
            "This is your first message." if count == 1 else f"You have sent {count} messages in this thread."
        )
        return f"You said: “{quoted}”. {history} {SHORT_HELP}"
    if intent.tool not in tool_names:
        return f"I can't reach the {intent.tool} tool right now: its server is unavailable. Try again soon."
    return ToolCall(name=intent.tool, arguments=intent.arguments)


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


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def _call(decision: ToolCall, status: Any = "completed") -> ResponseFunctionToolCall:
    call_id = _id("call")
    return ResponseFunctionToolCall(
        id=call_id,
        call_id=call_id,
        type="function_call",
        name=decision.name,
        arguments=json.dumps(decision.arguments),
        status=status,
    )


async def _stream_call(decision: ToolCall, response_id: str, sequence: Iterator[int]) -> AsyncIterator[Any]:
    """A function call as a Responses stream: item added, argument deltas, done, completed."""
    call = _call(decision)
    arguments = call.arguments
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
        delta=arguments,
        sequence_number=next(sequence),
    )
    yield ResponseFunctionCallArgumentsDoneEvent.model_validate(
        {
            "type": "response.function_call_arguments.done",
            "item_id": call.id,
            "output_index": 0,
            "arguments": arguments,
            "name": call.name,
            "sequence_number": next(sequence),
        }
    )
    yield ResponseOutputItemDoneEvent(
        type="response.output_item.done", item=call, output_index=0, sequence_number=next(sequence)
    )
    yield ResponseCompletedEvent(
        type="response.completed",
        response=_response(response_id, [call], "completed"),
        sequence_number=next(sequence),
    )


class OfflineModel(Model):
    """A Responses-style model that needs no network and no key; it calls the tools it is offered."""

    async def get_response(
        self, system_instructions: str | None, input: str | list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        """The whole reply at once."""
        tools = kwargs.get("tools", args[2] if len(args) > 2 else [])
        decision = decide(input, {tool.name for tool in tools})
        output: Any = (
            _call(decision) if isinstance(decision, ToolCall) else _message(_id("msg"), decision, "completed")
        )
        return ModelResponse(output=[output], usage=Usage(), response_id=_id("resp"))

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
        """The reply as Responses stream events: a tool call, or text a few words per delta."""
        decision = decide(input, {tool.name for tool in tools})
        response_id, message_id = _id("resp"), _id("msg")
        sequence = iter(range(1_000_000))
        yield ResponseCreatedEvent(
            type="response.created",
            response=_response(response_id, [], "in_progress"),
            sequence_number=next(sequence),
        )
        if isinstance(decision, ToolCall):
            async for event in _stream_call(decision, response_id, sequence):
                yield event
            return
        text = decision
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
