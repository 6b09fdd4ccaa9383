"""The backend's one settings object: environment variables with defaults that work on a laptop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from backend.file_types import DEFAULT_UPLOAD_TYPES
from plumbing.http_limits import HttpLimitSettings
from plumbing.logs import LogSettings
from plumbing.metrics import MetricsSettings
from plumbing.tracing import TracingSettings

LOCAL_USER = "local"
LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
CHATKIT_SCRIPT_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"


class BackendSettings(HttpLimitSettings, LogSettings, MetricsSettings, TracingSettings):
    """Everything the backend process reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    database_url: str = Field(default="sqlite+aiosqlite:///./data/chat.db", validation_alias="DATABASE_URL")
    # Migrate the chat store at start (else refuse to serve one that is not current).
    migrate_on_start: bool = Field(default=True, validation_alias="MIGRATE_ON_START")
    # On SIGTERM: how long turns in flight may go on streaming while new requests get 503.
    shutdown_grace_seconds: float = Field(
        default=30, ge=0, le=3600, validation_alias="SHUTDOWN_GRACE_SECONDS"
    )
    auth_jwt_secret: SecretStr | None = Field(default=None, validation_alias="AUTH_JWT_SECRET")
    auth_jwks_url: str | None = Field(default=None, validation_alias="AUTH_JWKS_URL")
    auth_audience: str | None = Field(default=None, validation_alias="AUTH_AUDIENCE")
    auth_issuer: str | None = Field(default=None, validation_alias="AUTH_ISSUER")
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOCAL_ORIGINS), validation_alias="CORS_ALLOW_ORIGINS"
    )
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, validation_alias="MAX_REQUEST_BYTES")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, validation_alias="MAX_UPLOAD_BYTES")
    # What may be attached: comma-separated MIME types and `type/*` patterns (backend.file_types).
    upload_allowed_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_UPLOAD_TYPES), validation_alias="UPLOAD_ALLOWED_TYPES"
    )
    # How much of attached files the model reads: characters per file and per message, and how many
    # of the newest user messages with attachments are read (older ones stay notes).
    attachment_file_chars: int = Field(
        default=20_000, ge=0, le=1_000_000, validation_alias="ATTACHMENT_FILE_CHARS"
    )
    attachment_message_chars: int = Field(
        default=50_000, ge=0, le=4_000_000, validation_alias="ATTACHMENT_MESSAGE_CHARS"
    )
    attachment_recent_messages: int = Field(
        default=3, ge=0, le=500, validation_alias="ATTACHMENT_RECENT_MESSAGES"
    )
    public_base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="PUBLIC_BASE_URL")
    history_items: int = Field(default=30, ge=1, le=500, validation_alias="HISTORY_ITEMS")
    approval_ttl_seconds: int = Field(
        default=3600, ge=1, le=30 * 24 * 3600, validation_alias="APPROVAL_TTL_SECONDS"
    )
    llm_provider: Literal["offline", "openai", "gemini", "openai-compatible"] | None = Field(
        default=None, validation_alias="LLM_PROVIDER"
    )
    llm_model: str | None = Field(default=None, validation_alias="LLM_MODEL")
    llm_base_url: str | None = Field(default=None, validation_alias="LLM_BASE_URL")
    llm_timeout_seconds: float = Field(default=60, gt=0, validation_alias="LLM_TIMEOUT_SECONDS")
    llm_max_retries: int = Field(default=3, ge=0, le=10, validation_alias="LLM_MAX_RETRIES")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias="GEMINI_API_KEY")
    mcp_config: Path | None = Field(default=Path("./mcp_servers.json"), validation_alias="MCP_CONFIG")
    mcp_auth_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(48)), validation_alias="MCP_AUTH_SECRET"
    )
    chatkit_page: bool | None = Field(default=None, validation_alias="CHATKIT_PAGE")
    chatkit_domain_key: str = Field(
        default="domain_pk_localhost_dev", min_length=1, validation_alias="CHATKIT_DOMAIN_KEY"
    )
    chatkit_page_title: str = Field(
        default="ChatKit backend", min_length=1, max_length=200, validation_alias="CHATKIT_PAGE_TITLE"
    )
    chatkit_script_url: str = Field(
        default=CHATKIT_SCRIPT_URL, min_length=1, validation_alias="CHATKIT_SCRIPT_URL"
    )
    # How the page's ChatKit uploads: `attachments.create` then a signed URL, or one POST /chatkit/upload.
    chatkit_upload_strategy: Literal["two_phase", "direct"] = Field(
        default="two_phase", validation_alias="CHATKIT_UPLOAD_STRATEGY"
    )
    # Per end user: model turns and widget actions started per minute (0: no limit; backend.rate_limits).
    rate_limit_turns_per_minute: int = Field(
        default=30, ge=0, le=100_000, validation_alias="RATE_LIMIT_TURNS_PER_MINUTE"
    )
    # Where every replica counts them (redis://, rediss:// or unix://); unset: in each process.
    redis_url: SecretStr | None = Field(default=None, validation_alias="REDIS_URL")

    @field_validator(
        "http_max_connections",
        "chatkit_page",
        "auth_jwt_secret",
        "auth_jwks_url",
        "auth_audience",
        "auth_issuer",
        "llm_provider",
        "llm_model",
        "llm_base_url",
        "openai_api_key",
        "gemini_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # VAR= (empty, as compose passes `${VAR:-}`): as if unset, so the default for the mode applies.
        return None if value == "" else value

    @field_validator("rate_limit_turns_per_minute", mode="before")
    @classmethod
    def _default_rate_limit(cls, value: object) -> object:
        return 30 if value == "" else value  # RATE_LIMIT_TURNS_PER_MINUTE= (empty): the default

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: object) -> object:
        if value == "":  # REDIS_URL= (empty): count in each process
            return None
        if isinstance(value, str) and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("chatkit_upload_strategy", mode="before")
    @classmethod
    def _default_strategy(cls, value: object) -> object:
        return "two_phase" if value == "" else value  # CHATKIT_UPLOAD_STRATEGY= (empty): the default

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("upload_allowed_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if value == "":  # UPLOAD_ALLOWED_TYPES= (empty): the default allowlist
            return list(DEFAULT_UPLOAD_TYPES)
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and any(
            not isinstance(part, str) or part.count("/") != 1 for part in value
        ):
            raise ValueError("UPLOAD_ALLOWED_TYPES must be MIME types or type/* patterns, comma-separated")
        return value

    @field_validator("auth_jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("AUTH_JWT_SECRET must be at least 32 characters long")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BackendSettings:
        if self.auth_jwt_secret is not None and self.auth_jwks_url:
            raise ValueError("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both")
        provider = self.provider
        if provider == "openai" and self.openai_api_key is None:
            raise ValueError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        if provider == "gemini" and self.gemini_api_key is None:
            raise ValueError("LLM_PROVIDER=gemini needs GEMINI_API_KEY")
        if provider == "openai-compatible" and not (self.llm_base_url and self.llm_model):
            raise ValueError("LLM_PROVIDER=openai-compatible needs LLM_BASE_URL and LLM_MODEL")
        return self

    @property
    def provider(self) -> str:
        """LLM_PROVIDER, else `openai` with an OpenAI key, else `gemini` with a Gemini key, else `offline`."""
        if self.llm_provider is not None:
            return self.llm_provider
        if self.openai_api_key is not None:
            return "openai"
        return "gemini" if self.gemini_api_key is not None else "offline"

    @field_validator("mcp_config", mode="before")
    @classmethod
    def _no_config(cls, value: object) -> object:
        return None if value == "" else value  # MCP_CONFIG= (empty): run without tool servers

    @field_validator("mcp_auth_secret")
    @classmethod
    def _strong_mcp_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("MCP_AUTH_SECRET must be at least 32 characters long")
        return value

    def mcp_environment(self) -> dict[str, str]:
        """What `${VAR}` in the MCP config may refer to: this process's environment plus the
        identity secret (generated for this run when MCP_AUTH_SECRET is unset)."""
        return {**os.environ, "MCP_AUTH_SECRET": self.mcp_auth_secret.get_secret_value()}

    @property
    def local_mode(self) -> bool:
        """No end-user auth configured: one local user, loopback only."""
        return self.auth_jwt_secret is None and not self.auth_jwks_url

    @property
    def chatkit_page_enabled(self) -> bool:
        """CHATKIT_PAGE when set, else on in local mode and off when end-user auth is configured."""
        return self.local_mode if self.chatkit_page is None else self.chatkit_page
