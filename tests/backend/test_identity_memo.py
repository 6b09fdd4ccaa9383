"""The Agents SDK's agent identity signature, remembered per agent: same answers, less work."""

from __future__ import annotations

import copy

from agents import Agent, function_tool
from agents import _run_state_agent_identity as identity

from backend.agent import identity_memo


@function_tool
def first_tool(text: str) -> str:
    """Echo."""
    return text


@function_tool
def second_tool(count: int) -> int:
    """Double."""
    return count * 2


def test_signatures_are_reused_until_the_agent_changes() -> None:
    assert identity_memo.install() and identity_memo.install()  # idempotent
    signature = identity._agent_identity_signature
    original = signature.__wrapped__  # type: ignore[attr-defined]
    assert not hasattr(original, "__wrapped__")  # installing twice wraps once
    agent = Agent(name="assistant", instructions="Help.", tools=[first_tool])
    keys_before = identity._build_agent_identity_keys_by_id(agent)

    first = signature(agent)
    assert first == original(agent)
    assert signature(agent) is first  # remembered
    turn_copy = copy.copy(agent)  # what each turn runs on
    assert signature(turn_copy) is first
    turn_copy._function_approval_identity = object()  # the SDK's own bookkeeping during a run
    assert signature(turn_copy) is first
    assert identity._build_agent_identity_keys_by_id(turn_copy) == {id(turn_copy): keys_before[id(agent)]}

    more_tools = copy.copy(agent)
    more_tools.tools = [first_tool, second_tool]
    assert signature(more_tools) == original(more_tools) != first
    in_place = copy.copy(agent)
    in_place.tools = list(agent.tools)
    in_place.tools.append(second_tool)  # a list changed in place is seen too
    assert signature(in_place) == original(in_place) != first
    other_words = copy.copy(agent)
    other_words.instructions = "Help differently."
    assert signature(other_words) == original(other_words) != first
    assert signature(agent) is first  # the first agent is untouched by its copies
