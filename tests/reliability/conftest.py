"""Reliability suite: load, fuzz and fault tests (sizes in sizes.py; `make soak` for the full size)."""

from __future__ import annotations

import pytest

from tests.reliability.figures import TABLES
from tests.reliability.sizes import SIZE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the load and fuzz tests measured (the size is named in each title)."""
    if not TABLES:
        return
    terminalreporter.section(f"reliability figures ({SIZE.name} size)")
    for table in TABLES:
        terminalreporter.write_line(table.render())
        terminalreporter.write_line("")
