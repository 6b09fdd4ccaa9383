"""`chatkit-chat [--url URL] [--token TOKEN] [--thread ID] [MESSAGE]`: parses arguments, nothing more."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from .protocol import DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL, ChatKitClient, local_timezone
from .session import Session, send_once

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command(
    help="Chat with any ChatKit backend from the terminal: send MESSAGE and print the streamed reply, "
    "or start an interactive session without one."
)
def chat(
    message: Annotated[
        list[str] | None,
        typer.Argument(metavar="MESSAGE", help="The message to send (words are joined).", show_default=False),
    ] = None,
    url: Annotated[
        str, typer.Option(envvar="CHATKIT_URL", metavar="URL", help="The ChatKit endpoint.")
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="CHATKIT_TOKEN",
            metavar="TOKEN",
            help="Sent as `Authorization: Bearer TOKEN`.",
            show_default=False,
        ),
    ] = None,
    thread: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Continue this thread instead of starting one.", show_default=False),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=0.1, metavar="SECONDS", help="Seconds to wait for the backend to connect or send data."
        ),
    ] = DEFAULT_TIMEOUT_SECONDS,
    timezone: Annotated[
        str | None,
        typer.Option(
            metavar="ZONE",
            help="Your IANA time zone, for dates in words (default: this machine's).",
            show_default=False,
        ),
    ] = None,
) -> None:
    console = Console(highlight=False)
    with ChatKitClient(url, token, timeout=timeout, timezone=timezone or local_timezone()) as client:
        if message:
            code = send_once(
                client, console, Console(stderr=True, highlight=False), " ".join(message), thread
            )
        else:
            interactive = sys.stdin.isatty()
            if interactive:
                import readline  # noqa: F401  (line editing and history for input())
            code = Session(client, console, thread, echo=not interactive).run()
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app()
