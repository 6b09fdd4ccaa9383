"""The settings mixins of `plumbing` (logs, metrics, tracing, HTTP limits) keep their rules inside
each process's one settings object: a validator of a subclass with the same name would silently
replace a mixin's (pydantic keeps one per name), so both processes' settings are checked here."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from backend.settings import BackendSettings
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.settings import TasksSettings

PROCESS_SETTINGS: list[type[BaseSettings]] = [BackendSettings, TasksSettings, ItemsSettings]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MCP_AUTH_SECRET", "s" * 40)


@pytest.mark.parametrize("settings_class", PROCESS_SETTINGS)
def test_an_empty_otel_endpoint_leaves_tracing_off(
    settings_class: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")  # what compose passes for ${VAR:-}
    monkeypatch.setenv("OTEL_SDK_DISABLED", "")
    settings = settings_class()
    assert settings.tracing_wanted() is False  # type: ignore[attr-defined]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert settings_class().tracing_wanted() is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("settings_class", PROCESS_SETTINGS)
def test_metrics_token_rules_hold(
    settings_class: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "")
    assert settings_class().metrics_token is None  # type: ignore[attr-defined]
    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least"):
        settings_class()


@pytest.mark.parametrize("settings_class", PROCESS_SETTINGS)
def test_log_settings_are_normalised(
    settings_class: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = settings_class()
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")  # type: ignore[attr-defined]
