"""The offline model end to end: `chatkit-backend` (no provider key) with the shipped tasks and
items servers and the test weather server (`weather_mcp.py`, a third-party-style stdio server)
started by config, talked to over HTTP as ChatKit. Plain words in; the calls' effects checked in
the replies, the widgets and the stored tasks."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
from chatkit.types import AssistantMessageItem, ProgressUpdateEvent, ThreadItemDoneEvent, WidgetItem

from tests.backend.tool_app import User, control, raw
from tests.e2e.conftest import SHIPPED_MCP_CONFIG, BackendProcess, backend_env, run_backend

pytestmark = pytest.mark.e2e
WEATHER = Path(__file__).with_name("weather_mcp.py")
PRICE = re.compile(r'"\$([\d,]+\.\d{2})"')


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One backend for the module: the shipped servers plus the weather server, on temp databases."""
    directory = tmp_path_factory.mktemp("offline")
    servers = json.loads(SHIPPED_MCP_CONFIG.read_text())["mcpServers"]
    servers["weather"] = {"command": sys.executable, "args": [str(WEATHER)]}
    config = directory / "mcp_servers.json"
    config.write_text(json.dumps({"mcpServers": servers}))
    with run_backend(directory, backend_env(directory, MCP_CONFIG=str(config))) as process:
        yield process


@pytest.fixture
async def alice(backend: BackendProcess) -> Any:
    async with httpx2.AsyncClient(base_url=backend.url, timeout=60) as http:
        yield User(http)


ITEM_ID = re.compile(r"itm_\d{5}")


def reply_of(events: list[Any]) -> str:
    replies = [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]
    assert len(replies) == 1, [event.type for event in events]
    return replies[0].content[0].text


def widgets_of(events: list[Any]) -> list[WidgetItem]:
    return [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)]


def prices(item: WidgetItem) -> list[float]:
    return [float(value.replace(",", "")) for value in PRICE.findall(raw(item))]


async def test_adding_in_plain_words_stores_the_date_and_priority(alice: User) -> None:
    before = date.today()
    _, events = await alice.say("Remind me to call mom tomorrow, high priority")
    after = date.today()
    text = reply_of(events)
    assert text.startswith("Task created:") and "'call mom' (pending, high priority, due " in text
    stored = {title: (priority, due) for title, _, priority, due in (await alice.tasks()).values()}
    tomorrow = {(before + timedelta(days=1)).isoformat(), (after + timedelta(days=1)).isoformat()}
    assert stored["call mom"][0] == "high" and stored["call mom"][1] in tomorrow  # the server's local date
    await alice.say("put buy eggs on my list")
    assert "buy eggs" in {title for title, *_ in (await alice.tasks()).values()}


@pytest.mark.parametrize(("zone", "side"), [("Pacific/Kiritimati", "east"), ("Pacific/Pago_Pago", "west")])
async def test_today_is_the_users_when_the_request_says_its_time_zone(
    alice: User, zone: str, side: str
) -> None:
    """The page sends `X-Timezone`: "today" is the user's date there, whatever the server's is (the
    two zones are 25 hours apart, so at least one of them is never on the server's date)."""
    alice.client.headers["X-Timezone"] = zone
    before = datetime.now(ZoneInfo(zone)).date()
    await alice.say(f"add task water the {side} plants today")  # UTC+14 and UTC-11
    after = datetime.now(ZoneInfo(zone)).date()
    stored = {title: due for title, _, _, due in (await alice.tasks()).values()}
    assert stored[f"water the {side} plants"] in {before.isoformat(), after.isoformat()}


async def test_a_time_zone_that_does_not_exist_is_ignored(alice: User) -> None:
    alice.client.headers["X-Timezone"] = "../../etc/passwd"
    before = date.today()
    _, events = await alice.say("add task check the locks today")
    assert reply_of(events).startswith("Task created:")
    due = {title: due for title, _, _, due in (await alice.tasks()).values()}["check the locks"]
    assert due in {before.isoformat(), date.today().isoformat()}  # the server's date


async def test_listing_with_a_word_filter(alice: User) -> None:
    thread_id, _ = await alice.say("add task water the plants")
    await alice.say("add task pay the rent", thread_id)
    _, events = await alice.say("tasks about plants", thread_id)
    text = reply_of(events)
    assert text.startswith("1 task(s) found") and "water the plants" in text and "rent" not in text


async def test_acting_on_a_task_by_a_word_of_its_title(alice: User) -> None:
    thread_id, _ = await alice.say("add task buy eggs")
    _, events = await alice.say("mark the eggs one as done", thread_id)
    assert reply_of(events).startswith("Task completed:")
    assert len(widgets_of(events)) == 2  # the lookup's list, then the completed task's card
    [(title, status, *_)] = (await alice.tasks()).values()
    assert (title, status) == ("buy eggs", "completed")


