"""The offline model alone, step by step: each call's input is the thread so far plus the calls it
made this turn and their outputs (as the Agents SDK builds it); later turns see only the widgets
and replies. Act by title, "the first one", "cheap", "more", third-party tools and the questions
it asks, help, honesty, attachments."""

from __future__ import annotations

import json

import pytest

from backend.agent.offline import Call
from backend.mcp.hub import McpHub
from tests.backend.offline_tools import assistant, call_of, called, said, shipped, tools, user, widget

A, B = "task_aaaaaaaaaaaa", "task_bbbbbbbbbbbb"
HIGH = "high priority"
TWO_MILKS = (
    f"2 task(s) found: {A} 'buy milk' (pending, medium priority); "
    f"{B} 'buy oat milk' (pending, high priority, due 2026-03-12)."
)
LISTED = [
    user("list tasks"),
    widget(f"2 tasks\n- buy milk · {A} · Medium\n- call mom · Due Mar 12, 2026 · {B} · High"),
    assistant(
        f"2 task(s) found: {A} 'buy milk' (pending, medium priority); {B} 'call mom' (pending, {HIGH})."
    ),
]
SEARCH = (
    "12 item(s) found: itm_00001 Alpha Headphones ($10.00, Audio, in stock, rated 4.0); "
    "itm_00002 Beta Headphones ($40.00, Audio, in stock, rated 4.5); "
    "itm_00003 Gamma Headphones ($100.00, Audio, sold out, rated 3.9) and 9 more."
)


def test_acting_on_a_title_with_one_match_lists_then_acts() -> None:
    turn = [user("mark the milk one as done")]
    lookup = call_of(turn)
    assert lookup == Call("list_tasks", {"query": "milk", "status": "pending"})
    turn += called(lookup, f"1 pending task(s) found: {A} 'buy milk' (pending, medium priority).")
    action = call_of(turn)
    assert action == Call("complete_task", {"task_id": A})
    turn += called(action, f"Task completed: {A} 'buy milk' (completed, medium priority).", 2)
    assert said(turn) == f"Task completed: {A} 'buy milk' (completed, medium priority)."


def test_the_change_asked_for_goes_with_the_task_found() -> None:
    for text, change in [
        ("move the report to friday", {"due_date": "2026-03-13"}),
        ("make the report task high priority", {"priority": "high"}),
        ("rename report to quarterly report", {"title": "quarterly report"}),
    ]:
        turn = [user(text)]
        turn += called(call_of(turn), f"1 task(s) found: {A} 'report' (pending, medium priority).")
        assert call_of(turn) == Call("update_task", {"task_id": A, **change})


def test_several_matches_are_listed_and_the_answer_picks_one() -> None:
    turn = [user("mark the milk one as done")]
    turn += called(call_of(turn), TWO_MILKS)
    question = said(turn)
    assert question.startswith("Several tasks match “milk”:")
    assert f"1. {A} 'buy milk'" in question and f"2. {B} 'buy oat milk'" in question
    assert "Which one do you mean" in question
    thread = [user("mark the milk one as done"), widget(f"2 tasks\n- buy milk · {A}"), assistant(question)]
    for answer, chosen in [("the second one", B), ("2", B), ("buy oat milk", B), ("the first", A), (A, A)]:
        assert call_of([*thread, user(answer)]) == Call("complete_task", {"task_id": chosen}), answer
    assert "leave them" in said([*thread, user("never mind")])
    assert call_of([*thread, user("list tasks")]) == Call("list_tasks", {})  # a new request instead


def test_an_exact_title_among_several_matches_is_the_one() -> None:
    turn = [user("delete buy milk")]
    turn += called(call_of(turn), TWO_MILKS)
    assert call_of(turn) == Call("delete_task", {"task_id": A})


def test_no_match_is_said() -> None:
    turn = [user("delete the dentist task")]
    turn += called(call_of(turn), "0 task(s) found.")
    assert said(turn) == "No task matches “dentist”. Say “list tasks” to see them all."
    turn = [user("mark the dentist one as done")]
    turn += called(call_of(turn), "0 pending task(s) found.")
    assert said(turn).startswith("No pending task matches “dentist”.")


