"""The offline model alone: the first tool call each of many ordinary phrasings makes (typos in
filler words, case, punctuation), with dates read against a fixed Wednesday, 2026-03-11."""

from __future__ import annotations

from typing import Any

import pytest

from backend.agent.offline import Call
from tests.backend.offline_tools import call_of, tools, user

ID = "task_0123456789ab"
ADDING: list[tuple[str, dict[str, Any]]] = [
    ("add task buy milk", {"title": "buy milk"}),
    (
        "remind me to call mom tomorrow, high priority",
        {"title": "call mom", "due_date": "2026-03-12", "priority": "high"},
    ),
    ("remnd me to call mom tomorow", {"title": "call mom", "due_date": "2026-03-12"}),
    ("Remind me to call Mom on Friday.", {"title": "call Mom", "due_date": "2026-03-13"}),
    ("I need to pay rent by friday", {"title": "pay rent", "due_date": "2026-03-13"}),
    ("put buy eggs on my list", {"title": "buy eggs"}),
    ("don't forget to water the plants next friday", {"title": "water the plants", "due_date": "2026-03-20"}),
    ("dont forget to send the invoice!", {"title": "send the invoice"}),
    ("add call dentist to my tasks for Dec 5", {"title": "call dentist", "due_date": "2026-12-05"}),
    (
        "remind me to file taxes in 3 days, urgent",
        {"title": "file taxes", "due_date": "2026-03-14", "priority": "high"},
    ),
    (
        "Remind me to renew passport on 2026-05-01 (low priority)",
        {"title": "renew passport", "due_date": "2026-05-01", "priority": "low"},
    ),
    ("todo: clean garage someday", {"title": "clean garage", "priority": "low"}),
    ("I have to finish the slides asap", {"title": "finish the slides", "priority": "high"}),
    ("add a task to book flights, low priority", {"title": "book flights", "priority": "low"}),
    ("create task prepare slides due next monday", {"title": "prepare slides", "due_date": "2026-03-16"}),
    ("new task: Buy Birthday Gift", {"title": "Buy Birthday Gift"}),
    ("please add task pick up laundry today!", {"title": "pick up laundry", "due_date": "2026-03-11"}),
    ("remind me to stretch whenever", {"title": "stretch", "priority": "low"}),
    (
        "Remind me to call the bank the day after tomorrow",
        {"title": "call the bank", "due_date": "2026-03-13"},
    ),
    ("i gotta renew my license in two weeks", {"title": "renew my license", "due_date": "2026-03-25"}),
    (
        "add task important: prepare the board meeting",
        {"title": "prepare the board meeting", "priority": "high"},
    ),
    (
        "remind me to pay the electricity bill on the 5th of may",
        {"title": "pay the electricity bill", "due_date": "2026-05-05"},
    ),
    ("add task call grandma this weekend", {"title": "call grandma", "due_date": "2026-03-14"}),
    (
        "Add task submit report by end of the month, medium priority",
        {"title": "submit report", "due_date": "2026-03-31", "priority": "medium"},
    ),
    (
        "I must buy a present for Jane next month",
        {"title": "buy a present for Jane", "due_date": "2026-04-01"},
    ),
    ("remind me tomorrow to call the plumber", {"title": "call the plumber", "due_date": "2026-03-12"}),
    ("REMIND ME TO CALL MOM TOMORROW", {"title": "CALL MOM", "due_date": "2026-03-12"}),
    ("add task buy milk on Jan 3", {"title": "buy milk", "due_date": "2027-01-03"}),
    ("remember to water the plants", {"title": "water the plants"}),
    ("note to self: back up the laptop", {"title": "back up the laptop"}),
    ("add task over http 5", {"title": "over http 5"}),
    ("plz add task feed the cat tmrw", {"title": "feed the cat", "due_date": "2026-03-12"}),
    ("add task a task of bob", {"title": "a task of bob"}),
    (
        "Can you add a reminder to book the vet for Monday?",
        {"title": "book the vet", "due_date": "2026-03-16"},
    ),
]
LISTING: list[tuple[str, dict[str, Any]]] = [
    ("list tasks", {}),
    ("show my tasks", {}),
    ("show completed tasks", {"status": "completed"}),
    ("list pending tasks", {"status": "pending"}),
    ("what's on my list?", {}),
    ("Show my todos", {}),
    ("what do I have to do", {"status": "pending"}),
    ("Plan my day", {"status": "pending"}),  # the tasks server's start-screen prompt
    ("help me plan my week", {"status": "pending"}),
    ("anything left?", {"status": "pending"}),
    ("what have I finished", {"status": "completed"}),
    ("open tasks", {"status": "pending"}),
    ("tasks about groceries", {"query": "groceries"}),
    ("what's left to do today", {"status": "pending"}),
    ("my tasks", {}),
    ("any tasks about taxes?", {"query": "taxes"}),
    ("find tasks about the dentist", {"query": "dentist"}),
    ("what did I complete", {"status": "completed"}),
    ("which tasks are still open", {"status": "pending"}),
    ("search my tasks for report", {"query": "report"}),
    ("What's pending?", {"status": "pending"}),
    ("show me my done tasks", {"status": "completed"}),
    ("Could you please show me my tasks?", {}),
    ("what should I do next", {"status": "pending"}),
]
ACTING: list[tuple[str, str, dict[str, Any]]] = [
    ("mark the milk one as done", "list_tasks", {"query": "milk", "status": "pending"}),
    ("delete the dentist task", "list_tasks", {"query": "dentist"}),
    ("reopen buy milk", "list_tasks", {"query": "buy milk", "status": "completed"}),
    ("rename milk to oat milk", "list_tasks", {"query": "milk"}),
    ("make the taxes task high priority", "list_tasks", {"query": "taxes"}),
    ("move the report to friday", "list_tasks", {"query": "report"}),
    ("i finished the report", "list_tasks", {"query": "report", "status": "pending"}),
    ("check off groceries", "list_tasks", {"query": "groceries", "status": "pending"}),
    ("remove the gym task from my list", "list_tasks", {"query": "gym"}),
    ("postpone the dentist until next week", "list_tasks", {"query": "dentist"}),
    ("the report is done", "list_tasks", {"query": "report", "status": "pending"}),
    ("mark buy milk as not done", "list_tasks", {"query": "buy milk", "status": "completed"}),
    ("delte the dentist task", "list_tasks", {"query": "dentist"}),
    ("Finish the task called water plants", "list_tasks", {"query": "water plants", "status": "pending"}),
    (f"complete task {ID}", "complete_task", {"task_id": ID}),
    (f"delete task {ID}", "delete_task", {"task_id": ID}),
    (f"reopen task {ID}", "reopen_task", {"task_id": ID}),
    (f"rename task {ID} to buy oat milk", "update_task", {"task_id": ID, "title": "buy oat milk"}),
    (f"show task {ID}", "get_task", {"task_id": ID}),
    (f"mark {ID} as done", "complete_task", {"task_id": ID}),
    (f"make {ID} urgent", "update_task", {"task_id": ID, "priority": "high"}),
    (f"move {ID} to tomorrow", "update_task", {"task_id": ID, "due_date": "2026-03-12"}),
]
SEARCHING: list[tuple[str, str, dict[str, Any]]] = [
    ("search desk lamp", "search_items", {"query": "desk lamp"}),
    ("find desk lamp", "search_items", {"query": "desk lamp"}),
    ("cheap headphones under 50", "search_items", {"query": "headphone", "max_price": 50}),
    ("headphones below $30", "search_items", {"query": "headphone", "max_price": 30}),
    ("lamps less than 20 dollars", "search_items", {"query": "lamp", "max_price": 20}),
    ("chairs between 20 and 40", "search_items", {"query": "chair", "min_price": 20, "max_price": 40}),
    ("desks over 100", "search_items", {"query": "desk", "min_price": 100}),
    ("desk lamps in stock", "search_items", {"query": "desk lamp", "in_stock": True}),
    (
        "search for a lamp under $25 that is available",
        "search_items",
        {"query": "lamp", "max_price": 25, "in_stock": True},
    ),
    (
        "show me keyboards from $20 to $60",
        "search_items",
        {"query": "keyboard", "min_price": 20, "max_price": 60},
    ),
    ("I'm looking for a backpack under 80 bucks", "search_items", {"query": "backpack", "max_price": 80}),
    ("sold out lamps", "search_items", {"query": "lamp", "in_stock": False}),
    ("find chairs in the furniture category", "search_items", {"query": "chair", "category": "furniture"}),
    ("find speakers $50 or less", "search_items", {"query": "speaker", "max_price": 50}),
    ("headphones 20-40 dollars", "search_items", {"query": "headphone", "min_price": 20, "max_price": 40}),
    ("anything in stock under 20?", "search_items", {"query": "", "max_price": 20, "in_stock": True}),
    ("cheap headphones", "search_items", {"query": "headphone"}),  # then again, cheaper: see the flows
    ("list categories", "list_categories", {}),
    ("what categories are there?", "list_categories", {}),
    ("show item itm_00042", "get_item", {"item_id": "itm_00042"}),
    ("tell me about itm_00042", "get_item", {"item_id": "itm_00042"}),
]
THIRD_PARTY: list[tuple[str, str, dict[str, Any]]] = [
    ("what's the weather in Paris in celsius", "get_forecast", {"city": "Paris", "unit": "celsius"}),
    (
        "forecast for New York for 3 days in fahrenheit",
        "get_forecast",
        {"city": "New York", "unit": "fahrenheit", "days": 3},
    ),
    ("Paris weather, celsius", "get_forecast", {"city": "Paris", "unit": "celsius"}),
    (
        "weather city=Berlin unit=celsius days=2",
        "get_forecast",
        {"city": "Berlin", "unit": "celsius", "days": 2},
    ),
    ("convert 5 miles to km", "convert_length", {"value": 5, "to": "km"}),
    ("how many km is 26.2 miles", "convert_length", {"value": 26.2, "to": "km"}),
]
TABLE = (
    [(text, "add_task", arguments) for text, arguments in ADDING]
    + [(text, "list_tasks", arguments) for text, arguments in LISTING]
    + ACTING
    + SEARCHING
)


def test_the_table_is_large() -> None:
    assert len(TABLE) + len(THIRD_PARTY) >= 80


@pytest.mark.parametrize(("text", "tool", "arguments"), TABLE, ids=[case[0] for case in TABLE])
def test_a_phrase_makes_its_call(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert call_of([user(text)]) == Call(tool, arguments)


@pytest.mark.parametrize(("text", "tool", "arguments"), THIRD_PARTY, ids=[case[0] for case in THIRD_PARTY])
def test_a_third_party_tool_is_called_from_plain_words(
    text: str, tool: str, arguments: dict[str, Any]
) -> None:
    assert call_of([user(text)], tools()) == Call(tool, arguments)


@pytest.mark.parametrize(
    "text", ["add task buy milk", "list tasks", "search desk lamp", "show item itm_00042"]
)
def test_the_tasks_and_catalog_phrases_win_with_third_party_tools_offered(text: str) -> None:
    assert call_of([user(text)], tools()) == call_of([user(text)])
