"""How a turn whose run failed ends, in words: the error event's message and the note kept in the
thread. Only the status code of a provider's answer is ever shown, never its body."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

import openai
from chatkit.errors import BaseStreamError, CustomStreamError

from backend.db_errors import database_error_summary, database_unreachable

logger = logging.getLogger(__name__)
T = TypeVar("T")
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
DATABASE_UNREACHABLE = Failure(
    "The database is unreachable. Try again shortly.",
    "(No reply: the database could not be reached. Try again.)",
)


async def database_in_words(events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """`events`; a database lost under them ends the stream with an error event in words (the SDK's
    own error event for an unexpected failure has no message)."""
    try:
        async with aclosing(events):  # closed with this one (a client that left), in this task
            async for event in events:
                yield event
    except Exception as exc:
        if isinstance(exc, BaseStreamError) or not database_unreachable(exc):
            raise
        logger.warning("A turn lost the database: %s", database_error_summary(exc))
        raise CustomStreamError(DATABASE_UNREACHABLE.message, allow_retry=True) from None


def turn_failure(exc: Exception) -> Failure | None:
    """What a failed run means for the user: the database lost under it (a cut connection, logged
    without the statement), else `provider_failure`."""
    if database_unreachable(exc):
        logger.warning("A turn lost the database: %s", database_error_summary(exc))
        return DATABASE_UNREACHABLE
    return provider_failure(exc)
