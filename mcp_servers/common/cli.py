"""The console-script front shared by the servers: parse argv, pick the transport, or mint a token."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from mcp.server import MCPServer
from pydantic import ValidationError

from mcp_servers.common.db import create_engine
from mcp_servers.common.identity import DEFAULT_TTL_SECONDS, TokenCodec
from mcp_servers.common.server import MCP_PATH, http_app
from mcp_servers.common.settings import SecretNotFound, ServerSettings
from plumbing.gc_tuning import tune_for_serving
from plumbing.http_limits import serve
from plumbing.migrations import History, PrepareFailed, prepare_once
from plumbing.tracing import configure_tracing, flush_tracing

logger = logging.getLogger("mcp_servers")


def run_cli(
    *,
    prog: str,
    default_port: int,
    load_settings: Callable[[], ServerSettings],
    create_server: Callable[..., MCPServer[Any]],
    history: History,
    argv: Sequence[str] | None = None,
) -> None:
    """Serve over stdio or streamable HTTP (migrating the database first), `migrate` it, or
    (`token --user NAME`) print an identity token."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["token"]:
        _mint(prog, args[1:], load_settings)
        return
    if args[:1] == ["migrate"]:
        _migrate(prog, args[1:], load_settings, history)
        return
    options = serve_parser(prog, default_port).parse_args(args)
    settings = load_settings()
    settings.setup_logging()  # LOG_FORMAT, LOG_LEVEL (over stdio, stderr is the backend's)
    logging.getLogger("mcp").setLevel(settings.mcp_log_level)  # the SDK's own lines: MCP_LOG_LEVEL
    configure_tracing(prog, settings)  # off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (plumbing.tracing)
    _prepare(prog, settings, history, migrate=settings.migrate_on_start)
    if options.transport == "stdio":
        server = create_server(settings, transport="stdio")
        tune_for_serving()
        server.run("stdio")
        flush_tracing()
        return
    server = create_server(settings, transport="http")
    app = http_app(
        server,
        host=options.host,
        allowed_hosts=settings.mcp_allowed_hosts,
        metrics_token=settings.metrics_token,
    )
    logger.info("%s: serving MCP at http://%s:%s%s", prog, options.host, options.port, MCP_PATH)
    limits = settings.http_limits()
    served = serve(
        app, limits, host=options.host, port=options.port, grace_seconds=settings.shutdown_grace_seconds
    )
    flush_tracing()
    if not served:
        sys.exit(1)


def serve_parser(prog: str, default_port: int) -> argparse.ArgumentParser:
    """The options of `tasks-mcp` / `items-mcp` (serving)."""
    parser = argparse.ArgumentParser(prog=prog, description=f"{prog}: an MCP tool server.")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"HTTP port (default {default_port})")
    parser.epilog = (
        f"Mint a token for the HTTP transport with: {prog} token --user NAME. "
        f"Migrate the database (also done at start, unless MIGRATE_ON_START=false) with: {prog} migrate"
    )
    return parser


def _prepare(prog: str, settings: ServerSettings, history: History, *, migrate: bool) -> None:
    """Migrate (or check) the database before serving: a failure ends the command in one line."""
    try:
        migration = prepare_once(create_engine, settings.database_url, history, migrate=migrate)
    except PrepareFailed as exc:
        sys.exit(f"{prog}: {exc}")
    if migration is not None and migration.before != migration.after:
        logger.info("%s: %s", prog, migration)


def _migrate(
    prog: str, args: list[str], load_settings: Callable[[], ServerSettings], history: History
) -> None:
    parser = argparse.ArgumentParser(
        prog=f"{prog} migrate", description="Upgrade the database to the newest schema (idempotent)."
    )
    parser.parse_args(args)
    try:
        migration = prepare_once(create_engine, load_settings().database_url, history, migrate=True)
    except PrepareFailed as exc:
        sys.exit(f"{prog}: {exc}")
    print(f"{prog}: {migration}")


def _mint(prog: str, args: list[str], load_settings: Callable[[], ServerSettings]) -> None:
    """Print a token signed with the servers' secret; without one, exit 2 and say where it was looked for."""
    parser = argparse.ArgumentParser(
        prog=f"{prog} token",
        description="Print an identity token for a user, signed with the servers' secret "
        "(MCP_AUTH_SECRET, else the file MCP_AUTH_SECRET_FILE; this command never creates one).",
    )
    parser.add_argument("--user", required=True, help="the user id (the token's sub)")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS * 12, help="lifetime in seconds")
    options = parser.parse_args(args)
    if options.ttl < 1:
        parser.error("--ttl must be at least 1 second")
    try:
        secret = load_settings().auth_secret(create=False)
    except (SecretNotFound, ValidationError, ValueError) as exc:
        print(f"{prog} token: no token: {_one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    try:
        print(TokenCodec(secret).mint(options.user, ttl_seconds=options.ttl))
    except ValueError as exc:
        parser.error(str(exc))


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
    return str(exc)
