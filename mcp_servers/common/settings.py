"""Settings shared by every MCP server process (environment variables, laptop-friendly defaults)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from plumbing.http_limits import HttpLimitSettings
from plumbing.logs import LogSettings
from plumbing.metrics import MetricsSettings
from plumbing.tracing import TracingSettings

MIN_SECRET_LENGTH = 32


class ServerSettings(HttpLimitSettings, LogSettings, MetricsSettings, TracingSettings):
    """What every MCP server reads from its environment; each server subclasses it for its database."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str  # each server reads its own variable (TASKS_DATABASE_URL, ITEMS_DATABASE_URL)
    mcp_auth_secret: SecretStr | None = Field(default=None, validation_alias="MCP_AUTH_SECRET")
    mcp_auth_secret_file: Path = Field(
        default=Path("./data/mcp_auth_secret"), validation_alias="MCP_AUTH_SECRET_FILE"
    )
    mcp_local_user: str = Field(
        default="local", min_length=1, max_length=200, validation_alias="MCP_LOCAL_USER"
    )
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="MCP_ALLOWED_HOSTS"
    )
    mcp_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", validation_alias="MCP_LOG_LEVEL"
    )
    migrate_on_start: bool = Field(
        default=True,
        validation_alias="MIGRATE_ON_START",
        description="Migrate the database at start (else refuse to serve one that is not current).",
    )
    shutdown_grace_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        validation_alias="SHUTDOWN_GRACE_SECONDS",
        description="Over HTTP, on SIGTERM: how long calls in flight may finish while new ones get 503.",
    )

    @field_validator("http_max_connections", mode="before")
    @classmethod
    def _no_cap(cls, value: object) -> object:
        return None if value == "" else value  # HTTP_MAX_CONNECTIONS= (empty): from the open-files limit

    @field_validator("mcp_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("mcp_auth_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"MCP_AUTH_SECRET must be at least {MIN_SECRET_LENGTH} characters long")
        return value

    def auth_secret(self, *, create: bool = True) -> str:
        """The token-signing secret: MCP_AUTH_SECRET, else the one kept in MCP_AUTH_SECRET_FILE.

        A server (`create=True`) generates that file once when it is missing (local mode); a
        command that only mints tokens (`create=False`) must sign with the servers' secret, so
        a missing file is `SecretNotFound`, never a new secret. A file that cannot be read or
        holds too short a secret is a `ValueError`.
        """
        if self.mcp_auth_secret is not None:
            return self.mcp_auth_secret.get_secret_value()
        path = self.mcp_auth_secret_file
        if not path.exists():
            if not create:
                raise SecretNotFound(path)
            _create_secret_file(path)
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the secret file {path}: {exc}") from None
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{path} holds a secret shorter than {MIN_SECRET_LENGTH} characters")
        return secret


class SecretNotFound(LookupError):
    """Neither MCP_AUTH_SECRET nor the secret file is there; `path` is where the file was looked for."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        super().__init__(
            f"MCP_AUTH_SECRET is not set and there is no secret file at {self.path}. A server "
            "without MCP_AUTH_SECRET keeps its secret in MCP_AUTH_SECRET_FILE (default "
            "./data/mcp_auth_secret, under the directory the server was started from): run this "
            "command from that directory, or set MCP_AUTH_SECRET_FILE to that file, or set "
            f"MCP_AUTH_SECRET to the servers' secret (at least {MIN_SECRET_LENGTH} characters)."
        )


def _create_secret_file(path: Path) -> None:
    """Write a new secret to `path` atomically: a complete private file appears, or nothing changes
    (another process that got there first keeps its secret, and everyone reads that one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # created with mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
