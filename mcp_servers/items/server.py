"""The items MCP server: catalog search and lookup. The catalog is shared, but callers must be known."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field, StringConstraints

from mcp_servers.common.db import create_engine
from mcp_servers.common.results import decode_cursor, encode_cursor, tool_result
from mcp_servers.common.search_terms import search_terms
from mcp_servers.common.server import (
    READ_ONLY,
    ToolServer,
    Transport,
    create_tool_server,
    lifespan_state,
)
from mcp_servers.items.catalog import load_catalog
from mcp_servers.items.models import CategoryList, Item, ItemSearchResult
from mcp_servers.items.repository import ItemNotFoundError, ItemRepository, SearchFilters
from mcp_servers.items.settings import ItemsSettings

INSTRUCTIONS = (
    "Search a product catalog by words (prefixes match: 'lam' finds 'lamp'), narrow by category, price and "
    "stock, read one item, or list the categories."
)
MAX_OFFSET = 10_000

Price = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


def _repository(ctx: Context) -> ItemRepository:
    return cast(ItemRepository, lifespan_state(ctx))


def _describe(item: Item) -> str:
    stock = "in stock" if item.in_stock else "out of stock"
    return f"{item.id} {item.name} (${item.price:.2f}, {item.category}, {stock}, rated {item.rating})"


def create_items_server(settings: ItemsSettings, *, transport: Transport = "stdio") -> ToolServer:
    """Build the items server; an empty catalog is seeded when the server starts."""

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
        if category is None or not category.strip():
            return None
        known = await _repository(ctx).categories()
        wanted = category.strip().casefold()
        for entry in known:
            if entry.name.casefold() == wanted:
                return entry.name
        names = ", ".join(entry.name for entry in known)
        raise ToolError(f"Unknown category '{category.strip()}'. Categories: {names}.")

    @server.tool(annotations=READ_ONLY)
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

    @server.tool(annotations=READ_ONLY)
    async def get_item(
        item_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)],
        ctx: Context,
    ) -> Annotated[CallToolResult, Item]:
        """Read one catalog item by id (ids look like itm_00042)."""
        identity.user_id(ctx)
        try:
            item = await _repository(ctx).get(item_id)
        except ItemNotFoundError:
            raise ToolError(
                f"No item with id '{item_id}'. Use search_items to find items and their ids."
            ) from None
        return tool_result(item, f"Item {_describe(item)}: {item.description}")

    @server.tool(annotations=READ_ONLY)
    async def list_categories(ctx: Context) -> Annotated[CallToolResult, CategoryList]:
        """List the catalog's categories with how many items (and how many in stock) each holds."""
        identity.user_id(ctx)
        categories = await _repository(ctx).categories()
        result = CategoryList(
            categories=categories, total_items=sum(entry.item_count for entry in categories)
        )
        names = ", ".join(f"{entry.name} ({entry.item_count})" for entry in categories)
        return tool_result(result, f"{len(categories)} categories: {names}.")

    return server


def _search_summary(result: ItemSearchResult) -> str:
    if not result.items:
        return f"No items match '{result.query}'." if result.query else "No items match these filters."
    shown = "; ".join(_describe(item) for item in result.items[:3])
    rest = result.total - min(3, len(result.items))
    note = " (no item has every word; showing items with any of them)" if result.match == "any_word" else ""
    return f"{result.total} item(s) found{note}: {shown}" + (f" and {rest} more." if rest else ".")
