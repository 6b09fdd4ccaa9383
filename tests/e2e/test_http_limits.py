"""Slow, idle and greedy clients against the real `chatkit-backend` (plumbing.http_limits): half a
header, 1 MB of headers, a trickled body, an idle keep-alive connection and a connection cap."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx2
import pytest

from tests.backend.conftest import user_token
from tests.e2e.conftest import BackendProcess, Launcher, backend_env, run_backend, server_env

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 2.0
KEEP_ALIVE = 1
BODY_TIMEOUT = 1.0
CAP = 5
MARGIN = 3.0


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """One backend with small limits (no tool servers: a quick start)."""
    directory = tmp_path_factory.mktemp("limits")
    env = backend_env(
        directory,
        MCP_CONFIG="",
        HTTP_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        HTTP_KEEP_ALIVE_SECONDS=str(KEEP_ALIVE),
        HTTP_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        HTTP_BODY_MIN_BYTES_PER_SECOND="1000",
        HTTP_MAX_CONNECTIONS=str(CAP),
    )
    with run_backend(directory, env, ready="/healthz") as started:
        yield started


def connect(backend: BackendProcess) -> socket.socket:
    return connect_port(int(backend.url.rsplit(":", 1)[1]))


def connect_port(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + MARGIN + 5)
    return sock


def read_until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took (fails past `seconds`)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {seconds} s; received {received[:200]!r}")
    return received, time.monotonic() - started


def test_half_a_header_is_closed_after_the_header_timeout(backend: BackendProcess) -> None:
    """A client that never finishes its headers is answered 408 and closed within the timeout."""
    with connect(backend) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        received, _ = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
        assert time.monotonic() - started >= HEADER_TIMEOUT - 0.5
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]


def test_an_idle_new_connection_is_closed_after_the_header_timeout(backend: BackendProcess) -> None:
    """A connection that sends nothing at all does not keep its file open."""
    with connect(backend) as sock:
        received, took = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
    assert took >= HEADER_TIMEOUT - 0.5
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]


def test_a_megabyte_of_headers_is_refused(backend: BackendProcess) -> None:
    """1 MB of headers (the default limit is 64 KiB): 431 and the connection closed."""
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (index, b"a" * 1000) for index in range(1024))
    with connect(backend) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + padding + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return  # closed while we were still sending: refused
        received, _ = read_until_closed(sock, MARGIN)
    assert received == b"" or received.startswith(b"HTTP/1.1 431"), received[:200]


def test_a_trickled_body_is_cut(backend: BackendProcess) -> None:
    """A body sent a byte every 0.2 s (under the 1,000 bytes/s floor) is answered 408 and closed."""
    head = (
        b"POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + user_token("slow").encode() + b"\r\nContent-Length: 1000\r\n\r\n"
    )
    with connect(backend) as sock:
        sock.sendall(head)
        started = time.monotonic()
        sock.settimeout(0.2)
        received = b""
        while time.monotonic() - started < BODY_TIMEOUT + MARGIN + 2:
            try:
                sock.sendall(b" ")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
        else:
            pytest.fail(f"a trickled body was read for {time.monotonic() - started:.1f} s")
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]


def test_an_idle_keep_alive_connection_is_closed(backend: BackendProcess) -> None:
    """After an answer, a kept-alive connection that says nothing more is closed after the idle timeout."""
    with connect(backend) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(MARGIN)
        answer = b""
        while not answer.endswith(b"}"):  # the head, then the JSON body
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        received, took = read_until_closed(sock, KEEP_ALIVE + MARGIN)
    assert received == b""
    assert took >= KEEP_ALIVE - 0.5


def test_connections_beyond_the_cap_get_503_and_healthz_works_again(backend: BackendProcess) -> None:
    """With CAP connections open, one more is answered 503 (or refused); once they close, a fresh
    connection gets /healthz."""
    held = [connect(backend) for _ in range(CAP)]
    try:
        time.sleep(0.2)  # the server has accepted them all
        with connect(backend) as extra:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            received, _ = read_until_closed(extra, MARGIN)
        assert received == b"" or received.startswith(b"HTTP/1.1 503"), received[:200]
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + MARGIN
    with httpx2.Client(timeout=MARGIN) as http:
        while True:
            response = http.get(backend.url + "/healthz")
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert response.status_code == 200
    assert "Too many open files" not in backend.logs()


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer with a Content-Length (its head and body)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {answer[:200]!r}"
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed in the body of {head[:200]!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_an_out_of_range_limit_is_a_400_and_the_connection_stays_open(backend: BackendProcess) -> None:
    """`threads.list` with a limit past any integer column (once a 500 that closed the kept-alive
    connection, dropping the next request) is a 400 naming the range; the same connection answers on."""
    token = user_token("keep-alive").encode()
    with connect(backend) as sock:
        sock.settimeout(MARGIN)
        for limit in (b"9223372036854775807", b"0", b"5"):
            body = b'{"type": "threads.list", "params": {"limit": ' + limit + b"}}"
            sock.sendall(
                b"POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            answer = read_response(sock)
            if limit == b"5":
                assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
            else:
                assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
                assert b"between 1 and" in answer


def test_the_mcp_http_server_has_the_same_limits(launcher: Launcher) -> None:
    """`tasks-mcp --transport http` serves through the same plumbing: half a header is cut, and so is
    1 MB of headers."""
    env = server_env(launcher.directory, HTTP_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))
    server = launcher.http("tasks-mcp", env)
    with connect_port(server.port) as sock:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        received, took = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
    assert took >= HEADER_TIMEOUT - 0.5
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]
    with connect_port(server.port) as sock:
        try:
            sock.sendall(
                b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 1024 * 1024 + b"\r\n\r\n"
            )
        except (BrokenPipeError, ConnectionResetError):
            return
        received, _ = read_until_closed(sock, MARGIN)
    assert received == b"" or received.startswith(b"HTTP/1.1 431"), received[:200]
