"""The agent that answers in a thread (no tools yet: those arrive with the MCP bridge)."""

from __future__ import annotations

from agents import Agent, Model, set_tracing_disabled

from backend.agent.offline_model import OfflineModel

INSTRUCTIONS = (
    "You are the assistant of a self-hosted ChatKit backend. Answer briefly and plainly. "
    "Never invent tool results."
)


def create_assistant(model: Model | None = None) -> Agent[object]:
    """The thread assistant on `model` (the offline model by default)."""
    set_tracing_disabled(True)  # no OpenAI key here: traces would have nowhere to go
    return Agent(name="assistant", instructions=INSTRUCTIONS, model=model or OfflineModel())