async def _no_meta(_: object) -> None:
    return None


@pytest.mark.parametrize("error", [RuntimeError("Connection closed"), TimeoutError("timed out")])
@pytest.mark.parametrize("request_", ["delete the dentist task", "list tasks", "add task buy milk"])
def test_a_failed_call_is_said_in_words_for_the_user(request_: str, error: Exception) -> None:
    """What the hub tells the model about a dead or slow server reads right when shown as-is."""
    hub = McpHub({}, meta_resolver=_no_meta, data_extractor=_no_meta)
    failure = hub._failure_message("tasks")(None, error)  # type: ignore[arg-type]
    assert "Tell the user" not in failure
    assert failure.endswith("Please try again in a moment.")
    turn = [user(request_)]
    turn += called(call_of(turn), failure)
    assert said(turn) == failure


def test_the_first_one_and_it_refer_to_what_was_shown_last() -> None:
    assert call_of([*LISTED, user("mark the first one as done")]) == Call("complete_task", {"task_id": A})
    assert call_of([*LISTED, user("delete the second one")]) == Call("delete_task", {"task_id": B})
    assert call_of([*LISTED, user("move the last one to tomorrow")]) == Call(
        "update_task", {"task_id": B, "due_date": "2026-03-12"}
    )
    assert call_of([*LISTED, user("show the second one")]) == Call("get_task", {"task_id": B})
    added = [
        user("add task buy milk"),
        widget(f"Task created · {A} · buy milk · Pending · Medium priority"),
        assistant(f"Task created: {A} 'buy milk' (pending, medium priority)."),
    ]
    assert call_of([*added, user("mark it as done")]) == Call("complete_task", {"task_id": A})
    assert call_of([*added, user("make it urgent")]) == Call(
        "update_task", {"task_id": A, "priority": "high"}
    )
    noted = [
        user(f"[Done from widgets, not typed by the user:\n- From a widget, the user completed “x” ({B}).]")
    ]
    assert call_of([*noted, user("reopen it")]) == Call("reopen_task", {"task_id": B})


def test_it_among_several_asks_which_and_the_answer_acts() -> None:
    question = said([*LISTED, user("delete it")])
    assert "Which one do you mean" in question and A in question and B in question
    thread = [*LISTED, user("delete it"), assistant(question)]
    assert call_of([*thread, user("call mom")]) == Call("delete_task", {"task_id": B})


def test_a_reference_without_anything_shown_says_so() -> None:
    assert "haven't shown any tasks" in said([user("mark the first one as done")])


def test_cheap_searches_twice_and_says_the_limit() -> None:
    turn = [user("cheap headphones")]
    first = call_of(turn)
    assert first == Call("search_items", {"query": "headphone"})
    turn += called(first, SEARCH)
    second = call_of(turn)
    assert second == Call("search_items", {"query": "headphone", "max_price": 40.0})  # 10 + (100 - 10) / 3
    turn += called(second, "2 item(s) found: itm_00001 Alpha Headphones ($10.00, ...); ...", 2)
    assert said(turn).startswith("“Cheap” here means up to $40.00, the lower third of the price range")
    stock = call_of([user("cheap lamps in stock")])
    assert stock == Call("search_items", {"query": "lamp", "in_stock": True})


def test_cheap_with_a_limit_said_is_that_limit() -> None:
    assert call_of([user("cheap headphones under 50")]) == Call(
        "search_items", {"query": "headphone", "max_price": 50}
    )


def test_more_uses_the_cursor_of_the_last_search() -> None:
    page = json.dumps(
        {"query": "lamp", "items": [{"id": "itm_00001", "price": 5.0}], "next_cursor": "abc123"}
    )
    turn = [user("search lamps")]
    turn += called(call_of(turn), page)
    reply = said(turn)
    assert "next_cursor: abc123" in reply
    thread = [user("search lamps"), assistant(reply)]
    assert call_of([*thread, user("more")]) == Call("search_items", {"query": "lamp", "cursor": "abc123"})
    assert call_of([*thread, user("next page")]) == Call(
        "search_items", {"query": "lamp", "cursor": "abc123"}
    )


