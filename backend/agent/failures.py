"""How a turn whose run failed ends, in words: the error event's message and the note kept in the
thread. Only the status code of a provider's answer is ever shown, never its body."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import openai

logger = logging.getLogger(__name__)
# Provider answers that a retry cannot fix: bad key, no access, unknown model, invalid request.
REFUSALS = (
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
    openai.BadRequestError,
)
PROVIDER_REFUSED = (
    "The AI provider refused this request. The server's provider key or model settings need "
    "attention; retrying will not help."
)
OVERLOADED = {429, 503, 529}
# A connection that dropped mid-answer (not one that never opened), wherever it is in the chain.
BROKE_OFF = {"RemoteProtocolError", "ReadError", "IncompleteRead"}


@dataclass(frozen=True)
class Failure:
    """How a turn whose provider failed ends: the error event's words, and the note kept in the thread."""

    message: str
    note: str
    allow_retry: bool = True


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def provider_failure(exc: Exception) -> Failure | None:
    """What a run's failure means for the user, in words; None when it is not the provider's (the
    turn then ends as an error on the server). Only the status code of the provider's answer is
    shown: never its body (which may echo a masked key)."""
    if isinstance(exc, REFUSALS):
        logger.warning("The model provider refused the request: %s", exc)
        return Failure(
            PROVIDER_REFUSED,
            "(No reply: the AI provider refused the request; the server's settings need attention.)",
            allow_retry=False,
        )
    logger.warning("The model provider failed: %r", exc)
    if isinstance(exc, openai.APIStatusError) and exc.status_code in OVERLOADED:
        return Failure(
            f"The AI provider is overloaded (HTTP {exc.status_code}); try again in a moment.",
            "(No reply: the AI provider was overloaded. Try again.)",
        )
    if isinstance(exc, openai.APIStatusError):
        return Failure(
            f"The AI provider had an error (HTTP {exc.status_code}); try again.",
            "(No reply: the AI provider had an error. Try again.)",
        )
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return Failure(
            "The AI provider did not answer in time; try again.",
            "(No reply: the AI provider did not answer in time. Try again.)",
        )
    if any(type(cause).__name__ in BROKE_OFF for cause in _chain(exc)):
        return Failure(
            "The AI provider's stream broke off; try again.",
            "(No reply: the AI provider's answer broke off. Try again.)",
        )
    if isinstance(exc, openai.APIConnectionError):
        return Failure(
            "The AI provider could not be reached; try again in a moment.",
            "(No reply: the AI provider could not be reached. Try again.)",
        )
    if isinstance(exc, openai.APIError):
        return Failure(
            "The AI provider sent an answer that could not be read; try again.",
            "(No reply: the AI provider's answer could not be read. Try again.)",
        )
    return None


SERVER_FAILED = Failure(
    "The reply failed because of an error on the server; try again.",
    "(No reply: an error on the server stopped it. Try again.)",
)
