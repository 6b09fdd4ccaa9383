"""What a confirmation asks, in words a person reads: "Delete task “buy milk”?".

The question is the tool's title (its MCP `title`, else its name in words) and, when the server
has a read-only tool that reads the same record (`get_task(task_id)` for `delete_task(task_id)`),
the name of that record, read with the user's identity. Any server's tools work the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from mcp_types import Tool as McpTool

from backend.mcp.hub import McpHub, ToolUnavailable
from shared_widgets import result_record
from shared_widgets.approval import ApprovalField
from shared_widgets.generic import humanize

logger = logging.getLogger(__name__)
NAME_FIELDS = ("title", "name", "label", "display_name", "subject", "summary")
VALUE_CHARS = 120
MAX_FIELDS = 8


def tool_title(tool: McpTool | None, name: str) -> str:
    """The tool's own title, else its name in words (`delete_task` -> "Delete task")."""
    title = tool.title if tool is not None else None
    if not title and tool is not None and tool.annotations is not None:
        title = tool.annotations.title
    return title or humanize(name)


def record_reader(tools: list[McpTool], call: str, arguments: Mapping[str, Any]) -> McpTool | None:
    """A read-only tool whose required arguments the call has (the one needing the most of them)."""
    readers = []
    for tool in tools:
        if tool.name == call or tool.annotations is None or tool.annotations.read_only_hint is not True:
            continue
        required = set(tool.input_schema.get("required") or ())
        if required and required <= {key for key, value in arguments.items() if value is not None}:
            readers.append((-len(required), tool.name, tool))
    return min(readers, key=lambda entry: entry[:2])[2] if readers else None


def record_name(structured: Any) -> str | None:
    """The name-like field of the record a tool result is about."""
    if not isinstance(structured, Mapping):
        return None
    record = result_record(structured) or structured
    for key in NAME_FIELDS:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:VALUE_CHARS]
    return None


def _shown(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        text = "Yes" if value else "No"
    elif isinstance(value, list):
        text = ", ".join(str(entry) for entry in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def argument_fields(arguments: Mapping[str, Any], tool: McpTool | None) -> list[ApprovalField]:
    """The call's arguments as label / value rows (the schema's titles where it gives them)."""
    properties = (tool.input_schema.get("properties") if tool is not None else None) or {}
    fields = []
    for key, value in arguments.items():
        shown = _shown(value)
        if shown is None:
            continue
        schema = properties.get(key)
        title = schema.get("title") if isinstance(schema, Mapping) else None
        fields.append(ApprovalField(label=str(title or humanize(key)), value=shown))
    return fields[:MAX_FIELDS]


async def describe_call(
    hub: McpHub | None,
    meta: Callable[[], dict[str, Any]],
    server: str,
    name: str,
    arguments: Mapping[str, Any],
) -> tuple[str, list[ApprovalField], bool]:
    """The question, the argument rows, and whether the tool says it is destructive."""
    tool = hub.tool(server, name) if hub is not None else None
    title = tool_title(tool, name)
    subject = None
    reader = record_reader(hub.tools(server), name, arguments) if hub is not None else None
    if hub is not None and reader is not None:
        wanted = {key: arguments[key] for key in reader.input_schema.get("required") or ()}
        try:
            result = await hub.call_tool(server, reader.name, wanted, meta())
        except ToolUnavailable as exc:  # the question is asked all the same, in fewer words
            logger.info("Could not read what %s/%s is about: %s", server, name, exc)
        except Exception:  # a server that answers oddly must not cost the user the question
            logger.exception("Reading what %s/%s is about failed", server, name)
        else:
            subject = None if result.is_error else record_name(result.structured_content)
    question = f"{title} “{subject}”?" if subject else f"{title}?"
    destructive = bool(
        tool is not None and tool.annotations is not None and tool.annotations.destructive_hint
    )
    return question, argument_fields(arguments, tool), destructive
