"""`chatkit-backend`: serve the app with uvicorn (refusing a public address without auth)."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from backend.gc_tuning import tune_for_serving
from backend.settings import BackendSettings
from backend.workers import Supervisor


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    parser = argparse.ArgumentParser(prog="chatkit-backend", description="The ChatKit backend server.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="backend processes sharing the port, one per core (default 1)"
    )
    options = parser.parse_args(argv)
    try:
        settings = BackendSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"chatkit-backend: invalid configuration: {problems}")
    if settings.local_mode and not is_loopback(options.host):
        sys.exit(
            f"chatkit-backend: refusing to listen on {options.host} without authentication. "
            "Set AUTH_JWT_SECRET or AUTH_JWKS_URL, or bind to 127.0.0.1."
        )
    if options.workers < 1:
        sys.exit("chatkit-backend: --workers must be at least 1")
    if options.workers > 1 and (options.port == 0 or ":memory:" in settings.database_url):
        sys.exit("chatkit-backend: several workers need a fixed port and a database file or server")
    print(
        f"chatkit-backend: serving ChatKit at http://{options.host}:{options.port}/chatkit"
        + (f" with {options.workers} workers" if options.workers > 1 else ""),
        file=sys.stderr,
    )
    if options.workers > 1:
        try:
            sys.exit(Supervisor(options.host, options.port, options.workers).run())
        except OSError as exc:
            sys.exit(f"chatkit-backend: cannot listen on {options.host}:{options.port}: {exc.strerror}")
    from backend.app import create_app  # not before: a supervisor never loads the app

    app = create_app(settings)
    tune_for_serving()
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
