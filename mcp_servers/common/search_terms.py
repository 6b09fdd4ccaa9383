"""Turning any user text into safe full-text query terms (no query syntax ever reaches the engine)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MAX_QUERY_CHARS = 1_000
MAX_TERMS = 8
MAX_TERM_CHARS = 40
MIN_PREFIX_CHARS = 2
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Dropped when the query has other words: they match most products and rank nothing.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "with",
        "without",
        "your",
    }
)


def search_terms(text: str) -> list[str]:
    """The words of `text`, lower-cased and de-duplicated, at most `MAX_TERMS` of them.

    Only letters and digits survive, so quotes, `*`, `NEAR`-style operators and SQL fragments
    become plain words or vanish; operators like AND/OR/NOT are searched as ordinary words.
    Common English stopwords are dropped unless the query has nothing else.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS].replace("\x00", " "))
    words: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group().lower()[:MAX_TERM_CHARS]
        if word not in words:
            words.append(word)
    meaningful = [word for word in words if word not in STOPWORDS]
    return (meaningful or words)[:MAX_TERMS]


def fold(term: str) -> str:
    """A word as the indexes store it: lower case, without diacritics ("Café" -> "cafe")."""
    decomposed = unicodedata.normalize("NFKD", term.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _accent_table() -> tuple[str, str]:
    """Accented Latin letters and their plain forms, for SQL `translate()` (Postgres has no
    built-in immutable unaccent)."""
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


ACCENTED, UNACCENTED = _accent_table()


def _is_prefix(terms: Sequence[str], index: int, *, match_all: bool) -> bool:
    """The last term matches as a prefix (the user may still be typing it), every term does in an
    any-word search (the lenient fallback); a single letter never does: it would match most items."""
    return (not match_all or index == len(terms) - 1) and len(terms[index]) >= MIN_PREFIX_CHARS


def fts5_query(terms: Sequence[str], *, match_all: bool) -> str:
    """An SQLite FTS5 MATCH expression of quoted terms (`"desk" AND "lam"*`)."""
    parts = [
        f'"{term}"' + ("*" if _is_prefix(terms, i, match_all=match_all) else "")
        for i, term in enumerate(terms)
    ]
    return (" AND " if match_all else " OR ").join(parts)


def tsquery(terms: Sequence[str], *, match_all: bool) -> str:
    """A Postgres `to_tsquery` expression of folded terms (`desk & lam:*`)."""
    parts = [
        fold(term) + (":*" if _is_prefix(terms, i, match_all=match_all) else "")
        for i, term in enumerate(terms)
    ]
    return (" & " if match_all else " | ").join(parts)
