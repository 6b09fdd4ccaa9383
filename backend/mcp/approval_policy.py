"""Which tool calls of a server wait for the user's approval: the `require_approval` config key.

`"destructive"` (the default) asks for tools whose annotations say `destructiveHint: true`;
`"always"` and `"never"` ask for every tool or none; `{"always": [...], "never": [...]}` names
tools either way and leaves the others to the default. Annotations are the server's own claims
about its tools: a third-party server that does not mark a destructive tool is not asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from mcp_types import Tool as McpTool
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ApprovalLists(BaseModel):
    """Tools named to ask (`always`) or not (`never`); the others follow `"destructive"`."""

    model_config = ConfigDict(extra="forbid")

    always: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> ApprovalLists:
        both = sorted(set(self.always) & set(self.never))
        if both:
            raise ValueError(f"tools cannot be in both `always` and `never`: {both}")
        return self


ApprovalSetting = Literal["destructive", "always", "never"] | ApprovalLists


def is_destructive(tool: McpTool) -> bool:
    """Whether the tool's annotations say it is destructive."""
    return bool(tool.annotations is not None and tool.annotations.destructive_hint is True)


def needs_approval(setting: ApprovalSetting, tool: McpTool) -> bool:
    """Whether a call of `tool` waits for the user under `setting`."""
    if isinstance(setting, ApprovalLists):
        if tool.name in setting.never:
            return False
        return tool.name in setting.always or is_destructive(tool)
    if setting == "destructive":
        return is_destructive(tool)
    return setting == "always"


def unknown_tools(setting: ApprovalSetting, offered: Iterable[str]) -> list[str]:
    """Tool names the setting lists that the server does not offer (a typo would ask for nothing)."""
    if not isinstance(setting, ApprovalLists):
        return []
    return sorted(set(setting.always + setting.never) - set(offered))


def sdk_policy(setting: ApprovalSetting) -> Any:
    """The setting as the Agents SDK's `require_approval` callable `(run_context, agent, tool)`."""

    def policy(_run_context: Any, _agent: Any, tool: McpTool) -> bool:
        return needs_approval(setting, tool)

    return policy
