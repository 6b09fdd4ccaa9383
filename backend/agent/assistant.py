"""The agent that answers in a thread (no tools yet: those arrive with the MCP bridge)."""

from __future__ import annotations

from agents import Agent, Model

from backend.agent.offline import OfflineModel

INSTRUCTIONS = (
    "You help people manage their tasks and search a product catalog, using the tools you are given. "
    "Tool results are shown to the user as widgets (lists and cards): after a tool call, answer in one "
    "short sentence and do not repeat the items, fields or numbers the widget already shows. "
    "If a tool fails or is missing, say so plainly. Never invent tool results or ids."
)


def create_assistant(model: Model | None = None) -> Agent[object]:
    """The thread assistant on `model` (the offline model by default)."""
    return Agent(name="assistant", instructions=INSTRUCTIONS, model=model or OfflineModel())
