"""ItemRepository on SQLite (FTS5) and Postgres (tsvector) over the packaged catalog: seed, get, search."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import mcp_servers.items
from mcp_servers.common.db import create_engine
from mcp_servers.common.search_terms import STOPWORDS, search_terms
from mcp_servers.items import search_sqlite
from mcp_servers.items.catalog import load_catalog
from mcp_servers.items.repository import ItemNotFoundError, ItemRepository, SearchFilters

Product = dict[str, Any]
CATALOG_FILE = Path(mcp_servers.items.__file__).parent / "data" / "catalog.json"
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-cased words without diacritics, split the way both full-text engines split them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(char for char in decomposed if not unicodedata.combining(char)))


def has_word(term: str, *texts: str) -> bool:
    """Whether `term` is a whole word of `texts`."""
    return any(term in words(text) for text in texts)


@functools.cache
def prefixes(text: str) -> frozenset[str]:
    """Every prefix of every word of `text`."""
    return frozenset(word[:end] for word in words(text) for end in range(1, len(word) + 1))


def has_prefix(term: str, *texts: str) -> bool:
    """Whether some word of `texts` starts with `term`."""
    return any(term in prefixes(text) for text in texts)


def searchable(product: Product) -> tuple[str, str, str]:
    """The indexed text of a product: name, description, tags."""
    return product["name"], product["description"], " ".join(product["tags"])


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    """The packaged catalog."""
    return load_catalog()


@pytest.fixture
async def empty_repo(engine: AsyncEngine) -> ItemRepository:
    """A repository with its tables but no items."""
    repository = ItemRepository(engine)
    await repository.prepare()
    return repository


@pytest.fixture
async def repo(empty_repo: ItemRepository, catalog: list[Product]) -> ItemRepository:
    """A repository seeded with the packaged catalog."""
    await empty_repo.seed(catalog)
    return empty_repo


async def search_all(
    repo: ItemRepository, terms: list[str], filters: SearchFilters | None = None
) -> list[str]:
    """Ids of every match, in rank order (one page larger than the catalog)."""
    page = await repo.search(terms=terms, filters=filters or SearchFilters(), limit=5_000)
    assert page.total == len(page.items)
    return [item.id for item in page.items]


def test_packaged_catalog_is_available(catalog: list[Product]) -> None:
    """The packaged catalog holds 1200 products with unique ids ."""
    assert len(catalog) == 1200
    assert len({product["id"] for product in catalog}) == len(catalog)


async def test_seed_loads_every_product_once(empty_repo: ItemRepository, catalog: list[Product]) -> None:
    """Seeding stores every product; seeding again adds nothing."""
    assert await empty_repo.count() == 0
    assert await empty_repo.seed(catalog) == len(catalog)
    assert await empty_repo.seed(catalog) == len(catalog)
    assert await empty_repo.count() == len(catalog)


async def test_get_returns_the_stored_product(repo: ItemRepository, catalog: list[Product]) -> None:
    """Items read back by id carry the file's values; an unknown id raises ItemNotFoundError."""
    non_ascii = next(product for product in catalog if not product["name"].isascii())
    for product in (catalog[0], catalog[-1], non_ascii):
        item = await repo.get(product["id"])
        fields = ("id", "name", "description", "category", "tags", "stock", "price", "rating")
        assert {field: getattr(item, field) for field in fields} == {
            field: product[field] for field in fields
        }
        assert item.in_stock == (product["stock"] > 0)
    with pytest.raises(ItemNotFoundError):
        await repo.get("itm_does_not_exist")


async def test_categories_agree_with_the_file(repo: ItemRepository, catalog: list[Product]) -> None:
    """Category names, item counts and in-stock counts equal those computed from the file."""
    counts = Counter(product["category"] for product in catalog)
    in_stock = Counter(product["category"] for product in catalog if product["stock"] > 0)
    categories = await repo.categories()
    assert [category.name for category in categories] == sorted(counts)
    assert {category.name: category.item_count for category in categories} == counts
    assert {category.name: category.in_stock_count for category in categories} == {
        name: in_stock[name] for name in counts
    }