def test_more_without_a_cursor_shows_a_longer_list() -> None:
    thread = [user("lamps under 30"), widget("Showing 10 of 11 items for “lamps”"), assistant(SEARCH)]
    more = call_of([*thread, user("more")])
    assert more == Call("search_items", {"query": "lamp", "max_price": 30, "limit": 20})
    again = [*thread, user("more"), assistant("11 item(s) found: ..."), user("show more")]
    assert call_of(again) == Call("search_items", {"query": "lamp", "max_price": 30, "limit": 30})
    cheap = [
        user("cheap headphones"),
        assistant("“Cheap” here means up to $40.00, the lower third ..."),
        user("more"),
    ]
    assert call_of(cheap) == Call("search_items", {"query": "headphone", "max_price": 40, "limit": 20})
    assert "Search first" in said([user("more")])


def test_a_category_shown_by_list_categories_is_known() -> None:
    thread = [
        user("list categories"),
        assistant("15 categories: Audio (80), Home Office (70), Lighting (87), Sports & Fitness (74)."),
    ]
    assert call_of([*thread, user("cheap lamps in lighting under 40")]) == Call(
        "search_items", {"query": "lamp", "max_price": 40, "category": "Lighting"}
    )
    assert call_of([*thread, user("sports & fitness under 20")]) == Call(
        "search_items", {"query": "", "max_price": 20, "category": "Sports & Fitness"}
    )


def test_a_third_party_tool_asks_for_a_missing_argument_and_takes_the_answer() -> None:
    offered = tools()
    turn = [user("weather forecast for Oslo")]
    question = said(turn, offered)
    assert question == "Which unit: celsius or fahrenheit?"
    thread = [*turn, assistant(question)]
    assert call_of([*thread, user("Fahrenheit")], offered) == Call(
        "get_forecast", {"city": "Oslo", "unit": "fahrenheit"}
    )
    retry = said([*thread, user("kelvin")], offered)
    assert retry == "Sorry, “kelvin” isn't one of them. Which unit: celsius or fahrenheit?"
    chained = [*thread, user("kelvin"), assistant(retry), user("celsius")]
    assert call_of(chained, offered) == Call("get_forecast", {"city": "Oslo", "unit": "celsius"})
    assert "won't run Weather forecast" in said([*thread, user("never mind")], offered)


def test_two_missing_arguments_are_asked_one_after_the_other() -> None:
    offered = tools()
    first = said([user("what's the weather like?")], offered)
    assert first == "What should the city be?"
    thread = [user("what's the weather like?"), assistant(first), user("Lisbon")]
    second = said(thread, offered)
    assert second == "Which unit: celsius or fahrenheit?"
    thread += [assistant(second), user("it's celsius")]
    assert call_of(thread, offered) == Call("get_forecast", {"city": "Lisbon", "unit": "celsius"})


def test_a_third_party_result_is_summed_up() -> None:
    offered = tools()
    turn = [user("what's the weather in Paris in celsius")]
    output = json.dumps({"city": "Paris", "unit": "celsius", "days": [{"day": 1, "high": 12, "low": 8}]})
    turn += called(call_of(turn, offered), output)
    assert said(turn, offered) == "Weather forecast: city Paris, unit celsius, days: 1."


def test_a_task_without_a_title_is_asked_for() -> None:
    question = said([user("remind me tomorrow, urgent")])
    assert question == "What should the task be called?"
    thread = [user("remind me tomorrow, urgent"), assistant(question), user("call the bank")]
    assert call_of(thread) == Call(
        "add_task", {"title": "call the bank", "due_date": "2026-03-12", "priority": "high"}
    )


