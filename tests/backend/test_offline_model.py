"""The offline model as an Agents SDK `Model`: its stream (text in several deltas, or one call),
`get_response`, the injected today; and its rules for dates, priorities, titles and schemas."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from agents import ModelSettings, ModelTracing
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage

from backend.agent.offline import Call, OfflineModel
from backend.agent.offline.dates import take_date, whole_date
from backend.agent.offline.plans import cheap_limit
from backend.agent.offline.priorities import take_priority, whole_priority
from backend.agent.offline.tasks import clean_title
from backend.agent.offline.words import fix_typos, tidy
from tests.backend.offline_tools import TODAY, call_of, said, shipped, strict_tools, user

SHIPPED = shipped()
STRICT = [tool for tool in strict_tools() if tool.name in {tool.name for tool in SHIPPED}]


async def streamed(model: OfflineModel, text: str) -> list[Any]:
    stream = model.stream_response(
        None, [user(text)], ModelSettings(), SHIPPED, None, [], ModelTracing.DISABLED
    )
    return [event async for event in stream]


async def test_text_streams_in_several_deltas_and_says_it_is_offline() -> None:
    events = await streamed(OfflineModel(), "tell me a story")
    types = [event.type for event in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) > 3
    done = next(event.text for event in events if event.type == "response.output_text.done")
    assert "".join(deltas) == done and "offline model" in done


async def test_a_call_streams_as_a_function_call_with_its_arguments() -> None:
    model = OfflineModel(today=lambda: date(2026, 3, 11))
    events = await streamed(model, "remind me to call mom tomorrow, high priority")
    done = next(event for event in events if event.type == "response.function_call_arguments.done")
    assert done.name == "add_task"
    assert done.arguments == '{"title": "call mom", "due_date": "2026-03-12", "priority": "high"}'
    assert events[-1].type == "response.completed"


async def test_get_response_answers_at_once() -> None:
    model = OfflineModel(today=lambda: date(2030, 1, 1))
    settings, tracing = ModelSettings(), ModelTracing.DISABLED
    called = await model.get_response(
        None, [user("add task pay rent tomorrow")], settings, SHIPPED, None, [], tracing
    )
    [call] = called.output
    assert isinstance(call, ResponseFunctionToolCall) and call.name == "add_task"
    assert '"due_date": "2030-01-02"' in call.arguments
    answered = await model.get_response(None, "hello", settings, SHIPPED, None, [], tracing)
    [message] = answered.output
    assert isinstance(message, ResponseOutputMessage) and "offline model" in message.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("said_", "today", "expected"),
    [
        ("friday", date(2026, 3, 13), "2026-03-20"),  # on a Friday, "friday" is the next one
        ("next friday", date(2026, 3, 9), "2026-03-20"),  # Monday: next week's Friday
        ("next monday", date(2026, 3, 11), "2026-03-16"),
        ("on sat", date(2026, 3, 11), "2026-03-14"),
        ("this weekend", date(2026, 3, 15), "2026-03-15"),  # on a Sunday: today
        ("end of the week", date(2026, 3, 14), "2026-03-20"),
        ("in a month", date(2026, 1, 31), "2026-02-28"),
        ("in a couple of days", date(2026, 3, 11), "2026-03-13"),
        ("Dec 5", date(2026, 12, 10), "2027-12-05"),  # passed this year: next year's
        ("December 5th, 2026", date(2026, 12, 10), "2026-12-05"),  # a year given is kept
        ("on 12/5", date(2026, 3, 11), "2026-12-05"),
        ("tonight", date(2026, 3, 11), "2026-03-11"),
    ],
)
def test_dates_in_words(said_: str, today: date, expected: str) -> None:
    day = whole_date(said_, today)
    assert day is not None and day.isoformat() == expected


@pytest.mark.parametrize(
    "text",
    ["call the plumber 3", "buy 2 apples", "may the force be with you", "read chapter 12/13", "sunbathe"],
)
def test_numbers_and_words_that_are_not_dates_stay(text: str) -> None:
    assert take_date(text, TODAY) == (None, text)


@pytest.mark.parametrize(
    ("text", "level", "rest"),
    [
        ("call mom, high priority", "high", "call mom"),
        ("call mom (urgent!)", "high", "call mom"),
        ("call mom - not urgent", "low", "call mom"),
        ("stretch whenever I get a chance", "low", "stretch"),
        ("pay rent, it's important", "high", "pay rent"),
        ("tidy up, priority: medium", "medium", "tidy up"),
        ("highlight the text", None, "highlight the text"),
    ],
)
def test_priorities_in_words(text: str, level: str | None, rest: str) -> None:
    found, left = take_priority(text)
    assert found == level and clean_title(left) == rest


def test_a_whole_priority_and_titles_cleaned() -> None:
    assert [whole_priority(text) for text in ("high", "top priority", "urgent", "lower", "soon")] == [
        "high",
        "high",
        "high",
        "low",
        None,
    ]
    assert clean_title('  "Buy milk" ,') == "Buy milk"
    assert clean_title("to call mom and") == "call mom"


def test_typos_are_fixed_only_in_command_words() -> None:
    assert fix_typos("remnd me to call Mom tomorow") == "remind me to call Mom tomorrow"
    assert fix_typos("delte the mask task") == "delete the mask task"
    assert fix_typos("find a desk lamp") == "find a desk lamp"
    assert tidy("Hey, could you please list my tasks? Thanks!") == "list my tasks"


def test_cheap_is_the_lower_third_of_the_price_range() -> None:
    assert cheap_limit([10.0, 40.0, 100.0]) == 40.0
    assert cheap_limit([19.99]) == 19.99
    assert cheap_limit([5.0, 6.0]) == 5.34


def test_strict_schemas_are_read_the_same() -> None:
    """Every property required, optional ones nullable (a strict conversion): still optional."""
    assert call_of([user("remind me to call mom tomorrow")], STRICT) == Call(
        "add_task", {"title": "call mom", "due_date": "2026-03-12"}
    )
    assert said([user("remind me tomorrow")], STRICT) == "What should the task be called?"
