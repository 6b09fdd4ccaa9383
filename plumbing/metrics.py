"""Prometheus metrics plumbing shared by the backend and the tool servers: the registry a scrape
reads, who may scrape, and the `GET /metrics` endpoint as ASGI middleware.

- One process: the default registry. Several workers: the supervisor points
  `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before they start (prometheus_client chooses
  its file-backed values at import), and a scrape, answered by any worker, sums every worker's files.
- Access: with `METRICS_TOKEN` set, every scrape needs `Authorization: Bearer <token>` (else 401).
  Without it a service that only loopback clients can reach (the backend in local mode, a tool
  server listening on loopback) answers everyone; any other answers loopback clients only (else
  403, naming METRICS_TOKEN). Behind a reverse proxy on the same host that does not send
  X-Forwarded-For, every client looks like loopback: set METRICS_TOKEN there.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
MIN_TOKEN_LENGTH = 16

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class MetricsSettings(BaseSettings):
    """Who may scrape `GET /metrics`: the bearer token a scraper sends (unset: loopback only,
    or everyone on a loopback-only service)."""

    metrics_token: SecretStr | None = Field(default=None, validation_alias="METRICS_TOKEN")

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token_empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # METRICS_TOKEN= (empty): no token

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters long")
        return value


def multiprocess_dir() -> str | None:
    """The directory every worker writes its metric values to, when several share a port."""
    return os.environ.get(MULTIPROC_ENV) or None


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads: every worker's files under PROMETHEUS_MULTIPROC_DIR, else this process."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


def exposition(accept: str = "") -> tuple[bytes, str]:
    """The metrics and their content type: the Prometheus text format (0.0.4), or what the
    scraper's Accept header asks for (OpenMetrics, text 1.0.0), as prometheus_client negotiates."""
    encode, content_type = choose_encoder(accept)
    return encode(scrape_registry()), content_type


def is_loopback(host: str | None) -> bool:
    """Whether `host` (an address or `localhost`) is this machine; unknown or a name: False."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


@dataclass(frozen=True)
class Refusal:
    """Why a scrape is refused: the HTTP status and the JSON error's code and message."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class MetricsAccess:
    """The access rule of one process's `/metrics` (see the module docstring)."""

    token: SecretStr | None
    loopback_only_service: bool

    def refusal(self, authorization: str | None, client_host: str | None) -> Refusal | None:
        """None when this scrape may read the metrics, else why not."""
        if self.token is not None:
            scheme, _, given = (authorization or "").partition(" ")
            expected = self.token.get_secret_value().encode()
            if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
                return None
            return Refusal(401, "unauthorized", "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.")
        if self.loopback_only_service or is_loopback(client_host):
            return None
        return Refusal(
            403,
            "forbidden",
            "Metrics are served to loopback clients only. Set METRICS_TOKEN and scrape with "
            "Authorization: Bearer <METRICS_TOKEN> to read them from elsewhere.",
        )


async def _json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


class MetricsEndpoint:
    """ASGI middleware answering `GET /metrics` under `access` and handing every other request to
    `app` (so /metrics sees none of the app's own auth, CORS or routes). `before_scrape` runs
    before each permitted scrape (to refresh gauges read from live state)."""

    def __init__(
        self, app: Asgi, *, access: MetricsAccess, before_scrape: Callable[[], None] | None = None
    ) -> None:
        self.app = app
        self.access = access
        self.before_scrape = before_scrape

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != METRICS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            error = {"code": "method_not_allowed", "message": "Use GET /metrics."}
            await _json(send, 405, {"error": error}, [(b"allow", b"GET, HEAD")])
            return
        headers = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        authorization = headers.get(b"authorization")
        client = scope.get("client")
        refusal = self.access.refusal(authorization, client[0] if client else None)
        if refusal is not None:
            challenge = [(b"www-authenticate", b"Bearer")] if refusal.status == 401 else []
            error = {"code": refusal.code, "message": refusal.message}
            await _json(send, refusal.status, {"error": error}, challenge)
            return
        if self.before_scrape is not None:
            self.before_scrape()
        content, content_type = exposition(headers.get(b"accept", ""))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(content)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})


class WorkerMetrics:
    """A fresh PROMETHEUS_MULTIPROC_DIR for a supervisor's workers, while in `with`: set in the
    environment before any worker starts (a spawned worker picks file-backed values at import),
    a dead worker's live gauges dropped (`mark_dead`; its counters stay in the sums), and the
    directory removed at the end."""

    def __init__(self) -> None:
        self.directory: str | None = None
        self._previous: str | None = None

    def __enter__(self) -> WorkerMetrics:
        self.directory = tempfile.mkdtemp(prefix="chatkit-metrics-")
        self._previous = os.environ.get(MULTIPROC_ENV)
        os.environ[MULTIPROC_ENV] = self.directory
        return self

    def mark_dead(self, pid: int | None) -> None:
        """Forget the live gauges (streams in progress, servers up) of a worker that exited."""
        if self.directory is not None and pid is not None:
            mark_process_dead(pid, self.directory)

    def __exit__(self, *_: object) -> None:
        if self._previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = self._previous
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
