"""The container test's figures (wall time, image size), printed at the end of the run."""

from __future__ import annotations

from typing import Any

REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A "container test" section with what the test measured, when it ran."""
    if REPORT:
        terminalreporter.section("container test")
        for line in REPORT:
            terminalreporter.write_line(line)
