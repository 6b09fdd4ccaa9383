"""Catalog storage (SQLModel table) and the public shapes the tools return."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class ItemRow(SQLModel, table=True):
    """One product. `tags` holds a JSON array; `pk` is the full-text index's row id."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_category_price", "category", "price"),
        Index("ix_items_rating", "rating"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    description: str = Field(max_length=4000)
    category: str = Field(max_length=100)
    price: float
    stock: int
    tags: str = Field(default="[]", max_length=2000)
    rating: float


class Item(BaseModel):
    """A product as tools return it."""

    id: str
    name: str
    description: str
    category: str
    price: float
    stock: int
    in_stock: bool
    tags: list[str]
    rating: float

    @classmethod
    def from_values(
        cls,
        *,
        id: str,
        name: str,
        description: str,
        category: str,
        price: float,
        stock: int,
        tags: str,
        rating: float,
    ) -> Item:
        """The public view of a stored row's values."""
        return cls(
            id=id,
            name=name,
            description=description,
            category=category,
            price=round(price, 2),
            stock=stock,
            in_stock=stock > 0,
            tags=json.loads(tags),
            rating=rating,
        )


class ItemSearchResult(BaseModel):
    """One page of search results, best match first."""

    query: str = PydanticField(description="The words that were searched for.")
    match: Literal["all_words", "any_word", "browse", "no_words"] = PydanticField(
        description="all_words: every word matched; any_word: no item had all, so items with any are shown; "
        "browse: no words given, filters only; no_words: the query had no searchable words."
    )
    items: list[Item]
    total: int = PydanticField(description="How many items match, across all pages.")
    next_cursor: str | None = PydanticField(
        description="Pass as `cursor` for the next page; null on the last."
    )


class Category(BaseModel):
    name: str
    item_count: int
    in_stock_count: int


class CategoryList(BaseModel):
    """Every category with how many items it holds."""

    categories: list[Category]
    total_items: int