async def test_several_matches_are_asked_about_then_the_answer_acts(alice: User) -> None:
    thread_id, _ = await alice.say("add task buy milk")
    await alice.say("add task buy oat milk", thread_id)
    _, events = await alice.say("complete buy milk", thread_id)  # both match: the exact title wins
    assert re.match(r"Task completed: task_\w+ 'buy milk'", reply_of(events))
    _, events = await alice.say("reopen buy milk", thread_id)
    assert re.match(r"Task reopened: task_\w+ 'buy milk'", reply_of(events))
    _, events = await alice.say("mark the milk one as done", thread_id)
    question = reply_of(events)
    assert question.startswith("Several tasks match “milk”") and "Which one do you mean" in question
    second = re.search(r"2\. (task_\w+) '([^']*)'", question)
    assert second is not None and {second[2]} < {"buy milk", "buy oat milk"}
    _, events = await alice.say("the second one", thread_id)
    assert reply_of(events).startswith(f"Task completed: {second[1]} '{second[2]}'")


async def test_deleting_by_title_asks_for_approval_then_deletes(alice: User) -> None:
    thread_id, _ = await alice.say("add task dentist appointment")
    _, events = await alice.say("delete the dentist task", thread_id)
    confirmation = widgets_of(events)[-1]
    payload = control(confirmation, "approval.approve")
    events = await alice.client.stream(
        "threads.custom_action",
        thread_id=thread_id,
        item_id=confirmation.id,
        action={"type": "approval.approve", "payload": payload},
    )
    assert reply_of(events).startswith("Task deleted:")
    assert await alice.tasks() == {}


async def test_a_price_limit_in_words_is_respected_by_every_item(alice: User) -> None:
    _, events = await alice.say("lamps under 30")
    assert re.match(r"\d+ item\(s\) found", reply_of(events))
    [results] = widgets_of(events)
    found = prices(results)
    assert found and all(price <= 30 for price in found)
    _, events = await alice.say("lamps between 20 and 40 dollars in stock")
    [results] = widgets_of(events)
    found = prices(results)
    assert found and all(20 <= price <= 40 for price in found)
    assert "Sold out" not in raw(results)


async def test_cheap_searches_again_below_the_lower_third(alice: User) -> None:
    _, events = await alice.say("cheap headphones")
    text = reply_of(events)
    limit = re.match(r"“Cheap” here means up to \$([\d.]+)", text)
    assert limit is not None, text
    first, second = widgets_of(events)
    assert max(prices(first)) > float(limit[1])
    assert prices(second) and all(price <= float(limit[1]) for price in prices(second))


async def test_more_shows_the_next_page(alice: User) -> None:
    """ "more" passes the cursor the search's text gave: the next page, none of the first page's items."""
    thread_id, events = await alice.say("search lamp")
    first = set(ITEM_ID.findall(raw(widgets_of(events)[0])))
    _, events = await alice.say("more", thread_id)
    second = set(ITEM_ID.findall(raw(widgets_of(events)[0])))
    assert first and second and not first & second


async def test_a_third_party_tool_from_plain_words(alice: User) -> None:
    _, events = await alice.say("what's the weather in Paris in celsius?")
    assert [event.text for event in events if isinstance(event, ProgressUpdateEvent)] == ["Weather forecast…"]
    assert reply_of(events).startswith("Weather forecast: city Paris, unit celsius")
    assert len(widgets_of(events)) == 1


async def test_a_missing_argument_is_asked_for_then_taken_from_the_answer(alice: User) -> None:
    thread_id, events = await alice.say("weather forecast for Oslo for 3 days")
    assert reply_of(events) == "Which unit: celsius or fahrenheit?"
    assert not widgets_of(events)
    _, events = await alice.say("fahrenheit", thread_id)
    assert reply_of(events).startswith("Weather forecast: city Oslo, unit fahrenheit, days: 3")


async def test_help_lists_the_tools_offered_now(alice: User) -> None:
    _, events = await alice.say("help")
    text = reply_of(events)
    assert "offline model" in text
    for part in ("- Tasks:", "- Catalog:", "- Weather forecast (weather):", "- Convert length (weather):"):
        assert part in text


async def test_what_it_cannot_do_it_says(alice: User) -> None:
    _, events = await alice.say("write me a poem about spring")
    text = reply_of(events)
    assert text.startswith("You said: “write me a poem about spring”.") and "offline model" in text
    assert "Weather forecast" in text and "messages" not in text
