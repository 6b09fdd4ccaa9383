"""`mcp_servers.json`: the `mcpServers` shape MCP users know, plus a few keys of ours.

Each entry has `command` (+ `args`, `env`, `cwd`) for stdio or `url` (+ `headers`) for streamable
HTTP, with an optional `type` (`"stdio"`, `"http"` or `"streamable-http"`, as desktop MCP clients
write it), and optionally `timeout_seconds`, `allow_tools`, `deny_tools`, `enabled`,
`require_approval` (see `backend.mcp.approval_policy`) and `widgets` (a folder of `.widget` files
and their `widgets.json`, relative to the config file). Values in
`env`, `url` and `headers` may say `${VAR}` or `${VAR:-default}`: they are filled from the
backend's own environment, so one set of variables configures the whole system.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backend.mcp.approval_policy import ApprovalSetting
from shared_widgets import WidgetLibrary, WidgetsError, configured_folder, load_library

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpServerConfig(BaseModel):
    """One MCP server the backend connects to."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["stdio", "http", "streamable-http", "streamableHttp"] | None = None
    """The transport, as MCP clients write it; optional (`command` means stdio, `url` HTTP)."""
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    allow_tools: list[str] | None = None
    deny_tools: list[str] = Field(default_factory=list)
    enabled: bool = True
    require_approval: ApprovalSetting = "destructive"
    widgets: Path | None = None
    """A folder of widgets for this server's tools (relative paths: from the config file)."""

    @model_validator(mode="before")
    @classmethod
    def _known_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "sse":
            raise ValueError(
                "`type: sse` (the deprecated HTTP+SSE transport) is not supported: "
                "use a streamable HTTP endpoint (`type: http`) or stdio"
            )
        return data

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (stdio) or `url` (streamable HTTP)")
        if self.type == "stdio" and self.command is None:
            raise ValueError("`type: stdio` needs a `command`")
        if self.type not in (None, "stdio") and self.url is None:
            raise ValueError(f"`type: {self.type}` needs a `url`")
        return self


class McpConfigError(ValueError):
    """The config file cannot be used; the message says which file and what is wrong."""


def expand(value: str, environment: Mapping[str, str]) -> str:
    """`${VAR}` and `${VAR:-default}` replaced from `environment` (unset without default: empty)."""
    return _VARIABLE.sub(lambda match: environment.get(match.group(1)) or (match.group(2) or ""), value)


def resolve_command(command: str) -> str:
    """A command on PATH, else next to the backend's own Python (its virtualenv's `bin`)."""
    found = shutil.which(command)
    if found:
        return found
    beside = Path(sys.executable).parent / command
    return str(beside) if beside.exists() else command


def load_mcp_config(path: Path, environment: Mapping[str, str]) -> dict[str, McpServerConfig]:
    """The enabled servers of the config file at `path`, with variables filled in."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise McpConfigError(f"MCP config {path} does not exist (set MCP_CONFIG)") from None
    except json.JSONDecodeError as exc:
        raise McpConfigError(f"MCP config {path} is not valid JSON: {exc}") from None
    servers = raw.get("mcpServers") if isinstance(raw, dict) else None
    if not isinstance(servers, dict):
        raise McpConfigError(f'MCP config {path} needs an object {{"mcpServers": {{...}}}}')
    configs = {}
    for name, entry in servers.items():
        try:
            config = McpServerConfig.model_validate(entry)
        except ValidationError as exc:
            raise McpConfigError(f"MCP config {path}, server {name!r}: {exc}") from None
        if not config.enabled:
            continue
        config.env = {key: expand(value, environment) for key, value in config.env.items()}
        config.headers = {key: expand(value, environment) for key, value in config.headers.items()}
        if config.url is not None:
            config.url = expand(config.url, environment)
        if config.command is not None:
            config.command = resolve_command(config.command)
        if config.widgets is not None:
            config.widgets = (path.parent / Path(expand(str(config.widgets), environment))).resolve()
        configs[name] = config
    return configs


def load_widgets(configs: Mapping[str, McpServerConfig]) -> WidgetLibrary:
    """The packaged widgets plus each server's `widgets` folder, checked as they load (a file that
    does not hold together is an `McpConfigError` naming it)."""
    try:
        return load_library(
            configured_folder(config.widgets, name) for name, config in configs.items() if config.widgets
        )
    except WidgetsError as exc:
        raise McpConfigError(f"MCP config, widgets: {exc}") from None
