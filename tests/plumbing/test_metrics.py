"""plumbing.metrics on its own: the METRICS_TOKEN setting, what counts as loopback, and the
supervisor's metrics directory (the endpoint itself is tested through the apps that serve it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from plumbing.metrics import MULTIPROC_ENV, MetricsSettings, WorkerMetrics, is_loopback


def test_a_short_token_is_refused_and_an_empty_one_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least 16 characters"):
        MetricsSettings(METRICS_TOKEN="short")  # type: ignore[call-arg]
    monkeypatch.setenv("METRICS_TOKEN", "")
    assert MetricsSettings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "a-scraper-token-of-length")
    token = MetricsSettings().metrics_token
    assert token is not None and token.get_secret_value() == "a-scraper-token-of-length"
    assert "a-scraper-token-of-length" not in repr(MetricsSettings())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
        (None, False),
    ],
)
def test_what_counts_as_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_workers_directory_is_fresh_shared_through_the_environment_and_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with WorkerMetrics() as metrics:
        directory = Path(os.environ[MULTIPROC_ENV])
        assert directory.is_dir() and not list(directory.iterdir())
        (directory / "counter_4242.db").write_bytes(b"")
        (directory / "gauge_livesum_4242.db").write_bytes(b"")
        (directory / "gauge_livesum_4343.db").write_bytes(b"")
        metrics.mark_dead(4242)  # its live gauges go, its counters stay in the sums
        assert sorted(path.name for path in directory.iterdir()) == [
            "counter_4242.db",
            "gauge_livesum_4343.db",
        ]
    assert MULTIPROC_ENV not in os.environ
    assert not directory.exists()
