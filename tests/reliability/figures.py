"""Figures the reliability tests measured, printed as tables at the end of the pytest run (by the
terminal summary hook in conftest.py) and right away when output is not captured (`-s`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """One table of figures: a title, column names and rows."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def render(self) -> str:
        """The table as aligned plain text."""
        cells = [self.columns, *self.rows]
        widths = [max(len(row[index]) for row in cells) for index in range(len(self.columns))]
        lines = [self.title]
        for number, row in enumerate(cells):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines)


TABLES: list[Table] = []


def add_row(title: str, columns: list[str], row: list[object]) -> Table:
    """Add `row` to the table called `title` (made on first use) and print the row now (`-s`)."""
    table = next((table for table in TABLES if table.title == title), None)
    if table is None:
        table = Table(title, columns)
        TABLES.append(table)
    table.rows.append([str(cell) for cell in row])
    print("\n" + Table(title, columns, [table.rows[-1]]).render(), flush=True)
    return table


def record(title: str, columns: list[str], rows: list[list[object]]) -> Table:
    """Keep a table for the end-of-run summary and print it now (seen with `pytest -s`)."""
    table = Table(title, columns, [[str(cell) for cell in row] for row in rows])
    TABLES.append(table)
    print("\n" + table.render(), flush=True)
    return table
