"""The generic widgets on results of servers nobody wrote a template for: what a person reads.

Each case is a realistic third-party result rendered the way the backend renders it (server
"weather" has no bindings, so every tool of it takes the generic path); the assertions are on the
visible texts of the widget: row titles, captions and badges, card titles, prose and field rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared_widgets import TEMPLATES, render_tool_result
from shared_widgets.generic import (
    BODY_CHARS,
    MAX_CARD_ROWS,
    MAX_LIST_ROWS,
    find_records,
    generic_card,
    generic_list,
)
from shared_widgets.values import cut, date_text, humanize, number_text, value_text
from tests.shared_widgets import samples
from tests.shared_widgets.checks import assert_strict, check_widget, texts

LONG = ("The service fails to start when the configuration file is missing. " * 12).strip()

GITHUB_ISSUES = [
    {
        "url": "https://api.github.com/repos/acme/app/issues/42",
        "html_url": "https://github.com/acme/app/issues/42",
        "id": 2291830011,
        "node_id": "I_kwDOAbc123",
        "number": 42,
        "title": "Crash on start when config is missing",
        "user": {"login": "octocat", "id": 583231, "avatar_url": "https://avatars.githubusercontent.com/u/1"},
        "labels": [{"id": 1, "name": "bug", "color": "d73a4a"}, {"id": 2, "name": "p1", "color": "b60205"}],
        "state": "open",
        "locked": False,
        "assignee": None,
        "comments": 3,
        "created_at": "2026-12-05T14:30:00Z",
        "closed_at": None,
        "body": LONG,
    },
    {
        "id": 2291830012,
        "number": 43,
        "title": "Docs: fix typo in README",
        "user": {"login": "hubot", "id": 2},
        "labels": [],
        "state": "closed",
        "locked": False,
        "comments": 0,
        "created_at": "2026-12-01T09:05:00Z",
    },
]

# (case, structured content, list header, the texts of each row)
LIST_CASES: list[tuple[str, Any, str, list[list[str]]]] = [
    (
        "github-issues",
        GITHUB_ISSUES,
        "Results: 2",
        [
            ["Crash on start when config is missing", "Number: 42 · User: octocat · Labels: bug, p1", "Open",
             "✗ Locked"],
            ["Docs: fix typo in README", "Number: 43 · User: hubot · Comments: 0", "Closed", "✗ Locked"],
        ],
    ),
    (
        "github-search-total",
        {
            "total_count": 1400,
            "incomplete_results": False,
            "items": [
                {"id": 1, "full_name": "acme/app", "stargazers_count": 12345, "language": "Python",
                 "fork": False, "archived": True},
                {"id": 2, "full_name": "acme/lib", "stargazers_count": 7, "language": None, "fork": True},
            ],
        },
        "Items: 2 of 1,400",
        [
            ["acme/app", "Stargazers count: 12,345 · Language: Python · ID: 1", "✓ Archived", "✗ Fork"],
            ["acme/lib", "Stargazers count: 7 · ID: 2", "✓ Fork"],
        ],
    ),
    (
        "weather-forecast",
        {
            "location": "Oslo",
            "units": "metric",
            "days": [
                {"date": "2026-12-05", "summary": "Light snow", "max_c": 1.5, "min_c": -4.25, "snow": 80},
                {"date": "2026-12-06", "summary": "Sunny", "max_c": 0.0, "min_c": -7.0, "snow": 0},
            ],
        },
        "Days: 2",
        [
            ["Light snow", "Date: Dec 5, 2026 · Max c: 1.5 · Min c: -4.25"],
            ["Sunny", "Date: Dec 6, 2026 · Max c: 0 · Min c: -7"],
        ],
    ),
    (
        "file-listing",
        {
            "path": "/srv/app",
            "entries": [
                {"name": "README.md", "type": "file", "size": 2048, "modified": "2026-12-05T14:30:00+01:00",
                 "readonly": True},
                {"name": "src", "type": "dir", "size": 4096, "modified": "2026-11-30T08:00:00Z"},
                {"name": "model.bin", "type": "file", "size": 73400320},
            ],
        },
        "Entries: 3",
        [
            ["README.md", "Type: file · Size: 2 KB · Modified: Dec 5, 2026 14:30 UTC+1", "✓ Readonly"],
            ["src", "Type: dir · Size: 4 KB · Modified: Nov 30, 2026 08:00 UTC"],
            ["model.bin", "Type: file · Size: 70 MB"],
        ],
    ),
    (
        "records-without-strings",
        {
            "station": "st_9",
            "readings": [
                {"time": 1796481000, "temp": 3.25, "pressure_hpa": 1013.2},
                {"id": 17, "temp": 3.5},
                {"temp": 2.875, "ok": True},
            ],
        },
        "Readings: 3",
        [
            ["Reading 1", "Time: Dec 5, 2026 14:30 UTC · Temp: 3.25 · Pressure hpa: 1,013.2"],
            ["Reading 2 · ID 17", "Temp: 3.5"],
            ["Reading 3", "Temp: 2.88", "✓ Ok"],
        ],
    ),
    (
        "orders-money-status",
        [
            {"order_id": "ord_1", "amount": 1299.5, "currency": "eur", "status": "IN_PROGRESS", "paid": True,
             "created": 1796481000123},
            {"order_id": "ord_2", "amount": 5.0, "currency": "eur", "status": "failed", "paid": False},
        ],
        "Results: 2",
        [
            ["Result 1 · Order ID ord_1", "Amount: 1,299.50 EUR · Created: Dec 5, 2026 14:30 UTC",
             "In progress", "✓ Paid"],
            ["Result 2 · Order ID ord_2", "Amount: 5.00 EUR", "Failed", "✗ Paid"],
        ],
    ),
    (
        "name-fields-any-case",
        {
            "data": {
                "users": [
                    {"DisplayName": "Grace Hopper", "role": "admin", "active": True},
                    {"user_name": "linus", "role": "member", "email": "linus@example.com"},
                    {"id": "u_3", "homepage": "https://example.com", "joined": "2026-01-02", "bio": LONG},
                    {"id": "u_4", "Title": "Dr", "name": "Who"},
                ],
                "total": 40,
            }
        },
        "Users: 4 of 40",
        [
            ["Grace Hopper", "Role: admin", "✓ Active"],
            ["linus", "Role: member · Email: linus@example.com"],
            # no name-like field, and no plain short string: the id, the date, the URL and the long
            # bio are not labels
            ["User 3 · ID u_3",
             f"Joined: Jan 2, 2026 · Homepage: https://example.com · Bio: {cut(LONG, 40)}"],
            ["Dr", "Name: Who · ID: u_4"],
        ],
    ),
    (
        "long-texts",
        [{"name": "word " * 40, "note": "x" * 300}],
        "Results: 1",
        [[cut(("word " * 40).strip(), 80), f"Note: {'x' * 39}…"]],
    ),
    ("bare-strings", ["alpha", "beta", "gamma"], "Results: 3", [["alpha"], ["beta"], ["gamma"]]),
    ("bare-numbers-and-dates", [1234567, 0.5, "2026-12-05", None], "Results: 4",
     [["1,234,567"], ["0.5"], ["Dec 5, 2026"], ["—"]]),
    ("only-a-list-of-strings", {"tags": ["snow", "dark"], "count": 2}, "Tags: 2", [["snow"], ["dark"]]),
]  # fmt: skip

# (case, structured content, the texts of the card)
CARD_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "weather-current",
        {
            "location": {"name": "Oslo", "country": "Norway", "lat": 59.91, "lon": 10.75},
            "current": {
                "temp_c": -3.5,
                "condition": {"text": "Light snow", "icon": "//cdn.weatherapi.com/116.png", "code": 1213},
                "wind_kph": 12.2,
                "humidity": 86,
            },
            "alerts": [],
            "last_updated_epoch": 1796481000,
        },
        [
            "Get weather",
            "Location", "Oslo",  # a nested object: its name
            "Current", "Temp c: -3.5, Condition: Light snow, Wind kph: 12.2, Humidity: 86",  # its fields
            "Last updated epoch", "Dec 5, 2026 14:30 UTC",
        ],
    ),
    (
        "nested-config",
        {
            "service": "api",
            "replicas": 3,
            "env": {"LOG_LEVEL": "info", "PORT": "8080"},
            "features": ["search", "export", "billing", "audit", "sso", "beta", "canary", "gpu", "ipv6", "x"],
            "volumes": [{"mount": "/data"}, {"mount": "/logs"}],
            "matrix": [[1, 2], [3, 4]],
            "nodes": [{"cpu": 2, "ram_gb": 8}, {"cpu": 4, "ram_gb": 16}, {"cpu": 8, "ram_gb": 32}],
            "extra": {"a": {"b": 1}, "c": {"d": 2}, "e": [1], "f": [2], "g": 1, "h": 2, "i": 3, "j": 4,
                      "k": 5},
            "enabled": True,
            "notes": None,
        },
        [
            "Get weather",
            "Service", "api",
            "Replicas", "3",
            "Env", "Log level: info, Port: 8080",
            "Features", "search, export, billing, audit, sso, beta, canary, gpu, ipv6, x",
            "Volumes", "/data, /logs",
            "Matrix", "2 entries",
            "Nodes", "3 entries",
            "Extra", "9 fields",
            "Enabled", "Yes",
        ],
    ),
    (
        "invoice-numbers-dates-booleans",
        {
            "invoice_id": "inv_2026_0042",
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "amount_due": 1299.5,
            "tax": 260.0,
            "currency": "eur",
            "paid": False,
            "lines": [{"sku": "A1"}, {"sku": "B2"}, {"sku": "C3"}],
            "issued": "2026-12-05",
            "due_date": "2026-12-31T17:00:00+05:30",
            "page_views": 1234567,
            "ratio": 0.012345,
            "score": 3.14159,
            "year": 2026,
            "discount": None,
        },
        [
            "Get weather",
            "Customer", "Ada Lovelace",
            "Amount due", "1,299.50 EUR",
            "Tax", "260.00 EUR",
            "Paid", "No",
            "Lines", "A1, B2, C3",
            "Issued", "Dec 5, 2026",
            "Due date", "Dec 31, 2026 17:00 UTC+5:30",
            "Page views", "1,234,567",
            "Ratio", "0.0123",
            "Score", "3.14",
            "Year", "2026",
            "Invoice ID", "inv_2026_0042",  # ids last
        ],
    ),
    (
        "article-long-prose",
        {
            "headline": "Snow returns to Oslo",
            "url": "https://news.example.com/oslo-snow",
            "byline": "A. Writer",
            "description": LONG,
            "published_at": "2026-12-05T06:00:00-08:00",
            "word_count": 1834,
        },
        [
            "Snow returns to Oslo",
            cut(LONG, BODY_CHARS),
            "Byline", "A. Writer",
            "Published at", "Dec 5, 2026 06:00 UTC-8",
            "Word count", "1,834",
            "URL", "https://news.example.com/oslo-snow",
        ],
    ),
    (
        "github-issue",
        GITHUB_ISSUES[0],
        [
            "Crash on start when config is missing",
            cut(LONG, BODY_CHARS),
            "Number", "42",
            "User", "octocat",
            "Labels", "bug, p1",
            "State", "Open",
            "Locked", "No",
            "Comments", "3",
            "Created at", "Dec 5, 2026 14:30 UTC",
            "URL", "https://api.github.com/repos/acme/app/issues/42",
            "HTML URL", "https://github.com/acme/app/issues/42",
            "ID", "2291830011",
            "Node ID", "I_kwDOAbc123",
        ],
    ),
]  # fmt: skip


def shown(tool: str, structured: Any) -> dict[str, Any]:
    """The widget of a third-party result as JSON, strictly valid."""
    widget = render_tool_result("weather", tool, structured)
    assert widget is not None
    dumped = widget.model_dump(mode="json", exclude_none=True)
    assert_strict(dumped)
    return dumped


def generic_data(tool: str, structured: Any) -> tuple[str, dict[str, Any]]:
    found = find_records(structured)
    if found is not None:
        return "generic_list", generic_list(structured, *found).model_dump()
    card = generic_card(tool, structured)
    assert card is not None
    return "generic_card", card.model_dump()


@pytest.mark.parametrize(("structured", "header", "rows"), [case[1:] for case in LIST_CASES],
                         ids=[case[0] for case in LIST_CASES])  # fmt: skip
def test_list_results(structured: Any, header: str, rows: list[list[str]]) -> None:
    widget = shown("search", structured)
    assert widget["type"] == "ListView"
    assert widget["status"]["text"] == header
    assert [texts(row) for row in widget["children"]] == rows


@pytest.mark.parametrize(("structured", "expected"), [case[1:] for case in CARD_CASES],
                         ids=[case[0] for case in CARD_CASES])  # fmt: skip
def test_card_results(structured: dict[str, Any], expected: list[str]) -> None:
    widget = shown("get_weather", structured)
    assert widget["type"] == "Card"
    assert texts(widget) == expected


@pytest.mark.parametrize(
    "structured",
    [case[1] for case in LIST_CASES] + [case[1] for case in CARD_CASES],
    ids=[case[0] for case in LIST_CASES] + [case[0] for case in CARD_CASES],
)
def test_data_fits_the_template_schema_and_builds(structured: Any) -> None:
    name, data = generic_data("get_weather", structured)
    Draft202012Validator(TEMPLATES[name].data_schema).validate(data)
    check_widget(TEMPLATES[name], data)


def test_rows_and_fields_are_bounded() -> None:
    records = [{"name": f"n{i}", **{f"f{j}": j for j in range(10)}, "a": True, "b": True, "c": True}
               for i in range(MAX_LIST_ROWS + 7)]  # fmt: skip
    widget = shown("search", {"records": records})
    assert widget["status"]["text"] == f"Records: {MAX_LIST_ROWS} of {MAX_LIST_ROWS + 7}"
    *rows, more = widget["children"]
    assert len(rows) == MAX_LIST_ROWS and texts(more) == ["+7 more"]
    assert texts(rows[0]) == ["n0", "F0: 0 · F1: 1 · F2: 2", "✓ A", "✓ B"]  # 3 captions, 2 badges
    card = shown("get", {"name": "Wide", **{f"field_{i}": i for i in range(MAX_CARD_ROWS + 4)}})
    assert texts(card)[-1] == "+4 more fields"
    assert texts(card)[-3:-1] == [f"Field {MAX_CARD_ROWS - 1}", str(MAX_CARD_ROWS - 1)]


def test_list_keys_are_unique() -> None:
    widget = shown("search", [{"id": "a", "name": "One"}, {"id": "a", "name": "Two"}, {"name": "Three"}])
    assert [row["key"] for row in widget["children"]] == ["a", "a#1", "2"]


def test_a_list_beside_many_fields_is_part_of_a_card() -> None:
    repo = {"name": "acme/app", "contributors": [{"login": "octocat"}, {"login": "hubot"}]}
    assert texts(shown("get_repo", repo)) == ["acme/app · Contributors: 2", "octocat", "hubot"]
    query = {"query": "oslo", "page": 2, "stations": [{"name": "Blindern"}]}
    assert texts(shown("find", query)) == ["Stations: 1", "Blindern"]
    item = {"name": "Lamp", "price": 12.5, "stock": 3, "rating": 4.5, "reviews": [{"title": "Bright"}]}
    assert texts(shown("get_item", item)) == [
        "Lamp", "Price", "12.50", "Stock", "3", "Rating", "4.5", "Reviews", "Bright",
    ]  # fmt: skip


@pytest.mark.parametrize("nasty", samples.NASTY)
def test_hostile_strings_stay_data(nasty: str) -> None:
    """Quotes, markup, template syntax and control characters reach the widget as text."""
    flat = " ".join(nasty.split())
    widget = shown("search", [{"name": nasty, "note": f"n: {nasty}", "tags": [nasty, "other"]}])
    title, caption = texts(widget)[1:]
    assert title == cut(flat, 80)
    assert f"Note: {cut(f'n: {flat}', 40)}" in caption.split(" · ")
    assert "Tags: " in caption
    card = texts(shown("get", {"title": nasty, "description": nasty, "note": nasty}))
    assert card == [cut(flat, 80), cut(flat, BODY_CHARS), "Note", cut(flat, 120)]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("due_date", "Due date"),
        ("createdAt", "Created at"),
        ("html_url", "HTML URL"),
        ("userID", "User ID"),
        ("HTTPStatus", "HTTP status"),
        ("display-name", "Display name"),
        ("_id", "ID"),
        ("temperature_c", "Temperature c"),
    ],
)
def test_humanize(key: str, expected: str) -> None:
    assert humanize(key) == expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("count", 1234567, "1,234,567"),
        ("count", -1200, "-1,200"),
        ("year", 2026, "2026"),
        ("issue_number", 1234, "1234"),
        ("price", 1299.5, "1,299.50"),
        ("total_cost", 3.0, "3.00"),
        ("temp", 3.14159, "3.14"),
        ("score", 3.0, "3"),
        ("ratio", 0.012345, "0.0123"),
        ("tiny", 0.00001234, "1.23e-05"),
        ("lat", 59.913868, "59.9139"),
        ("created_at", 1796481000, "Dec 5, 2026 14:30 UTC"),
        ("updatedAt", 1796481000123, "Dec 5, 2026 14:30 UTC"),
        ("time", 42, "42"),
        ("size_bytes", 73400320, "70 MB"),
        ("content_length", 512, "512 B"),
    ],
)
def test_numbers(key: str, value: float, expected: str) -> None:
    assert number_text(key, value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05", "Dec 5, 2026"),
        ("2026-12-05T14:30:00Z", "Dec 5, 2026 14:30 UTC"),
        ("2026-12-05t14:30:00.123456789z", "Dec 5, 2026 14:30 UTC"),
        ("2026-12-05T14:30:00+05:30", "Dec 5, 2026 14:30 UTC+5:30"),
        ("2026-12-05 14:30", "Dec 5, 2026 14:30"),
        ("2026-13-45", None),
        ("Dec 5", None),
        ("12345678", None),
    ],
)
def test_dates(text: str, expected: str | None) -> None:
    assert date_text(text) == expected


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        (True, 40, "Yes"),
        (False, 40, "No"),
        (None, 40, None),
        ("  ", 40, None),
        ([], 40, None),
        ({"unused": None}, 40, None),
        (["a", "b", "c", "d", "e"], 40, "a, b, c, d, e"),
        ([f"tag{i}" for i in range(20)], 30, "tag0, tag1, tag2 +17 more"),
        (["x" * 50, "y"], 20, "x" * 11 + "… +1 more"),
        ([{"name": "bug"}, {"name": "p1"}], 40, "bug, p1"),
        ([{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}], 40, "4 entries"),
        ([[1], [2]], 40, "2 entries"),
        ({"name": "octocat", "id": 1}, 40, "octocat"),
        ({"a": {"x": 1}, "b": {"y": 2}, "c": {"z": 3}}, 20, "3 fields"),
        ({"value": 12.5, "unit": "km"}, 40, "12.5 km"),
        ({"amount": 12.5, "currency": "USD"}, 40, "12.50 USD"),
        ("word " * 30, 40, "word word word word word word word word…"),
    ],
)
def test_values(value: Any, limit: int, expected: str | None) -> None:
    assert value_text("value", value, limit) == expected


def test_cut_keeps_words_and_budget() -> None:
    assert cut("short", 10) == "short"
    assert cut("the quick brown fox jumps", 18) == "the quick brown…"
    assert cut("x" * 30, 10) == "x" * 9 + "…"
    assert all(len(cut("lorem ipsum dolor sit amet " * 9, limit)) <= limit for limit in range(2, 120))


def test_nothing_to_show() -> None:
    assert render_tool_result("weather", "get", {"notes": None, "meta": {}, "tags": [], "x": " "}) is None
    assert find_records({"a": 1, "b": [1, 2]}) is None  # a list of values beside other fields: a card