def relevance_sets(catalog: list[Product]) -> tuple[str, set[str], set[str]]:
    """A name word with the most items having it in the name and others having it only in the description."""
    best: tuple[int, str, set[str], set[str]] = (0, "", set(), set())
    for word in sorted({word for product in catalog for word in words(product["name"])}):
        if len(word) < 5 or not word.isalpha() or word.endswith("s") or word in STOPWORDS:
            continue
        in_name = {p["id"] for p in catalog if has_prefix(word, p["name"])}
        only_description = {
            p["id"]
            for p in catalog
            if has_prefix(word, p["description"]) and not has_prefix(word, p["name"], " ".join(p["tags"]))
        }
        best = max(best, (min(len(in_name), len(only_description)), word, in_name, only_description))
    assert best[0] >= 3, "the catalog has no word in both names and descriptions"
    return best[1], best[2], best[3]


async def test_name_matches_rank_above_description_only_matches(
    repo: ItemRepository, catalog: list[Product]
) -> None:
    """Items with the word in their name come first; items with it only in the description come later."""
    word, in_name, only_description = relevance_sets(catalog)
    ranked = await search_all(repo, [word])
    assert in_name | only_description <= set(ranked)
    assert set(ranked[: len(in_name)]) == in_name, word
    assert min(ranked.index(item_id) for item_id in only_description) >= len(in_name), word
    first_page = await repo.search(terms=[word], filters=SearchFilters(), limit=5)
    assert [item.id for item in first_page.items] == ranked[:5]


async def test_prefix_finds_whole_words(repo: ItemRepository, catalog: list[Product]) -> None:
    """ "lam" finds every item named "... Lamp ..." and only items with a word starting with "lam"."""
    lamps = {product["id"] for product in catalog if "lamp" in words(product["name"])}
    assert lamps
    found = await search_all(repo, search_terms("lam"))
    assert lamps <= set(found)
    by_id = {product["id"]: product for product in catalog}
    assert all(has_prefix("lam", *searchable(by_id[item_id])) for item_id in found)


async def test_any_prefix_of_a_word_finds_it(repo: ItemRepository, catalog: list[Product]) -> None:
    """Every prefix of "adjustable" (from 2 letters) finds every item with "Adjustable" in its name."""
    named = {product["id"] for product in catalog if "adjustable" in words(product["name"])}
    assert named
    for end in range(2, len("adjustable") + 1):
        assert named <= set(await search_all(repo, ["adjustable"[:end]])), "adjustable"[:end]


async def test_accents_are_optional_in_queries(repo: ItemRepository, catalog: list[Product]) -> None:
    """Accented words in names are found with and without their accents ("jalapeno" finds "Jalapeño")."""
    accented = sorted({w for p in catalog for w in _WORD.findall(p["name"].lower()) if not w.isascii()})
    assert accented
    for word in accented:
        named = {p["id"] for p in catalog if word in _WORD.findall(p["name"].lower())}
        assert named <= set(await search_all(repo, search_terms(word))), word
        assert named <= set(await search_all(repo, words(word))), words(word)


async def test_multi_word_query_needs_every_word(repo: ItemRepository, catalog: list[Product]) -> None:
    """Every result contains each word (as a prefix); every item containing each whole word is found."""
    terms = search_terms("desk lamp")
    by_id = {product["id"]: product for product in catalog}
    whole = {
        key for key, product in by_id.items() if all(has_word(term, *searchable(product)) for term in terms)
    }
    assert whole
    page = await repo.search(terms=terms, filters=SearchFilters(), limit=5_000)
    found = {item.id for item in page.items}
    assert page.match == "all_words" and page.total == len(found)
    assert whole <= found
    assert all(has_prefix(term, *searchable(by_id[key])) for key in found for term in terms)
    assert len(found) < len(await search_all(repo, ["lamp"]))


