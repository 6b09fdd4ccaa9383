"""How Postgres turns a text column into searchable words, the same way SQLite's FTS5 tokenizer
and `search_terms` do: every run of punctuation or spaces separates words ("report.pdf" is "report"
and "pdf", "3.5" is "3" and "5"), case and Latin diacritics are folded, nothing is stemmed."""

from __future__ import annotations

from mcp_servers.common.search_terms import ACCENTED, UNACCENTED


def words_vector(column: str) -> str:
    """A SQL expression: the `tsvector` of `column`'s words (immutable, usable in a generated column)."""
    # Fold accents first: under the C locale `[:alnum:]` is ASCII-only, so split on punctuation.
    folded = f"translate({column}, '{ACCENTED}', '{UNACCENTED}')"
    return f"to_tsvector('simple', regexp_replace({folded}, '[[:punct:][:space:]]+', ' ', 'g'))"
