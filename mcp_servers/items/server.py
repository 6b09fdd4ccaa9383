"""The items MCP server: catalog search and lookup, a resource per item, the category list and a
gift-finding prompt. The catalog is shared, but callers must be known."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult
from pydantic import Field, StringConstraints

from mcp_servers.common.db import create_engine
from mcp_servers.common.results import decode_cursor, encode_cursor, tool_result
from mcp_servers.common.search_terms import search_terms
from mcp_servers.common.server import (
    MAX_COMPLETIONS,
    READ_ONLY,
    ToolServer,
    Transport,
    create_tool_server,
    lifespan_state,
)
from mcp_servers.items.catalog import load_catalog
from mcp_servers.items.models import Category, CategoryList, Item, ItemSearchResult
from mcp_servers.items.repository import ItemNotFoundError, ItemRepository, SearchFilters
from mcp_servers.items.settings import ItemsSettings

INSTRUCTIONS = (
    "Search a product catalog by words (prefixes match: 'lam' finds 'lamp'), narrow by category, price and "
    "stock, read one item, or list the categories. Resources: items://items/{item_id} (one item as JSON) "
    "and items://categories (the category list as JSON). The prompt find_a_gift (recipient, optional "
    "budget and category) starts a gift search from the best-rated items in stock."
)
MAX_OFFSET = 10_000
ITEM_URI = "items://items/{item_id}"
CATEGORIES_URI = "items://categories"
JSON = "application/json"
GIFT_STARTERS = 8

Price = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


def _repository(ctx: Context) -> ItemRepository:
    return cast(ItemRepository, lifespan_state(ctx))


def _describe(item: Item) -> str:
    stock = "in stock" if item.in_stock else "out of stock"
    return f"{item.id} {item.name} (${item.price:.2f}, {item.category}, {stock}, rated {item.rating})"


def _no_item(item_id: str) -> str:
    return f"No item with id '{item_id}'. Use search_items to find items and their ids."


class UnknownCategory(ValueError):
    """A category name the catalog does not have; the message lists the ones it has."""


def category_named(known: Sequence[Category], category: str | None) -> str | None:
    """The catalog's spelling of `category` (case-insensitive), None for none, else `UnknownCategory`."""
    if category is None or not category.strip():
        return None
    wanted = category.strip().casefold()
    for entry in known:
        if entry.name.casefold() == wanted:
            return entry.name
    names = ", ".join(entry.name for entry in known)
    raise UnknownCategory(f"Unknown category '{category.strip()}'. Categories: {names}.")


def _category_list(categories: list[Category]) -> CategoryList:
    return CategoryList(categories=categories, total_items=sum(entry.item_count for entry in categories))


def _gift_text(recipient: str, budget: float | None, category: str | None, starters: Sequence[Item]) -> str:
    limits = [f"under ${budget:.2f}" if budget is not None else "", f"in {category}" if category else ""]
    within = " ".join(part for part in limits if part)
    lines = [f"Help me find a gift for {recipient}" + (f", {within}." if within else ".")]
    if starters:
        lines += ["", "Best-rated items in stock" + (f" {within}" if within else "") + ", to start from:"]
        lines += [f"- {_describe(item)}" for item in starters]
    else:
        lines += ["", "No item in stock matches these limits; suggest how to widen them."]
    search = ["in_stock=true"]
    if category:
        search.append(f"category='{category}'")
    if budget is not None:
        search.append(f"max_price={budget:g}")
    lines += [
        "",
        "Ask me what they like if you need to. Then search the catalog with search_items for words "
        f"that fit them ({', '.join(search)}), read promising items with get_item, and suggest "
        "three gifts with their price and one line on why each suits them.",
    ]
    return "\n".join(lines)


