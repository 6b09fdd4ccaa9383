"""The backend's one settings object: environment variables with defaults that work on a laptop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_USER = "local"
LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]


class BackendSettings(BaseSettings):
    """Everything the backend process reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite+aiosqlite:///./data/chat.db", validation_alias="DATABASE_URL")
    auth_jwt_secret: SecretStr | None = Field(default=None, validation_alias="AUTH_JWT_SECRET")
    auth_jwks_url: str | None = Field(default=None, validation_alias="AUTH_JWKS_URL")
    auth_audience: str | None = Field(default=None, validation_alias="AUTH_AUDIENCE")
    auth_issuer: str | None = Field(default=None, validation_alias="AUTH_ISSUER")
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOCAL_ORIGINS), validation_alias="CORS_ALLOW_ORIGINS"
    )
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, validation_alias="MAX_REQUEST_BYTES")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, validation_alias="MAX_UPLOAD_BYTES")
    public_base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="PUBLIC_BASE_URL")
    history_items: int = Field(default=30, ge=1, le=500, validation_alias="HISTORY_ITEMS")
    mcp_config: Path | None = Field(default=Path("./mcp_servers.json"), validation_alias="MCP_CONFIG")
    mcp_auth_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(48)), validation_alias="MCP_AUTH_SECRET"
    )

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("auth_jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("AUTH_JWT_SECRET must be at least 32 characters long")
        return value

    @model_validator(mode="after")
    def _one_auth_mode(self) -> BackendSettings:
        if self.auth_jwt_secret is not None and self.auth_jwks_url:
            raise ValueError("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both")
        return self

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