async def test_falls_back_to_any_word_when_none_has_all(repo: ItemRepository, catalog: list[Product]) -> None:
    """When no item has every word, items with any of them are returned, marked `any_word`."""
    terms = search_terms("lamp leash")
    prefixed = [{p["id"] for p in catalog if has_prefix(term, *searchable(p))} for term in terms]
    whole = {p["id"] for p in catalog if any(has_word(term, *searchable(p)) for term in terms)}
    assert all(prefixed) and not set.intersection(*prefixed)
    page = await repo.search(terms=terms, filters=SearchFilters(), limit=5_000)
    found = {item.id for item in page.items}
    assert page.match == "any_word" and page.total == len(found)
    assert whole <= found <= set.union(*prefixed)
    assert all(found & hits for hits in prefixed)


def filter_cases(catalog: list[Product]) -> list[SearchFilters]:
    """Filters built from the data: a category, a price band around the median, stock, and combinations."""
    prices = sorted(product["price"] for product in catalog)
    low, high = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    category = Counter(product["category"] for product in catalog).most_common(1)[0][0]
    return [
        SearchFilters(category=category),
        SearchFilters(min_price=low),
        SearchFilters(max_price=high),
        SearchFilters(min_price=low, max_price=high),
        SearchFilters(in_stock=True),
        SearchFilters(in_stock=False),
        SearchFilters(category=category, min_price=low, max_price=high, in_stock=True),
        SearchFilters(category="No Such Category"),
    ]


def passes(product: Product, filters: SearchFilters) -> bool:
    """Whether a product satisfies the filters, computed from the file."""
    return (
        (filters.category is None or product["category"] == filters.category)
        and (filters.min_price is None or product["price"] >= filters.min_price)
        and (filters.max_price is None or product["price"] <= filters.max_price)
        and (filters.in_stock is None or (product["stock"] > 0) == filters.in_stock)
    )


async def test_filters_are_honoured(repo: ItemRepository, catalog: list[Product]) -> None:
    """Browsing with filters returns exactly the matching products; a word search only matching ones."""
    by_id = {product["id"]: product for product in catalog}
    for filters in filter_cases(catalog):
        expected = {product["id"] for product in catalog if passes(product, filters)}
        page = await repo.search(terms=[], filters=filters, limit=5)
        assert page.match == "browse" and page.total == len(expected), filters
        assert {item.id for item in page.items} <= expected
        assert set(await search_all(repo, [], filters)) == expected, filters
        found = await search_all(repo, ["black"], filters)
        assert all(passes(by_id[item_id], filters) for item_id in found), filters


@pytest.mark.parametrize("terms", [["black"], []])
async def test_offset_pages_are_disjoint(repo: ItemRepository, terms: list[str]) -> None:
    """Walking a result with offsets yields disjoint full pages that add up to the total."""
    first = await repo.search(terms=terms, filters=SearchFilters(), limit=25)
    assert first.total > 50
    seen: list[str] = []
    for offset in range(0, first.total + 25, 25):
        page = await repo.search(terms=terms, filters=SearchFilters(), limit=25, offset=offset)
        assert page.total == first.total
        assert len(page.items) == min(25, max(first.total - offset, 0))
        seen += [item.id for item in page.items]
    assert len(seen) == len(set(seen)) == first.total


OPERATORS = ['"lamp', '"""', "lamp*", "*", "NEAR(a b)", "lamp AND OR NOT desk", "AND OR NOT", "name:lamp"]
SYNTAX = ["'; DROP TABLE items; --", "((lamp", "lamp))", "-", "-lamp", "lamp:* & !desk | ("]
ODD_TEXT = ["lamp 😀🔥", "la\x00mp", "x" * 10_000, "desk lamp " * 1_000, "İstanbul straße ǅ"]
HOSTILE = OPERATORS + SYNTAX + ODD_TEXT


