"""`chatkit-backend`: migrate the chat store, then serve the app with uvicorn (refusing a public
address without auth); `chatkit-backend migrate` only migrates."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from backend.db import create_engine
from backend.settings import BackendSettings
from backend.store.migrations import HISTORY
from backend.workers import Supervisor
from plumbing.http_limits import serve
from plumbing.migrations import Migration, PrepareFailed, prepare_once

logger = logging.getLogger("chatkit-backend")


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings() -> BackendSettings:
    """The settings, or the command ends with every problem in one line."""
    try:
        return BackendSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"chatkit-backend: invalid configuration: {problems}")


def prepare_store(settings: BackendSettings, *, migrate: bool) -> Migration | None:
    """Migrate (or check) the chat store; a failure ends the command in one line."""
    try:
        return prepare_once(create_engine, settings.database_url, HISTORY, migrate=migrate)
    except PrepareFailed as exc:
        sys.exit(f"chatkit-backend: {exc}")


def check_mcp_config(settings: BackendSettings) -> None:
    """The MCP config and its widget folders load (else the command ends naming the file); what the
    servers themselves offer is checked when they connect, at start."""
    if settings.mcp_config is None:
        return
    from backend.mcp.config import McpConfigError, load_mcp_config, load_widgets

    try:
        load_widgets(load_mcp_config(settings.mcp_config, settings.mcp_environment()))
    except McpConfigError as exc:
        sys.exit(f"chatkit-backend: {exc}")


def migrate(argv: Sequence[str]) -> None:
    """`chatkit-backend migrate`: upgrade the chat store to the newest schema and say what was done."""
    argparse.ArgumentParser(
        prog="chatkit-backend migrate",
        description="Upgrade the chat store to the newest schema (idempotent).",
    ).parse_args(argv)
    print(f"chatkit-backend: {prepare_store(load_settings(), migrate=True)}")


def serve_parser() -> argparse.ArgumentParser:
    """The options of `chatkit-backend` (serving)."""
    parser = argparse.ArgumentParser(
        prog="chatkit-backend",
        description="The ChatKit backend server.",
        epilog="Migrate the chat store (also done at start, unless MIGRATE_ON_START=false) with: "
        "chatkit-backend migrate",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="backend processes sharing the port, one per core (default 1)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["migrate"]:
        migrate(args[1:])
        return
    options = serve_parser().parse_args(args)
    settings = load_settings()
    if settings.local_mode and not is_loopback(options.host):
        sys.exit(
            f"chatkit-backend: refusing to listen on {options.host} without authentication. "
            "Set AUTH_JWT_SECRET or AUTH_JWKS_URL, or bind to 127.0.0.1."
        )
    if options.workers < 1:
        sys.exit("chatkit-backend: --workers must be at least 1")
    if options.workers > 1 and (options.port == 0 or ":memory:" in settings.database_url):
        sys.exit("chatkit-backend: several workers need a fixed port and a database file or server")
    settings.setup_logging()  # LOG_FORMAT, LOG_LEVEL: every line from here on (uvicorn's too)
    check_mcp_config(settings)
    migration = prepare_store(settings, migrate=settings.migrate_on_start)
    if migration is not None and migration.before != migration.after:
        logger.info("chatkit-backend: %s", migration)
    logger.info(
        "chatkit-backend: serving ChatKit at http://%s:%s/chatkit%s",
        options.host,
        options.port,
        f" with {options.workers} workers" if options.workers > 1 else "",
    )
    if options.workers > 1:
        try:
            supervisor = Supervisor(
                options.host,
                options.port,
                options.workers,
                settings.shutdown_grace_seconds,
                settings.mcp_auth_secret.get_secret_value(),
            )
            sys.exit(supervisor.run())
        except OSError as exc:
            sys.exit(f"chatkit-backend: cannot listen on {options.host}:{options.port}: {exc.strerror}")
    from backend.app import create_app  # not before: a supervisor never loads the app

    app = create_app(settings)
    if not serve(
        app,
        settings.http_limits(),
        host=options.host,
        port=options.port,
        grace_seconds=settings.shutdown_grace_seconds,
    ):
        sys.exit(1)


if __name__ == "__main__":
    main()