def test_help_lists_only_what_the_offered_tools_do() -> None:
    text = said([user("help")])
    assert "offline model" in text
    assert "“remind me to call mom tomorrow, high priority”" in text and "“cheap headphones under 50”" in text
    assert "Weather" not in text
    weather_only = said([user("what can you do?")], tools("get_forecast"))
    assert (
        "Weather forecast" in weather_only and "Tasks" not in weather_only and "Catalog" not in weather_only
    )
    assert "“weather forecast <city> <unit>”" in weather_only
    no_tools = said([user("help")], [])
    assert "No tools are connected right now" in no_tools and "“add task <title>”" in no_tools


def test_what_it_does_not_understand_it_says_honestly_without_counting_messages() -> None:
    thread = [user("hello"), assistant("Hello!"), widget("1 task"), user("tell me a story")]
    text = said(thread)
    assert text.startswith("You said: “tell me a story”.")
    assert "offline model" in text and "“help”" in text and "your tasks" in text
    assert "messages" not in text
    assert "Weather forecast" in said([user("tell me a story")], tools())
    assert "no tools are connected" in said([user("tell me a story")], [])


def test_a_tool_that_is_not_offered_is_said_to_be_unreachable() -> None:
    assert "can't reach the list_tasks tool" in said([user("list tasks")], [])
    assert "can't reach the delete_task tool" in said(
        [user("delete task task_0123456789ab")], tools("add_task", "list_tasks")
    )


def test_attachments_are_named_with_what_it_cannot_do() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
    note = {"type": "input_text", "text": "[The user attached a file: notes.txt (text/plain)]\nhello notes"}
    words = {"type": "input_text", "text": "what is in these?"}
    text = said([{"type": "message", "role": "user", "content": [words, image, note]}])
    assert text.startswith("You sent an image and notes.txt (text/plain).")
    assert "can't look at images or read documents" in text and "offline model" in text
    photo = {"type": "input_text", "text": "[The user attached a file: cat.png (image/png)]"}
    shown = said([{"type": "message", "role": "user", "content": [words, photo, image]}])
    assert shown.startswith("You sent cat.png (image/png). As the offline model I can't look at images;")
    only = said([{"type": "message", "role": "user", "content": [note]}])
    assert "can't read documents" in only and "Tell me in words what to do" in only
    asking = [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "add task buy milk"}, note],
        }
    ]
    call = call_of(asking)
    assert call == Call("add_task", {"title": "buy milk"})
    asking += called(call, "Task created: task_x 'buy milk' (pending, medium priority).")
    assert said(asking).endswith(
        "words of your message. Task created: task_x 'buy milk' (pending, medium priority)."
    )


def test_greetings_and_thanks_are_answered_as_the_offline_model() -> None:
    assert said([user("hi")]).startswith("Hello! I'm the built-in offline model")
    assert "offline model" in said([user("thanks!")])
    assert said([user("hello")], shipped()) == said([user("Hello!")])


def test_the_example_notes_server_is_used_from_plain_words() -> None:
    """examples/notes_server: its tools' names, titles, schemas and read-only hints decide."""
    notes = tools("add_note", "list_notes", "delete_note")
    both = [*shipped(), *notes]
    for text, call in [
        ("what are my notes?", Call("list_notes", {})),
        ("Review my notes", Call("list_notes", {})),
        ("note alice's secret", Call("add_note", {"title": "alice's secret"})),
        ("add a note: buy milk", Call("add_note", {"title": "buy milk"})),
        ("list notes tagged home", Call("list_notes", {"tag": "home"})),
        ("delete note note_0123456789ab", Call("delete_note", {"note_id": "note_0123456789ab"})),
    ]:
        assert call_of([user(text)], notes) == call, text
        assert call_of([user(text)], both) == call, text
    assert call_of([user("add task buy milk")], both) == Call("add_task", {"title": "buy milk"})
    assert call_of([user("delete the dentist task")], both) == Call("list_tasks", {"query": "dentist"})
    assert said([user("delete a note")], notes) == "What should the note id be?"