async def test_hostile_queries_never_raise(repo: ItemRepository, catalog: list[Product]) -> None:
    """Sanitised hostile text searches without error (with and without filters) and changes nothing."""
    for text in HOSTILE:
        terms = search_terms(text)
        for filters in (SearchFilters(), SearchFilters(in_stock=True, max_price=100.0)):
            page = await repo.search(terms=terms, filters=filters, limit=5)
            assert len(page.items) <= 5 and page.total >= len(page.items), text
            assert page.match in ({"all_words", "any_word"} if terms else {"browse"}), text
    assert await repo.count() == len(catalog)
    assert sum(category.item_count for category in await repo.categories()) == len(catalog)
    assert (await repo.search(terms=["lamp"], filters=SearchFilters(), limit=1)).total > 0


async def test_sqlite_stored_rankings_equal_live_ones(
    tmp_path: Path, catalog: list[Product], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Precomputed rankings of frequent prefixes give the same pages and totals as live BM25 ranking."""
    live, stored = (
        create_engine(f"sqlite+aiosqlite:///{tmp_path / name}") for name in ("live.db", "head.db")
    )
    try:
        live_repo, stored_repo = ItemRepository(live), ItemRepository(stored)
        for repository in (live_repo, stored_repo):
            await repository.prepare()
        await live_repo.seed(catalog)
        monkeypatch.setattr(search_sqlite, "HEAD_MIN_MATCHES", 100)  # the real catalog is too small
        await stored_repo.seed(catalog)
        async with stored.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT count(*) FROM items_search_head")).scalar_one()
        frequent = Counter(p for product in catalog for p in {p[:3] for p in words(product["name"])})
        for term in [prefix for prefix, _ in frequent.most_common(5)] + ["black", "zz"]:
            for limit, offset in ((10, 0), (5, 95), (25, 50), (100, 0), (10, 95), (10, 200)):
                live_page, stored_page = [
                    await r.search(terms=[term], filters=SearchFilters(), limit=limit, offset=offset)
                    for r in (live_repo, stored_repo)
                ]
                assert [i.id for i in stored_page.items] == [i.id for i in live_page.items], (term, offset)
                assert stored_page.total == live_page.total, term
    finally:
        await live.dispose()
        await stored.dispose()


async def test_numbers_split_like_the_query(repo: ItemRepository, catalog: list[Product]) -> None:
    """A decimal such as 3.5 is the words 3 and 5 on both engines, in the index as in the query."""
    expected = {p["id"] for p in catalog if has_word("3", *searchable(p)) and has_word("5", *searchable(p))}
    assert expected
    assert set(await search_all(repo, search_terms("3.5"))) == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{}", "valid list"),
        ("not json", "not a valid catalog"),
        ('[{"id": "x"}]', "name"),
        (
            '[{"id": "x", "name": "n", "description": "", "category": "c", "price": -1, "stock": 1, '
            '"tags": [], "rating": 4}]',
            "price",
        ),
    ],
)
def test_a_bad_catalog_file_is_named_in_a_clear_error(tmp_path: Path, content: str, problem: str) -> None:
    """A malformed ITEMS_CATALOG_FILE stops the seed with a message naming the file and the problem."""
    path = tmp_path / "catalog.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)


async def test_ids_starting_with_match_as_typed(repo: ItemRepository, catalog: list[Product]) -> None:
    """Completion candidates: ids with that prefix in id order, `_` literal, at most `limit`."""
    ids = sorted(product["id"] for product in catalog)
    prefix = ids[0][:-1]
    expected = [item_id for item_id in ids if item_id.startswith(prefix)]
    assert await repo.ids_starting_with(prefix) == expected[:100]
    assert await repo.ids_starting_with(ids[0]) == [ids[0]]
    assert await repo.ids_starting_with("", limit=3) == ids[:3]
    assert await repo.ids_starting_with(ids[0].replace("_", "%")) == []
    assert await repo.ids_starting_with("zzz") == []
