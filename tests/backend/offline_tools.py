"""The tools the offline model is offered in its tests, as the Agents SDK hands them to a model:
`FunctionTool`s with the real input schemas and MCP titles of the tasks and items servers (listed
without starting them) and of the test weather server; and helpers to build model inputs."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from agents import FunctionTool

from backend.agent.offline import Call, Say, decide
from mcp_servers.items.server import create_items_server
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings
from tests.e2e import weather_mcp

TODAY = date(2026, 3, 11)  # a Wednesday
UNUSED = Path("/nonexistent/offline-tests-secret")


NOTES_EXAMPLE = Path(__file__).parents[2] / "examples" / "notes_server" / "server.py"
THIRD_PARTY = {"get_forecast", "convert_length", "add_note", "list_notes", "delete_note"}


async def _unused(_: Any, __: str) -> str:
    return ""


def _notes_example() -> ModuleType:
    """The example third-party notes server's module (its tools are listed, never run)."""
    name = "offline_tests_notes_example"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, NOTES_EXAMPLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def _listed(strict: bool = False) -> list[FunctionTool]:
    servers = [
        create_tasks_server(
            TasksSettings(TASKS_DATABASE_URL="sqlite+aiosqlite://", MCP_AUTH_SECRET_FILE=UNUSED),
            transport="memory",
        ),
        create_items_server(
            ItemsSettings(ITEMS_DATABASE_URL="sqlite+aiosqlite://", MCP_AUTH_SECRET_FILE=UNUSED),
            transport="memory",
        ),
        weather_mcp.server,
        _notes_example().server,
    ]
    tools = []
    for server in servers:
        for tool in await server.list_tools():
            converted = FunctionTool(
                name=tool.name,
                description=tool.description or "",
                params_json_schema=tool.input_schema,
                on_invoke_tool=_unused,
                _mcp_title=tool.title,
                strict_json_schema=strict,  # as the hub converts them (MCPUtil, not strict)
            )
            converted._mcp_annotations = tool.annotations  # as MCPUtil.to_function_tool sets it
            tools.append(converted)
    return tools


@cache
def all_tools() -> tuple[FunctionTool, ...]:
    """Every tool of the three servers (listed once per test session)."""
    return tuple(asyncio.run(_listed()))


@cache
def strict_tools() -> tuple[FunctionTool, ...]:
    """The same tools with strict schemas (every property required, the optional ones nullable)."""
    return tuple(asyncio.run(_listed(strict=True)))


def tools(*names: str) -> list[FunctionTool]:
    """The tools called `names` (when none is named: the shipped ones and the weather server's)."""
    if names:
        return [tool for tool in all_tools() if tool.name in names]
    return [tool for tool in all_tools() if tool.name not in {"add_note", "list_notes", "delete_note"}]


def shipped() -> list[FunctionTool]:
    """The tasks' and the catalog's tools: what the shipped config offers."""
    return [tool for tool in all_tools() if tool.name not in THIRD_PARTY]


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": text}


def widget(summary: str) -> dict[str, Any]:
    return user(f"[Shown to the user as a widget: {summary}]")


def called(call: Call, output: str, number: int = 1) -> list[dict[str, Any]]:
    """A call the model made and the output it got back, as the SDK puts them in the input."""
    call_id = f"call_{number}"
    return [
        {
            "type": "function_call",
            "name": call.name,
            "arguments": json.dumps(call.arguments),
            "call_id": call_id,
        },
        {
            "type": "function_call_output",
            "call_id": call_id,
            "output": [{"type": "input_text", "text": output}],
        },
    ]


def step(items: Sequence[Any], offered: Sequence[FunctionTool] | None = None) -> Call | Say:
    """The offline model's next decision for this input."""
    return decide(list(items), shipped() if offered is None else offered, TODAY)


def said(items: Sequence[Any], offered: Sequence[FunctionTool] | None = None) -> str:
    """What it says (the decision must be words)."""
    decision = step(items, offered)
    assert isinstance(decision, Say), decision
    return decision.text


def call_of(items: Sequence[Any], offered: Sequence[FunctionTool] | None = None) -> Call:
    """The call it makes (the decision must be a call)."""
    decision = step(items, offered)
    assert isinstance(decision, Call), decision
    return decision
