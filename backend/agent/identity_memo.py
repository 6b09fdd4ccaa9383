"""Remembers the Agents SDK's identity signature of an agent on the agent itself.

Each run, the SDK maps the agent graph to stable identity keys (for run state, tool-use tracking
and sandbox resume) three times, and each time it signs every agent: it normalizes the model
settings, every tool and the instructions and dumps them as sorted JSON. For our one agent with
its ten tools that is ~150 µs a time, ~6% of a tool turn's instructions, to compute the same
string again.

The signature depends only on the agent's attributes, so it is kept on the agent beside the very
objects it was computed from (held, so their identities cannot pass to new objects); a shallow
copy of the agent (one per turn) shares them and reuses it. Reassigning an attribute, or adding
or removing a tool or a handoff, is seen as another object, and the signature is computed again.
Our agents are never changed in place otherwise. The original function is kept as `__wrapped__`;
if the SDK no longer has it, nothing is installed and the SDK works as it always does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)
MEMO_ATTRIBUTE = "_chatkit_backend_identity_signature"


def _sources(agent: Any) -> tuple[tuple[object, ...], ...]:
    """Everything the signature is computed from: the attributes, the tools and the handoffs."""
    attributes = tuple(value for name, value in vars(agent).items() if name != MEMO_ATTRIBUTE)
    return ((type(agent), *attributes), tuple(agent.tools), tuple(agent.handoffs))


def _same(first: tuple[tuple[object, ...], ...], second: tuple[tuple[object, ...], ...]) -> bool:
    return all(
        len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs, strict=True))
        for mine, theirs in zip(first, second, strict=True)
    )


def memoized(original: Callable[[Any], str]) -> Callable[[Any], str]:
    """`original` (the SDK's signature function), remembered on each agent it signs."""

    @functools.wraps(original)
    def signature(agent: Any) -> str:
        try:
            sources = _sources(agent)
        except (TypeError, AttributeError):  # no __dict__ or no tools: not an agent we know
            return original(agent)
        memo = vars(agent).get(MEMO_ATTRIBUTE)
        if memo is not None and _same(memo[0], sources):
            return memo[1]  # type: ignore[no-any-return]
        result = original(agent)
        object.__setattr__(agent, MEMO_ATTRIBUTE, (sources, result))
        return result

    return signature


def install() -> bool:
    """Memoize the SDK's signature function (once); whether it is in place."""
    try:
        from agents import _run_state_agent_identity as identity
    except ImportError:
        return False
    original = getattr(identity, "_agent_identity_signature", None)
    if original is None:
        logger.info("agents SDK without _agent_identity_signature: identity signatures not memoized")
        return False
    if getattr(original, "__wrapped__", None) is None:
        identity._agent_identity_signature = memoized(original)  # type: ignore[assignment]
    return True
