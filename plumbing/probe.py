"""`python -m plumbing.probe URL`: exit 0 when URL answers 2xx within a few seconds, else 1.

The container health check of every process of ours (the image has no curl or wget).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def probe(url: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when `url` answers 2xx, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return str(exc)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: `python -m plumbing.probe http://127.0.0.1:8000/healthz`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m plumbing.probe URL")
    problem = probe(args[0])
    if problem is not None:
        sys.exit(f"{args[0]}: {problem}")


if __name__ == "__main__":
    main()
