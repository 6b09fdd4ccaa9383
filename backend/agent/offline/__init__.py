"""The built-in offline model: deterministic, keyless, streamed like a real Responses model, and
able to call the tools it is offered from plain words (docs/backend.md, "The offline model").

Modules: `model` (the `agents.Model`), `events` (Responses stream events), `decide` (the next
step for one model call), `conversation` (reading the model input), `toolbox` (the tools
offered), `plans` (multi-step requests), `tasks` and `catalog` (their requests in words),
`generic` (any other tool), `dates`, `priorities`, `references` ("it", "the first one"),
`outputs` (reading tool results), `replies` (help and other texts), `words` (tidying words).
"""

from backend.agent.offline.decide import decide
from backend.agent.offline.model import OfflineModel
from backend.agent.offline.plans import Call, Say

__all__ = ["Call", "OfflineModel", "Say", "decide"]
