"""The tools a model call offers, as the offline model needs them: name, MCP title, description,
server, and each input-schema property's type, enum, description and whether it is required.

The Agents SDK passes `FunctionTool`s: `name`, `description` and `params_json_schema` are public;
an MCP tool's title (`_mcp_title`), annotations (`_mcp_annotations`: read-only) and server
(`get_function_tool_origin`) are read when there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents import FunctionTool
from agents.tool import get_function_tool_origin

from backend.agent.offline.words import words_of

TASK_TOOLS = (
    "add_task",
    "list_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "reopen_task",
    "delete_task",
)
ITEM_TOOLS = ("search_items", "get_item", "list_categories")
BUILTIN = frozenset(TASK_TOOLS + ITEM_TOOLS)


@dataclass(frozen=True, slots=True)
class Param:
    """One input property of a tool."""

    name: str
    kind: str  # string, number, integer, boolean, array, object, or "" when the schema does not say
    required: bool
    enum: tuple[str, ...] = ()
    title: str = ""
    description: str = ""
    default: Any = None
    maximum: float | None = None

    @property
    def label(self) -> str:
        """The property in words ("city", "from unit")."""
        return " ".join(words_of(self.name)) or self.name


@dataclass(frozen=True, slots=True)
class OfferedTool:
    """A tool the model may call."""

    name: str
    title: str
    description: str
    server: str | None
    params: tuple[Param, ...]
    read_only: bool = False

    def param(self, name: str) -> Param | None:
        """The property called `name`."""
        return next((param for param in self.params if param.name == name), None)

    @property
    def required(self) -> tuple[Param, ...]:
        """The properties a call must give."""
        return tuple(param for param in self.params if param.required)

    @property
    def label(self) -> str:
        """How to name the tool to a person: its title, else its name in words."""
        return self.title or " ".join(words_of(self.name)).capitalize()


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """`schema` with `$ref` followed and a nullable `anyOf`/`oneOf` reduced to its non-null branch
    (the outer title, description and default kept)."""
    merged = dict(schema)
    if depth > 5:
        return merged
    reference = merged.pop("$ref", None)
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for key in reference[2:].split("/"):
            target = target.get(key, {}) if isinstance(target, Mapping) else {}
        merged = {**_resolved(target, root, depth + 1), **merged}
    for key in ("anyOf", "oneOf"):
        branches = merged.pop(key, None)
        if isinstance(branches, list):
            real = [b for b in branches if isinstance(b, Mapping) and b.get("type") != "null"]
            if real:
                merged = {**_resolved(real[0], root, depth + 1), **merged}
    kind = merged.get("type")
    if isinstance(kind, list):
        merged["type"] = next((k for k in kind if k != "null"), "")
    return merged


def _nullable(schema: Mapping[str, Any]) -> bool:
    """Whether a property may be null: optional, in a strict schema (where every one is required)."""
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    branches = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return any(isinstance(branch, Mapping) and branch.get("type") == "null" for branch in branches)


def params_of(schema: Mapping[str, Any]) -> tuple[Param, ...]:
    """The properties of a JSON schema for a tool's input (a nullable one counts as optional)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return ()
    required = set(schema.get("required") or ())
    params = []
    for name, raw in properties.items():
        raw = raw if isinstance(raw, Mapping) else {}
        prop = _resolved(raw, schema)
        enum = prop.get("enum")
        maximum = prop.get("maximum")
        params.append(
            Param(
                name=str(name),
                kind=str(prop.get("type") or ("string" if enum else "")),
                required=name in required and not _nullable(raw),
                enum=tuple(str(value) for value in enum) if isinstance(enum, list) else (),
                title=str(prop.get("title") or ""),
                description=str(prop.get("description") or ""),
                default=prop.get("default"),
                maximum=float(maximum) if isinstance(maximum, int | float) else None,
            )
        )
    return tuple(params)


def offered(tool: Any) -> OfferedTool | None:
    """One SDK tool as an `OfferedTool` (None for tools without a name and an input schema)."""
    name = getattr(tool, "name", None)
    schema = getattr(tool, "params_json_schema", None)
    if not isinstance(name, str) or not isinstance(schema, Mapping):
        return None
    origin = get_function_tool_origin(tool) if isinstance(tool, FunctionTool) else None
    title = getattr(tool, "_mcp_title", None)
    annotations = getattr(tool, "_mcp_annotations", None)
    return OfferedTool(
        name=name,
        title=title if isinstance(title, str) else "",
        description=str(getattr(tool, "description", "") or ""),
        server=origin.mcp_server_name if origin is not None else None,
        params=params_of(schema),
        read_only=getattr(annotations, "read_only_hint", None) is True,
    )


class Toolbox:
    """The tools offered to one model call, by name, in the order offered."""

    def __init__(self, tools: Sequence[OfferedTool]) -> None:
        self.tools = {tool.name: tool for tool in tools}

    @classmethod
    def of(cls, tools: Sequence[Any]) -> Toolbox:
        """The toolbox of the SDK tools a model call was given."""
        return cls([found for tool in tools if (found := offered(tool)) is not None])

    def has(self, name: str) -> bool:
        """Whether `name` is offered."""
        return name in self.tools

    def get(self, name: str) -> OfferedTool | None:
        """The tool called `name`, if offered."""
        return self.tools.get(name)

    def others(self) -> list[OfferedTool]:
        """The offered tools that are not the tasks' or the catalog's."""
        return [tool for name, tool in self.tools.items() if name not in BUILTIN]

    def __bool__(self) -> bool:
        return bool(self.tools)
