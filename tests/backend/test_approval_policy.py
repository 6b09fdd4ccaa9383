"""`require_approval`: the forms the config takes, what each asks for, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp_types import Tool, ToolAnnotations

from backend.mcp.approval_policy import ApprovalLists, needs_approval, unknown_tools
from backend.mcp.config import McpConfigError, load_mcp_config


def tool(name: str, *, destructive: bool | None, read_only: bool = False) -> Tool:
    annotations = (
        None
        if destructive is None
        else ToolAnnotations(destructive_hint=destructive, read_only_hint=read_only)
    )
    return Tool(name=name, input_schema={"type": "object"}, annotations=annotations)


DELETE = tool("delete_task", destructive=True)
ADD = tool("add_task", destructive=False)
LIST = tool("list_tasks", destructive=False, read_only=True)
BARE = tool("mystery", destructive=None)  # no annotations: nothing claimed


def load(tmp_path: Path, policy: Any) -> Any:
    path = tmp_path / "mcp.json"
    entry = {"url": "http://127.0.0.1:1/mcp"} | ({} if policy is None else {"require_approval": policy})
    path.write_text(json.dumps({"mcpServers": {"tasks": entry}}))
    return load_mcp_config(path, {})["tasks"].require_approval


@pytest.mark.parametrize(
    ("policy", "asks"),
    [
        (None, {"delete_task"}),  # the default: destructive
        ("destructive", {"delete_task"}),
        ("always", {"delete_task", "add_task", "list_tasks", "mystery"}),
        ("never", set()),
        ({"always": ["add_task"]}, {"delete_task", "add_task"}),
        ({"never": ["delete_task"]}, set()),
        ({"always": ["mystery"], "never": ["delete_task"]}, {"mystery"}),
    ],
)
def test_each_form_asks_for_what_it_says(tmp_path: Path, policy: Any, asks: set[str]) -> None:
    setting = load(tmp_path, policy)
    assert {t.name for t in (DELETE, ADD, LIST, BARE) if needs_approval(setting, t)} == asks


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("sometimes", "require_approval"),
        ({"always": ["a"], "never": ["a"]}, "both `always` and `never`: \\['a'\\]"),
        ({"always": "delete_task"}, "always"),
        ({"ask": ["delete_task"]}, "ask"),
    ],
)
def test_a_bad_policy_is_a_clear_config_error(tmp_path: Path, policy: Any, message: str) -> None:
    with pytest.raises(McpConfigError, match=message):
        load(tmp_path, policy)


def test_names_the_server_does_not_offer_are_found() -> None:
    lists = ApprovalLists(always=["delete_tsak", "add_task"], never=["nope"])
    assert unknown_tools(lists, ["add_task", "delete_task"]) == ["delete_tsak", "nope"]
    assert unknown_tools("always", []) == []
