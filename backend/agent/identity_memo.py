"""Remembers the Agents SDK's identity signatures of agents.

Each run, the SDK maps the agent graph to stable identity keys (for run state, tool-use tracking
and sandbox resume) several times, and each time it signs every agent: it normalizes the model
settings, every tool and the instructions and dumps them as sorted JSON. For our one agent with
its ten tools that is ~150 µs a time, for the same string each time.

The signature is computed from the agent's public attributes, so it is remembered under those
very objects (held by the memo, so their identities cannot pass to new objects while it lasts):
the per-turn copy of our agent, or any other agent built from the same objects, finds it. An
attribute set to another object, or a tool or handoff added or removed, is another key, and the
signature is computed again. Our agents are not changed in place otherwise. The original function
is kept as `__wrapped__`; if the SDK no longer has it, nothing is installed and the SDK works as
it always does.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from itertools import chain
from typing import Any

logger = logging.getLogger(__name__)
MEMO_SIZE = 256  # distinct agent configurations remembered, oldest out first

Sources = tuple[tuple[object, ...], ...]


def _sources(agent: Any) -> Sources:
    """Everything the signature is computed from: public attributes, tools and handoffs (private
    attributes are the SDK's run-time bookkeeping, which it adds during a run)."""
    attributes = tuple(value for name, value in vars(agent).items() if not name.startswith("_"))
    return ((type(agent), *attributes), tuple(agent.tools), tuple(agent.handoffs))


def memoized(original: Callable[[Any], str], size: int = MEMO_SIZE) -> Callable[[Any], str]:
    """`original` (the SDK's signature function), remembered per set of source objects."""
    memo: OrderedDict[tuple[int, ...], tuple[Sources, str]] = OrderedDict()

    @functools.wraps(original)
    def signature(agent: Any) -> str:
        try:
            sources = _sources(agent)
        except (TypeError, AttributeError):  # no __dict__ or no tools: not an agent we know
            return original(agent)
        # Keyed by identities: the entry holds the objects, so while it lasts no other object can
        # have one of those identities, and an equal key means the very same objects.
        key = tuple(map(id, chain.from_iterable(sources)))
        known = memo.get(key)
        if known is not None:
            memo.move_to_end(key)
            return known[1]
        result = original(agent)
        memo[key] = (sources, result)
        if len(memo) > size:
            memo.popitem(last=False)
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
