"""Tool results: structured content for programs plus one line of text for the model."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError


def tool_result(data: BaseModel, summary: str) -> CallToolResult:
    """A successful result: `data` as `structuredContent`, `summary` as the text the model reads."""
    return CallToolResult(
        content=[TextContent(type="text", text=summary)],
        structured_content=data.model_dump(mode="json"),
    )


def describe_validation_error(tool: str, error: ValidationError) -> str:
    """A validation failure as one readable sentence per bad argument, without pydantic's noise."""
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "arguments"
        problems.append(f"{field}: {detail['msg']}")
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "."


def encode_cursor(payload: dict[str, Any]) -> str:
    """An opaque pagination cursor."""
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, key: str) -> int:
    """The position stored by `encode_cursor({key: n})`; a `ToolError` if the cursor is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        payload = None
    position = payload.get(key) if isinstance(payload, dict) and set(payload) == {key} else None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ToolError("The cursor is not valid: pass the next_cursor from a previous result, or omit it.")
    return position
