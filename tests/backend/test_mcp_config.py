"""The MCP server config file: shape, `${VAR}` expansion, allow/deny lists, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.mcp.config import McpConfigError, load_mcp_config, load_widgets

SHIPPED = Path(__file__).resolve().parents[2] / "mcp_servers.json"


def write(tmp_path: Path, servers: object) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def test_the_shipped_config_passes_the_backend_environment_through() -> None:
    """tasks and items run over stdio with their databases, the shared secret and the local user."""
    environment = {
        "MCP_AUTH_SECRET": "s" * 40,
        "TASKS_DATABASE_URL": "postgresql+asyncpg://db/tasks",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",  # a tracing backend: its servers trace too
    }
    configs = load_mcp_config(SHIPPED, environment)
    assert set(configs) == {"tasks", "items"}
    tasks, items = configs["tasks"], configs["items"]
    assert tasks.command is not None and tasks.command.endswith("tasks-mcp")
    assert Path(tasks.command).exists()  # found beside the backend's Python when not on PATH
    assert tasks.args == ["--transport", "stdio"]
    assert tasks.env == {
        "TASKS_DATABASE_URL": "postgresql+asyncpg://db/tasks",
        "MCP_AUTH_SECRET": "s" * 40,
        "MCP_LOCAL_USER": "local",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
    }
    assert items.env["ITEMS_DATABASE_URL"] == "sqlite+aiosqlite:///./data/items.db"  # the default
    assert (
        load_mcp_config(SHIPPED, {"MCP_AUTH_SECRET": "s" * 40})["items"].env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        == ""
    )


def test_http_entries_expand_url_and_headers(tmp_path: Path) -> None:
    """`${VAR}` works in url and headers too; unset without default becomes empty."""
    path = write(
        tmp_path, {"remote": {"url": "http://${HOST:-127.0.0.1}:8102/mcp", "headers": {"X-Key": "${KEY}"}}}
    )
    remote = load_mcp_config(path, {"KEY": "abc"})["remote"]
    assert remote.url == "http://127.0.0.1:8102/mcp"
    assert remote.headers == {"X-Key": "abc"}
    assert load_mcp_config(path, {})["remote"].headers == {"X-Key": ""}


def test_allow_and_deny_lists_and_disabled_servers(tmp_path: Path) -> None:
    """The lists are read as given (the hub applies them: tests/e2e); a disabled server is left out."""
    path = write(
        tmp_path,
        {
            "tasks": {
                "command": "tasks-mcp",
                "allow_tools": ["list_tasks", "delete_task"],
                "deny_tools": ["delete_task"],
            },
            "off": {"command": "x", "enabled": False},
        },
    )
    configs = load_mcp_config(path, {})
    assert set(configs) == {"tasks"}
    assert configs["tasks"].allow_tools == ["list_tasks", "delete_task"]
    assert configs["tasks"].deny_tools == ["delete_task"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"servers": {}}', "mcpServers"),
        ('{"mcpServers": {"a": {}}}', "either `command`"),
        ('{"mcpServers": {"a": {"command": "x", "url": "http://y"}}}', "either `command`"),
        ('{"mcpServers": {"a": {"command": "x", "timeout_seconds": -1}}}', "timeout_seconds"),
        ('{"mcpServers": {"a": {"command": "x", "typo": 1}}}', "typo"),
        ('{"mcpServers": {"a": {"type": "sse", "url": "http://y/sse"}}}', "not supported"),
        (
            '{"mcpServers": {"a": {"type": "stdio", "url": "http://y/mcp"}}}',
            "`type: stdio` needs a `command`",
        ),
        ('{"mcpServers": {"a": {"type": "http", "command": "x"}}}', "`type: http` needs a `url`"),
        ('{"mcpServers": {"a": {"type": "websocket", "command": "x"}}}', "type"),
    ],
)
def test_bad_configs_name_the_file_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    """A broken config stops start-up with a message that says what to fix."""
    path = tmp_path / "mcp.json"
    path.write_text(content)
    with pytest.raises(McpConfigError, match=message) as raised:
        load_mcp_config(path, {})
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("kind", ["http", "streamable-http", "streamableHttp"])
def test_entries_may_say_their_type_as_desktop_clients_write_it(tmp_path: Path, kind: str) -> None:
    """The snippets MCP clients (and our docs) print carry `type`; they load as they are."""
    path = write(
        tmp_path,
        {
            "local": {"type": "stdio", "command": "tasks-mcp", "args": ["--transport", "stdio"]},
            "remote": {"type": kind, "url": "http://127.0.0.1:8102/mcp"},
        },
    )
    configs = load_mcp_config(path, {})
    assert configs["local"].command is not None and configs["local"].command.endswith("tasks-mcp")
    assert configs["remote"].url == "http://127.0.0.1:8102/mcp" and configs["remote"].type == kind


def test_a_widgets_folder_is_found_from_the_config_files_directory(tmp_path: Path) -> None:
    """Relative to the config file (not the working directory), with `${VAR}` filled in."""
    (tmp_path / "conf" / "notes-widgets").mkdir(parents=True)
    path = tmp_path / "conf" / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"notes": {"command": "x", "widgets": "${W:-notes-widgets}"}}}))
    assert load_mcp_config(path, {})["notes"].widgets == tmp_path / "conf" / "notes-widgets"
    with pytest.raises(McpConfigError, match="is not a directory"):
        load_widgets(load_mcp_config(path, {"W": "missing"}))
