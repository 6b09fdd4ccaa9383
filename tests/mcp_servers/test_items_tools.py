"""The items tools through the official MCP client, in memory, on the packaged catalog."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from mcp_servers.items.catalog import load_catalog

TOOLS = {"search_items", "get_item", "list_categories"}
CATALOG = load_catalog()


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    """Call a tool that must succeed and return its structured content."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.content[0].text
    return result.structured_content


async def error(client: Client, tool: str, args: dict[str, Any]) -> str:
    """Call a tool that must fail and return its error text."""
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return result.content[0].text


async def test_listing_shows_read_only_tools_with_output_schemas(items_client: Client) -> None:
    """All three tools are read-only and idempotent, with input and output schemas."""
    tools = {tool.name: tool for tool in (await items_client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.output_schema and tool.input_schema
        assert tool.annotations.read_only_hint and tool.annotations.idempotent_hint
        assert not tool.annotations.destructive_hint
    assert set(tools["search_items"].input_schema["properties"]) == {
        "query",
        "category",
        "min_price",
        "max_price",
        "in_stock",
        "limit",
        "cursor",
    }


async def test_catalog_is_seeded_and_categories_counted(items_client: Client) -> None:
    """list_categories reports every category of the packaged catalog with its counts."""
    result = await call(items_client, "list_categories", {})
    expected: dict[str, int] = {}
    for product in CATALOG:
        expected[product["category"]] = expected.get(product["category"], 0) + 1
    assert {entry["name"]: entry["item_count"] for entry in result["categories"]} == expected
    assert result["total_items"] == len(CATALOG) >= 1000


async def test_get_item_round_trips(items_client: Client) -> None:
    """get_item returns a product exactly as the catalog file describes it."""
    product = CATALOG[41]
    item = await call(items_client, "get_item", {"item_id": product["id"]})
    assert item == {**product, "in_stock": product["stock"] > 0}
    assert "No item with id" in await error(items_client, "get_item", {"item_id": "itm_missing"})


async def test_search_ranks_filters_and_pages(items_client: Client) -> None:
    """A search honours its filters on every result and pages without repeats."""
    args = {"query": "black", "category": "lighting", "max_price": 100, "in_stock": True, "limit": 5}
    first = await call(items_client, "search_items", args)
    expected = [
        p
        for p in CATALOG
        if p["category"] == "Lighting"
        and p["price"] <= 100
        and p["stock"] > 0
        and "black" in (p["name"] + " " + p["description"] + " " + " ".join(p["tags"])).lower()
    ]
    assert first["total"] == len(expected) > 5
    seen, page = [], first
    while True:
        for item in page["items"]:
            assert item["category"] == "Lighting" and item["price"] <= 100 and item["in_stock"]
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        page = await call(items_client, "search_items", args | {"cursor": page["next_cursor"]})
    assert sorted(seen) == sorted(p["id"] for p in expected)


async def test_prefix_and_fallback_to_any_word(items_client: Client) -> None:
    """'lam' finds lamps; words no single item has together fall back to any-word matches."""
    lamps = await call(items_client, "search_items", {"query": "lam"})
    assert lamps["match"] == "all_words" and "lamp" in lamps["items"][0]["name"].lower()
    lamp = await call(items_client, "search_items", {"query": "lamp"})
    mixed = await call(items_client, "search_items", {"query": "lamp zzqxv"})
    assert mixed["match"] == "any_word"
    assert mixed["total"] == lamp["total"] > 0
    assert [item["id"] for item in mixed["items"]] == [item["id"] for item in lamp["items"]]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "lamp*",
        "NEAR(desk lamp)",
        "desk AND OR NOT",
        "'; DROP TABLE items; --",
        "🙂🙃",
        "\x00lamp",
        "(((",
        "-",
        "x" * 10_000,
        "col:desk",
        "^lamp",
        "lamp OR",
    ],
)
async def test_any_text_is_a_safe_query(items_client: Client, query: str) -> None:
    """Query syntax, SQL, emoji, NUL bytes and huge strings give results or none, never an error."""
    result = await call(items_client, "search_items", {"query": query})
    assert result["total"] >= len(result["items"]) >= 0
    assert (await call(items_client, "list_categories", {}))["total_items"] == len(CATALOG)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, "query"),
        ({"query": "x" * 10_001}, "query"),
        ({"query": "lamp", "limit": 0}, "limit"),
        ({"query": "lamp", "limit": 51}, "limit"),
        ({"query": "lamp", "min_price": -1}, "min_price"),
        ({"query": "lamp", "max_price": "cheap"}, "max_price"),
        ({"query": "lamp", "min_price": 50, "max_price": 10}, "above max_price"),
        ({"query": "lamp", "category": "Spaceships"}, "Unknown category"),
        ({"query": "lamp", "in_stock": "maybe"}, "in_stock"),
        ({"query": "lamp", "cursor": "###"}, "cursor"),
    ],
)
async def test_bad_search_arguments_are_tool_errors(
    items_client: Client, args: dict[str, Any], expected: str
) -> None:
    """Invalid search arguments give an error naming the problem."""
    assert expected in await error(items_client, "search_items", args)
