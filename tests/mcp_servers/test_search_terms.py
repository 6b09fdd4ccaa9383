"""Unit tests of the query sanitiser: any text becomes plain lower-case prefix terms, never query syntax."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_servers.common.search_terms import (
    MAX_QUERY_CHARS,
    MAX_TERM_CHARS,
    MAX_TERMS,
    MIN_PREFIX_CHARS,
    STOPWORDS,
    fts5_query,
    search_terms,
    tsquery,
)

PLAIN_WORD = re.compile(r"[^\W_]+")


def test_operators_become_plain_lower_case_words() -> None:
    """Query operators are ordinary lower-case words; AND/OR, being stopwords, drop out beside other words."""
    assert search_terms("lamp AND desk OR NOT chair NEAR") == ["lamp", "desk", "not", "chair", "near"]
    assert search_terms("NEAR(lamp desk)") == ["near", "lamp", "desk"]
    assert search_terms("AND OR NOT") == ["not"]
    assert search_terms("AND OR") == ["and", "or"]


def test_stopwords_are_dropped_unless_nothing_else_remains() -> None:
    """Common words are removed from a query with other words, but a stopword-only query keeps them."""
    assert {"the", "a", "for"} <= STOPWORDS
    assert search_terms("The lamp for a desk") == ["lamp", "desk"]
    assert search_terms("the a of") == ["the", "a", "of"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"lamp"* (desk)', ["lamp", "desk"]),
        ("'; DROP TABLE items; --", ["drop", "table", "items"]),
        ("lamp & desk | !chair <-> sofa:*", ["lamp", "desk", "chair", "sofa"]),
        ("tea_pot-lid", ["tea", "pot", "lid"]),
        ("col:lamp ^desk {x} [y] +z", ["col", "lamp", "desk", "x", "y", "z"]),
    ],
)
def test_punctuation_vanishes(text: str, expected: list[str]) -> None:
    """Quotes, `*`, parentheses, colons, SQL comment markers and underscores only separate words."""
    assert search_terms(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "-", '"', "*", "()", "((", "'; --", "😀🎉", "\x00", "_ _ _"])
def test_text_without_words_gives_no_terms(text: str) -> None:
    """Text with no letters or digits yields no terms at all (not an empty-string term)."""
    assert search_terms(text) == []


def test_nul_byte_is_removed_and_separates_words() -> None:
    """A NUL byte never reaches a term; it acts as a separator."""
    terms = search_terms("lamp\x00desk\x00")
    assert terms == ["lamp", "desk"]
    assert all("\x00" not in term for term in terms)


def test_at_most_max_terms_are_kept_in_order() -> None:
    """Only the first MAX_TERMS distinct words are kept."""
    words = [f"word{index}" for index in range(MAX_TERMS + 5)]
    assert search_terms(" ".join(words)) == words[:MAX_TERMS]


def test_terms_are_truncated_to_max_term_chars() -> None:
    """A very long word is cut to MAX_TERM_CHARS characters."""
    assert search_terms("a" * (MAX_TERM_CHARS * 3) + " lamp") == ["a" * MAX_TERM_CHARS, "lamp"]


def test_only_the_first_max_query_chars_are_read() -> None:
    """Words beyond MAX_QUERY_CHARS characters of input are ignored."""
    assert search_terms(" " * MAX_QUERY_CHARS + "lamp") == []
    assert search_terms(" " * (MAX_QUERY_CHARS - 4) + "lamp") == ["lamp"]


def test_duplicates_are_removed_case_insensitively() -> None:
    """Repeated words (in any case) appear once, and duplicates do not use up the MAX_TERMS budget."""
    assert search_terms("Lamp lamp LAMP desk lamp") == ["lamp", "desk"]
    many = " ".join(["lamp"] * 50 + [f"w{index}" for index in range(MAX_TERMS)])
    assert search_terms(many) == ["lamp"] + [f"w{index}" for index in range(MAX_TERMS - 1)]


def test_words_equal_after_truncation_are_one_term() -> None:
    """Two long words that agree on their first MAX_TERM_CHARS characters become one term."""
    prefix = "x" * MAX_TERM_CHARS
    assert search_terms(f"{prefix}aaa {prefix}bbb") == [prefix]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", ["café"]),
        ("Crème Brûlée", ["crème", "brûlée"]),
        ("JALAPEÑO", ["jalapeño"]),
        ("日本語 テスト", ["日本語", "テスト"]),
        ("ｌａｍｐ １２３", ["lamp", "123"]),  # full-width forms are NFKC-normalised
        ("ﬁre", ["fire"]),
        ("cafe\u0301", ["café"]),  # a combining accent is composed
    ],
)
def test_unicode_words_are_kept(text: str, expected: list[str]) -> None:
    """Letters outside ASCII survive, lower-cased and NFKC-normalised."""
    assert search_terms(text) == expected


def test_fts5_query_quotes_terms_and_makes_the_last_a_prefix() -> None:
    """FTS5: every term is quoted; with AND only the last (still being typed) is a prefix, with OR all are."""
    assert fts5_query(["desk", "lam"], match_all=True) == '"desk" AND "lam"*'
    assert fts5_query(["desk", "lam"], match_all=False) == '"desk"* OR "lam"*'
    assert fts5_query(["lam"], match_all=True) == '"lam"*'
    assert fts5_query(["café"], match_all=False) == '"café"*'


def test_tsquery_makes_the_last_term_a_prefix() -> None:
    """tsquery: with & only the last term is a prefix (`:*`), with | every term is."""
    assert tsquery(["desk", "lam"], match_all=True) == "desk & lam:*"
    assert tsquery(["desk", "lam"], match_all=False) == "desk:* | lam:*"
    assert tsquery(["café"], match_all=True) == "cafe:*"  # folded as the index folds the text


def test_one_letter_terms_are_never_prefixes() -> None:
    """A term shorter than MIN_PREFIX_CHARS is matched as a whole word, even in last place or with OR."""
    short = "x" * (MIN_PREFIX_CHARS - 1)
    assert fts5_query(["lamp", short], match_all=True) == f'"lamp" AND "{short}"'
    assert fts5_query([short, "lamp"], match_all=False) == f'"{short}" OR "lamp"*'
    assert tsquery(["lamp", short], match_all=True) == f"lamp & {short}"
    assert tsquery([short, "lamp"], match_all=False) == f"{short} | lamp:*"


FTS5_PART = re.compile(r'"([^"]+)"\*?')
TSQUERY_PART = re.compile(r"([^\s&|!():*<>']+)(?::\*)?")


@pytest.mark.parametrize("match_all", [True, False])
def test_hostile_text_yields_only_generated_syntax(match_all: bool) -> None:
    """Hostile text reaches the query strings only as the sanitised terms, each quoted or bare."""
    terms = search_terms('"lamp" OR b* NEAR(cd ef) \'; DROP TABLE items; -- ) ( -x\x00 😀 lamp:* & !desk')
    assert terms == ["lamp", "b", "near", "cd", "ef", "drop", "table", "items"]
    fts5_parts = fts5_query(terms, match_all=match_all).split(" AND " if match_all else " OR ")
    assert [FTS5_PART.fullmatch(part).group(1) for part in fts5_parts] == terms  # type: ignore[union-attr]
    ts_parts = tsquery(terms, match_all=match_all).split(" & " if match_all else " | ")
    assert [TSQUERY_PART.fullmatch(part).group(1) for part in ts_parts] == terms  # type: ignore[union-attr]


@given(st.text(max_size=2_000))
def test_any_text_gives_bounded_unique_plain_terms(text: str) -> None:
    """For arbitrary text: at most MAX_TERMS unique, non-empty terms of letters and digits, each short."""
    terms = search_terms(text)
    assert len(terms) <= MAX_TERMS
    assert len(set(terms)) == len(terms)
    for term in terms:
        assert 0 < len(term) <= MAX_TERM_CHARS
        assert '"' not in term and "*" not in term and ":" not in term and "\x00" not in term
        assert all(PLAIN_WORD.fullmatch(char) or not char.isascii() for char in term)
