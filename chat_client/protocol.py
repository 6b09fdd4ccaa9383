"""The ChatKit protocol over HTTP, as the UI speaks it: one POST endpoint, JSON answers or SSE streams."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx2

DEFAULT_URL = "http://127.0.0.1:8000/chatkit"
DEFAULT_TIMEOUT_SECONDS = 120.0
MALFORMED = "chatkit-chat.malformed"  # the type given to a frame whose data is not a JSON object
MAX_EVENT_BYTES = 16 * 1024 * 1024
Event = dict[str, Any]


class ChatKitError(Exception):
    """A request that failed; `status` is the HTTP status, None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def user_input(text: str) -> dict[str, Any]:
    """The `input` of a user message, exactly as the UI sends it."""
    return {"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}}


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_body(body: bytes) -> str:
    """The message a backend put in an error body: ChatKit-style `{"error": {...}}`, FastAPI's
    `{"detail": ...}`, other common JSON shapes, or the text itself."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return _one_line(text)
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or error.get("msg")
            code = error.get("code") or error.get("type")
            if message is not None:
                return _one_line(f"{message} ({code})" if code else str(message))
        elif error is not None:
            return _one_line(str(error))
        if "detail" in data:
            detail = data["detail"]
            return _one_line(detail if isinstance(detail, str) else json.dumps(detail))
    return _one_line(text)


def http_error(response: httpx2.Response) -> ChatKitError:
    """The error for a response that is not a success (its body must have been read)."""
    detail = describe_body(response.content) or response.reason_phrase
    return ChatKitError(f"HTTP {response.status_code}: {detail}", response.status_code)


def decode_event(data: str) -> Event | None:
    """One SSE frame's data as a ChatKit event; a `MALFORMED` event when it is not a JSON object,
    None when the frame carries no data (keep-alives)."""
    if not data.strip():
        return None
    try:
        event = json.loads(data)
    except ValueError:
        return {"type": MALFORMED, "data": _one_line(data, 200)}
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return {"type": MALFORMED, "data": _one_line(data, 200)}
    return event


def iter_events(response: httpx2.Response) -> Iterator[Event]:
    """The ChatKit events of a streaming response, decoded as they arrive."""
    for frame in httpx2.EventSource(response, max_event_size=MAX_EVENT_BYTES):
        event = decode_event(frame.data)
        if event is not None:
            yield event


def transport_error(url: str, exc: httpx2.TransportError, timeout: float) -> ChatKitError:
    """A one-line explanation of a request that got no (complete) answer."""
    if isinstance(exc, httpx2.ConnectTimeout):
        return ChatKitError(f"cannot connect to {url}: no answer within {timeout:g} s")
    if isinstance(exc, httpx2.TimeoutException):
        return ChatKitError(f"{url} stopped answering (no data for {timeout:g} s)")
    if isinstance(exc, httpx2.ConnectError):
        return ChatKitError(f"cannot connect to {url}: {_one_line(str(exc)) or 'connection refused'}")
    return ChatKitError(f"request to {url} failed: {_one_line(str(exc)) or type(exc).__name__}")


def local_timezone(localtime: str = "/etc/localtime") -> str | None:
    """This machine's IANA time zone ("Europe/Paris"), read from where `localtime` links to; None
    when it cannot be told (then the backend uses its own)."""
    target = os.path.realpath(localtime)
    _, found, name = target.partition("/zoneinfo/")
    name = name.removeprefix("posix/").removeprefix("right/")
    return name if found and name and os.path.isfile(target) else None


class ChatKitClient:
    """A ChatKit backend at `url`, called as the UI calls it (with a bearer token when given, and
    the user's time zone as `X-Timezone`, as the page sends it)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx2.BaseTransport | None = None,
        timezone: str | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if timezone:
            headers["X-Timezone"] = timezone
        self._http = httpx2.Client(
            headers=headers, timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)), transport=transport
        )

    def __enter__(self) -> ChatKitClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def call(self, type_: str, **params: Any) -> Any:
        """A non-streaming request; its JSON answer."""
        try:
            response = self._http.post(self.url, json={"type": type_, "params": params})
        except httpx2.TransportError as exc:
            raise transport_error(self.url, exc, self.timeout) from exc
        if not response.is_success:
            raise http_error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ChatKitError(f"{type_}: the answer is not JSON: {describe_body(response.content)}") from exc

    @contextmanager
    def stream(self, type_: str, **params: Any) -> Iterator[Iterator[Event]]:
        """A streaming request; yields its events as they arrive."""
        headers = {"Accept": "text/event-stream"}
        try:
            with self._http.stream(
                "POST", self.url, json={"type": type_, "params": params}, headers=headers
            ) as response:
                if not response.is_success:
                    response.read()
                    raise http_error(response)
                media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
                if media_type != "text/event-stream":
                    response.read()
                    raise ChatKitError(
                        f"{type_}: expected text/event-stream, got {media_type or 'no content type'}: "
                        f"{describe_body(response.content)}",
                        response.status_code,
                    )
                yield iter_events(response)
        except httpx2.TransportError as exc:  # also when the body of the `with` reads a broken stream
            raise transport_error(self.url, exc, self.timeout) from exc

    def send(self, text: str, thread_id: str | None = None) -> AbstractContextManager[Iterator[Event]]:
        """Start a thread with `text` or add it to `thread_id`: the stream context of the reply."""
        if thread_id is None:
            return self.stream("threads.create", input=user_input(text))
        return self.stream("threads.add_user_message", thread_id=thread_id, input=user_input(text))

    def custom_action(
        self, thread_id: str, item_id: str, action: dict[str, Any]
    ) -> AbstractContextManager[Iterator[Event]]:
        """Run a widget's action (`threads.custom_action`): the stream context of what it changes."""
        return self.stream("threads.custom_action", thread_id=thread_id, item_id=item_id, action=action)

    def sync_custom_action(self, thread_id: str, item_id: str, action: dict[str, Any]) -> dict[str, Any]:
        """Run a widget's action answered at once (`threads.sync_custom_action`): the updated item."""
        answer = self.call("threads.sync_custom_action", thread_id=thread_id, item_id=item_id, action=action)
        item = answer.get("updated_item") if isinstance(answer, dict) else None
        return item if isinstance(item, dict) else {}

    def list_threads(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent threads, newest first."""
        return list(self.call("threads.list", limit=limit, order="desc").get("data", []))

    def get_thread(self, thread_id: str) -> dict[str, Any]:
        """One thread's metadata (and its first page of items)."""
        return dict(self.call("threads.get_by_id", thread_id=thread_id))

    def recent_items(self, thread_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The last `limit` items of a thread, oldest first."""
        page = self.call("items.list", thread_id=thread_id, limit=limit, order="desc")
        return list(reversed(page.get("data", [])))
