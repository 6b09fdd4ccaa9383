"""`OfflineModel`: an Agents SDK `Model` that needs no network and no key.

It goes through the same SDK and ChatKit streaming path as a provider model (`events`), and
decides with plain rules (`decide`). Relative dates ("tomorrow") are read against `today()`: by
default today in the time zone of the request the turn runs for (`X-Timezone`, which the page
sends), else the server's local date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Usage
from openai.types.responses import ResponseStreamEvent

from backend.agent.offline import events
from backend.agent.offline.decide import decide
from backend.agent.offline.plans import Call
from backend.context import turn_today


class OfflineModel(Model):
    """A Responses-style model that calls the tools it is offered, decided by rules."""

    def __init__(self, today: Callable[[], date] | None = None) -> None:
        self.today = today or turn_today

    def decision(self, model_input: str | Sequence[Any], tools: Sequence[Any]) -> Any:
        """What to do with this input and these tools: a `Call`, or a `Say`."""
        return decide(model_input, tools, self.today())

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        **kwargs: Any,
    ) -> ModelResponse:
        """The whole reply at once."""
        decided = self.decision(input, tools)
        output: Any = (
            events.function_call(decided)
            if isinstance(decided, Call)
            else events.message(events.new_id("msg"), decided.text, "completed")
        )
        return ModelResponse(output=[output], usage=Usage(), response_id=events.new_id("resp"))

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
        decided = self.decision(input, tools)
        response_id = events.new_id("resp")
        sequence = iter(range(1_000_000))
        yield events.created(response_id, sequence)
        stream = (
            events.call_events(decided, response_id, sequence)
            if isinstance(decided, Call)
            else events.text_events(decided.text, response_id, sequence)
        )
        for event in stream:
            yield event
