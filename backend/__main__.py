"""`chatkit-backend`: serve the app with uvicorn (refusing a public address without auth)."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from backend.app import create_app
from backend.settings import BackendSettings


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
    print(
        f"chatkit-backend: serving ChatKit at http://{options.host}:{options.port}/chatkit", file=sys.stderr
    )
    uvicorn.run(
        create_app(settings), host=options.host, port=options.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