def create_items_server(settings: ItemsSettings, *, transport: Transport = "stdio") -> ToolServer:
    """Build the items server: its tools, the resources items://items/{item_id} and
    items://categories, the prompt find_a_gift, and completions for item ids and its category
    argument. An empty catalog is seeded when the server starts."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[ItemRepository]:
        engine = create_engine(settings.database_url)
        repository = ItemRepository(engine)
        await repository.prepare(migrate=settings.migrate_on_start)
        if await repository.count() == 0:
            await repository.seed(load_catalog(settings.catalog_file))
        try:
            yield repository
        finally:
            await engine.dispose()

    server, identity = create_tool_server(
        "items", instructions=INSTRUCTIONS, settings=settings, transport=transport, lifespan=lifespan
    )

    async def resolve_category(ctx: Context, category: str | None) -> str | None:
        try:
            return category_named(await _repository(ctx).categories(), category)
        except UnknownCategory as exc:
            raise ToolError(str(exc)) from None

    @server.tool(title="Search the catalog", annotations=READ_ONLY)
    async def search_items(
        query: Annotated[str, StringConstraints(max_length=10_000), Field(description="Words to look for.")],
        ctx: Context,
        category: Annotated[str, StringConstraints(max_length=100), Field(description="A category name.")]
        | None = None,
        min_price: Price | None = None,
        max_price: Price | None = None,
        in_stock: Annotated[bool, Field(description="true: only available items; false: only sold out.")]
        | None = None,
        limit: Annotated[int, Field(ge=1, le=50, description="Page size, 1-50.")] = 10,
        cursor: Annotated[str, Field(max_length=200, description="next_cursor of the previous page.")]
        | None = None,
    ) -> Annotated[CallToolResult, ItemSearchResult]:
        """Search the catalog, best match first. Every word must match (as a prefix) unless no item has
        them all, then items with any word are shown. An empty query lists by rating."""
        identity.user_id(ctx)
        if min_price is not None and max_price is not None and min_price > max_price:
            raise ToolError(f"min_price ({min_price}) is above max_price ({max_price}).")
        offset = decode_cursor(cursor, key="offset") if cursor else 0
        if offset > MAX_OFFSET:
            raise ToolError(
                "The cursor is not valid: pass the next_cursor from a previous result, or omit it."
            )
        filters = SearchFilters(
            category=await resolve_category(ctx, category),
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
        )
        terms = search_terms(query)
        if not terms and query.replace("\x00", "").strip():
            result = ItemSearchResult(query="", match="no_words", items=[], total=0, next_cursor=None)
            return tool_result(result, "The query has no searchable words: try product names or keywords.")
        page = await _repository(ctx).search(terms=terms, filters=filters, limit=limit, offset=offset)
        next_offset = offset + len(page.items)
        more = next_offset < page.total and next_offset <= MAX_OFFSET and page.items
        result = ItemSearchResult(
            query=" ".join(terms),
            match=page.match,
            items=page.items,
            total=page.total,
            next_cursor=encode_cursor({"offset": next_offset}) if more else None,
        )
        return tool_result(result, _search_summary(result))

    @server.tool(title="Open item", annotations=READ_ONLY)
    async def get_item(
        item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)],
        ctx: Context,
    ) -> Annotated[CallToolResult, Item]:
        """Read one catalog item by id (ids look like itm_00042)."""
        identity.user_id(ctx)
        try:
            item = await _repository(ctx).get(item_id)
        except ItemNotFoundError:
            raise ToolError(_no_item(item_id)) from None
        return tool_result(item, f"Item {_describe(item)}: {item.description}")

    @server.tool(title="List categories", annotations=READ_ONLY)
    async def list_categories(ctx: Context) -> Annotated[CallToolResult, CategoryList]:
        """List the catalog's categories with how many items (and how many in stock) each holds."""
        identity.user_id(ctx)
        categories = await _repository(ctx).categories()
        names = ", ".join(f"{entry.name} ({entry.item_count})" for entry in categories)
        return tool_result(_category_list(categories), f"{len(categories)} categories: {names}.")

    @server.resource(
        ITEM_URI,
        name="item",
        title="Catalog item",
        description="One catalog item as JSON (the get_item result); ids look like itm_00042.",
        mime_type=JSON,
    )
    async def item_resource(item_id: str, ctx: Context) -> str:
        identity.request_user_id(ctx)
        try:
            item = await _repository(ctx).get(item_id)
        except ItemNotFoundError:
            raise ResourceNotFoundError(_no_item(item_id)) from None
        return item.model_dump_json()

    @server.static_resource(
        CATEGORIES_URI,
        name="categories",
        title="Catalog categories",
        description="Every category with how many items (and how many in stock) it holds, as JSON "
        "(the list_categories result).",
        mime_type=JSON,
    )
    async def categories_resource(ctx: Context) -> str:
        identity.request_user_id(ctx)
        return _category_list(await _repository(ctx).categories()).model_dump_json()

    @server.completer("item_id", template=ITEM_URI)
    async def complete_item_id(ctx: Context, value: str, _: Mapping[str, str]) -> Sequence[str]:
        identity.request_user_id(ctx)
        return await _repository(ctx).ids_starting_with(value.strip(), limit=MAX_COMPLETIONS + 1)

    @server.completer("category", prompt="find_a_gift")
    async def complete_category(ctx: Context, value: str, _: Mapping[str, str]) -> Sequence[str]:
        identity.request_user_id(ctx)
        typed = value.strip().casefold()
        names = [entry.name for entry in await _repository(ctx).categories()]
        return [name for name in names if name.casefold().startswith(typed)]

    @server.prompt(
        title="Find a gift",
        description="Start a gift search for someone: the best-rated items in stock within the budget "
        "and category, and how to search the catalog for what they like.",
    )
    async def find_a_gift(
        ctx: Context,
        recipient: Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
            Field(description="Who the gift is for, e.g. 'my sister, 30, loves hiking and tea'."),
        ],
        budget: Annotated[
            Price | None, Field(description="Optional: the most to spend, in dollars, e.g. 50.")
        ] = None,
        category: Annotated[
            Annotated[str, StringConstraints(max_length=100)] | None,
            Field(description="Optional: a catalog category (completions offer the names)."),
        ] = None,
    ) -> str:
        identity.request_user_id(ctx)
        repository = _repository(ctx)
        try:
            name = category_named(await repository.categories(), category)
        except UnknownCategory as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc), data={"argument": "category"}) from None
        filters = SearchFilters(category=name, max_price=budget, in_stock=True)
        page = await repository.search(terms=[], filters=filters, limit=GIFT_STARTERS)
        return _gift_text(recipient, budget, name, page.items)

    return server


# Items the text for the model describes (their prices let it judge a price range).
SUMMARY_ITEMS = 5


def _search_summary(result: ItemSearchResult) -> str:
    if not result.items:
        return f"No items match '{result.query}'." if result.query else "No items match these filters."
    shown = "; ".join(_describe(item) for item in result.items[:SUMMARY_ITEMS])
    rest = result.total - min(SUMMARY_ITEMS, len(result.items))
    note = " (no item has every word; showing items with any of them)" if result.match == "any_word" else ""
    text = f"{result.total} item(s) found{note}: {shown}" + (f" and {rest} more." if rest else ".")
    if result.next_cursor:  # the model pages on from the text too (it may not see structured content)
        text += f" More on the next page (next_cursor: {result.next_cursor}; pass it as `cursor`)."
    return text
