"""The MCP servers' prompts in the chat: as the page's start screen offers them, and what a chosen
one adds to the model's input.

A start-screen prompt sends its label as the user's message. When a message is exactly the label of
a prompt that needs no arguments, the prompt is fetched (`prompts/get`, with the user's identity:
a server may fill it with the user's own data) and its messages follow the user's in the model's
input for that turn. The thread keeps the user's words only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mcp_types import Prompt, TextContent

if TYPE_CHECKING:
    from backend.mcp.hub import McpHub

logger = logging.getLogger(__name__)
LABEL_CHARS = 60
MAX_PROMPT_CHARS = 20_000


def prompt_label(prompt: Prompt) -> str:
    """What the start screen shows (and sends) for a prompt: its title, else its name in words."""
    text = (prompt.title or prompt.name.replace("_", " ").replace("-", " ")).strip()
    text = text[:1].upper() + text[1:]
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def chosen_prompt(hub: McpHub, text: str) -> tuple[str, Prompt] | None:
    """The (server, prompt) whose label `text` is, when it takes no required argument."""
    wanted = text.strip().casefold()
    for server, prompt in hub.prompts():
        required = [argument for argument in prompt.arguments or [] if argument.required]
        if not required and prompt_label(prompt).casefold() == wanted:
            return server, prompt
    return None


async def prompt_input(hub: McpHub, text: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The model-input messages a chosen prompt adds after the user's `text` (none when `text` is
    not a prompt's label, or the server cannot give it now: the turn goes on without it)."""
    chosen = chosen_prompt(hub, text)
    if chosen is None:
        return []
    server, prompt = chosen
    try:
        result = await hub.get_prompt(server, prompt.name, meta)
    except Exception as exc:  # the user's own words still reach the model
        logger.warning("MCP server %r: prompt %r could not be fetched: %r", server, prompt.name, exc)
        return []
    messages = []
    budget = MAX_PROMPT_CHARS
    for message in result.messages:
        if isinstance(message.content, TextContent) and message.content.text.strip() and budget > 0:
            piece = message.content.text[:budget]
            budget -= len(piece)
            messages.append({"role": message.role, "content": piece})
    return messages
