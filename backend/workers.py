"""Several backend processes on one port, for more than one core.

Each worker is a whole backend (its own app, settings, database pool and MCP connections; stdio
MCP servers are started per worker) and binds its own `SO_REUSEPORT` socket, so the kernel spreads
new connections evenly across the workers. With one shared socket, as uvicorn's `--workers` does,
whichever worker wakes first accepts a burst of connections and keeps them (keep-alive), and one
worker ends up with most of the load. The store and the tool servers write with single-statement
upserts, so the workers may share a SQLite file (WAL) or a Postgres database.

The parent only supervises: it restarts a worker that dies, stops all of them when one fails to
start (it would fail the same way again), and passes SIGINT/SIGTERM on for a graceful shutdown.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from pydantic import SecretStr
from uvicorn.config import STARTUP_FAILURE

from plumbing.gc_tuning import tune_for_serving
from plumbing.graceful import DrainGate, GracefulServer
from plumbing.http_limits import serving_config
from plumbing.logs import uvicorn_log_config
from plumbing.metrics import WorkerMetrics

logger = logging.getLogger("chatkit-backend")
# What a worker may take beyond its own grace period (uvicorn's shutdown, the app's lifespan).
SHUTDOWN_MARGIN_SECONDS = 10.0
POLL_SECONDS = 0.2
RESTART_SPACING_SECONDS = 1.0  # a worker that keeps dying is not restarted in a busy loop


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other `SO_REUSEPORT` sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_worker(host: str, port: int, mcp_auth_secret: str) -> None:
    """One worker: the app built from the environment, served on its own socket, drained on SIGTERM.

    `mcp_auth_secret` is the supervisor's: every worker signs and verifies with the same one (upload
    and preview links, identity tokens), also when none is configured and one was generated."""
    from backend.app import create_app  # imported here: the parent never loads the app
    from backend.settings import BackendSettings

    try:
        settings = BackendSettings().model_copy(update={"mcp_auth_secret": SecretStr(mcp_auth_secret)})
        settings.setup_logging()  # a spawned process starts with none
        app = create_app(settings)
    except Exception:  # the parent checked the same settings: whatever this is, a restart repeats it
        logger.exception("chatkit-backend: a worker could not build the app")
        sys.exit(STARTUP_FAILURE)
    try:
        sock = reuse_port_socket(host, port)
    except OSError as exc:
        logger.error("chatkit-backend: a worker cannot listen on %s:%s: %s", host, port, exc.strerror)
        sys.exit(STARTUP_FAILURE)
    tune_for_serving()
    gate = DrainGate(app)
    config = serving_config(
        gate, settings.http_limits(), log_level="warning", access_log=False, log_config=uvicorn_log_config()
    )
    server = GracefulServer(config, gate, settings.shutdown_grace_seconds)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """Starts `count` workers on (host, port), keeps them running, and stops them on a signal."""

    def __init__(self, host: str, port: int, count: int, grace_seconds: float, mcp_auth_secret: str) -> None:
        self.host, self.port, self.count = host, port, count
        self._secret = mcp_auth_secret
        self.grace_seconds = grace_seconds
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[BaseProcess] = []
        self._started_at: list[float] = []
        self._stopping = False
        self._metrics = WorkerMetrics()

    def _start(self) -> BaseProcess:
        worker = self._context.Process(
            target=serve_worker, args=(self.host, self.port, self._secret), daemon=False
        )
        worker.start()
        return worker

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Serve until a signal or a failed start; the exit status for the command."""
        reuse_port_socket(self.host, self.port).close()  # a taken port fails here, once and clearly
        with self._metrics:  # one directory for every worker's metrics, summed at a scrape
            return self._serve()

    def _serve(self) -> int:
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self._workers = [self._start() for _ in range(self.count)]
        self._started_at = [time.monotonic()] * self.count
        status = 0
        while not self._stopping:
            time.sleep(POLL_SECONDS)
            for index, worker in enumerate(self._workers):
                if worker.is_alive() or self._stopping:
                    continue
                if worker.exitcode == STARTUP_FAILURE:
                    logger.error("chatkit-backend: a worker failed to start; stopping the others")
                    self._stopping, status = True, 1
                    break
                if time.monotonic() - self._started_at[index] < RESTART_SPACING_SECONDS:
                    continue  # started again on a later poll
                logger.warning(
                    "chatkit-backend: worker %s exited (%s); starting another", worker.pid, worker.exitcode
                )
                self._metrics.mark_dead(worker.pid)
                self._workers[index] = self._start()
                self._started_at[index] = time.monotonic()
        self._shutdown()
        return status

    def _shutdown(self) -> None:
        """SIGTERM to every worker (each drains its requests), SIGKILL after their grace period."""
        for worker in self._workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds + SHUTDOWN_MARGIN_SECONDS
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join()
