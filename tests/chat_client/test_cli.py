"""The real `chatkit-chat` console script against the real backend (offline model, MCP servers over
stdio): one-shot turns, continuing a thread, HTTP failures, and an interactive session over stdin."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time

import httpx2
import jwt
import pytest

from tests.backend.conftest import user_token
from tests.chat_client.conftest import MAX_REQUEST_BYTES
from tests.e2e.conftest import BIN, free_port
from tests.e2e.conftest import BackendProcess as Backend

pytestmark = pytest.mark.e2e
THREAD_LINE = re.compile(r"^thread (thr_\w+)  \(continue with --thread \1\)$", re.MULTILINE)
TASK_ID = re.compile(r"task_[0-9a-z]{12}")


def chat(
    *args: str, url: str | None = None, token: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `chatkit-chat ARGS` with CHATKIT_URL / CHATKIT_TOKEN set (when given); output is a pipe."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "COLUMNS": "100",
    }
    env |= {"CHATKIT_URL": url} if url else {}
    env |= {"CHATKIT_TOKEN": token} if token else {}
    return subprocess.run(
        [str(BIN / "chatkit-chat"), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def user_messages(backend: Backend, token: str, thread_id: str) -> list[str]:
    """The user messages stored in a thread, read over the protocol."""
    body = {"type": "items.list", "params": {"thread_id": thread_id, "limit": 50, "order": "asc"}}
    response = httpx2.post(
        backend.chatkit_url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    items = response.json()["data"]
    return [item["content"][0]["text"] for item in items if item["type"] == "user_message"]


def test_one_shot_add_then_list_in_the_same_thread(backend: Backend) -> None:
    """The reply and the task card print as plain text; --thread continues the thread it printed."""
    token = user_token("cli-alice")
    added = chat("add task buy milk", url=backend.chatkit_url, token=token)
    assert added.returncode == 0, added.stderr
    assert added.stderr == ""
    out = added.stdout
    assert "\x1b" not in out  # not a terminal: no control codes
    assert "… Add task…" in out  # the progress update: the tool's MCP title
    assert "Task created" in out and "buy milk" in out  # the card
    assert "Pending" in out and "Medium priority" in out  # its badges
    task_id = TASK_ID.search(out).group()
    assert f"Task created: {task_id} 'buy milk' (pending, medium priority)." in out  # the streamed reply
    thread_id = THREAD_LINE.search(out).group(1)
    assert out.rstrip().endswith(thread_id + ")")

    listed = chat("--thread", thread_id, "list tasks", url=backend.chatkit_url, token=token)
    assert listed.returncode == 0, listed.stderr
    assert "1 task" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if "buy milk" in line)
    assert "○" in row and "Medium" in row  # a pending task with its priority badge
    assert task_id in listed.stdout
    assert THREAD_LINE.search(listed.stdout).group(1) == thread_id
    assert user_messages(backend, token, thread_id) == ["add task buy milk", "list tasks"]


def forged_token() -> str:
    claims = {"sub": "mallory", "exp": int(time.time()) + 600}
    return jwt.encode(claims, "another-secret-that-is-long-enough-0123456789", algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "missing"), ("not-a-jwt", "invalid"), (forged_token(), "invalid")],
    ids=["no-token", "garbage", "forged"],
)
def test_a_bad_token_exits_non_zero_with_the_backends_message(
    backend: Backend, token: str | None, reason: str
) -> None:
    args = ["--url", backend.chatkit_url, *(["--token", token] if token else []), "list tasks"]
    result = chat(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert message.startswith("chatkit-chat: HTTP 401: Authentication failed")
    assert message.endswith("(unauthorized)")
    assert reason in message.lower()


def test_an_unknown_thread_is_a_404(backend: Backend) -> None:
    result = chat("--thread", "thr_nope", "hello", url=backend.chatkit_url, token=user_token("cli-bob"))
    assert result.returncode == 1
    assert result.stderr.strip() == "chatkit-chat: HTTP 404: No thread with id 'thr_nope'. (not_found)"


def test_a_message_over_the_backends_limit_is_a_413(backend: Backend) -> None:
    result = chat("x" * MAX_REQUEST_BYTES, url=backend.chatkit_url, token=user_token("cli-bob"))
    assert result.returncode == 1
    assert result.stderr.strip() == "chatkit-chat: HTTP 413: The request body is too large. (too_large)"


def test_nobody_listening_exits_non_zero_with_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}/chatkit"
    result = chat("hello", url=url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"chatkit-chat: cannot connect to {url}: ")
    assert "refused" in result.stderr.lower()


def test_a_backend_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (kernel backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/chatkit"
        result = chat("--timeout", "0.5", "hello", url=url)
    assert result.returncode == 1
    assert result.stderr.strip() == f"chatkit-chat: {url} stopped answering (no data for 0.5 s)"


def test_interactive_session_lists_opens_and_continues_threads(backend: Backend) -> None:
    """Over stdin: /threads lists the thread, /open shows its last items and later messages go there."""
    token = user_token("cli-carol")
    first = chat("add task water the plants", url=backend.chatkit_url, token=token)
    thread_id = THREAD_LINE.search(first.stdout).group(1)

    session = chat(
        url=backend.chatkit_url,
        token=token,
        stdin=f"/threads\n/open {thread_id}\nlist tasks\n/bogus\n/help\n/new\n",  # then end of input
    )
    assert session.returncode == 0, session.stderr
    out = session.stdout
    row = next(line for line in out.splitlines() if line.startswith(thread_id))
    assert "add task water the plants" in row
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)
    opened = out.index(f"/open {thread_id}")
    assert out.index("you › add task water the plants", opened) < out.index("Task created", opened)
    assert "1 task(s) found" in out[opened:]
    assert "unknown command /bogus" in out
    assert "/threads" in out[out.index("/help") + 5 :]  # the help lists the commands
    assert user_messages(backend, token, thread_id) == ["add task water the plants", "list tasks"]

    reopened = chat("--thread", thread_id, url=backend.chatkit_url, token=token, stdin="/quit\n")
    assert reopened.returncode == 0
    assert "you › list tasks" in reopened.stdout  # the recent items, shown on open
    assert "1 task(s) found" in reopened.stdout

    missing = chat("--thread", "thr_missing", url=backend.chatkit_url, token=token, stdin="/quit\n")
    assert missing.returncode == 1
    assert "HTTP 404" in missing.stdout and "thr_missing" in missing.stdout


def test_widget_actions_from_the_terminal(backend: Backend) -> None:
    """Over stdin: a widget's actions are numbered under it; /do runs one (a form asks for its
    fields, Enter keeping a value) and the changed widget is printed again; the backend agrees."""
    token = user_token("cli-dave")
    lines = [
        "add task buy milk",  # the card: [1] Complete [2] Edit [3] Delete
        "/do 1",  # completed: [4] Reopen [5] Edit [6] Delete
        "/do 5",  # the form: [7] Cancel [8] Save
        "/do 8",
        "buy oat milk",  # title
        "",  # description: kept (empty)
        "2026-12-24",  # due date
        "high",  # priority
        "/do 99",
        "list tasks",
    ]
    session = chat(url=backend.chatkit_url, token=token, stdin="\n".join(lines) + "\n")
    assert session.returncode == 0, session.stderr
    out = session.stdout
    assert "[1] Complete  [2] Edit  [3] Delete" in out
    assert out.index("Task completed") > out.index("/do 1")
    assert "[4] Reopen  [5] Edit  [6] Delete" in out
    assert "[7] Cancel  [8] Save" in out and "[title: buy milk]" in out
    assert "Priority (low/medium/high) [medium]:" in out
    assert out.index("Task updated") > out.index("/do 8")
    assert "no action [99] on screen" in out
    listed = out[out.rindex("list tasks") :]
    assert "1 task(s) found" in listed
    assert "'buy oat milk' (completed, high priority, due 2026-12-24)" in listed


def test_approving_a_deletion_from_the_terminal(backend: Backend) -> None:
    """The confirmation a deletion asks for shows its choices; /do on Approve deletes, and the reply
    streams in the terminal."""
    token = user_token("cli-erin")
    first = chat("add task water the plants", url=backend.chatkit_url, token=token)
    thread_id = THREAD_LINE.search(first.stdout).group(1)
    task_id = TASK_ID.search(first.stdout).group()
    lines = [f"delete task {task_id}", "/do 2", "list tasks"]  # the question: [1] Reject [2] Approve
    session = chat("--thread", thread_id, url=backend.chatkit_url, token=token, stdin="\n".join(lines) + "\n")
    assert session.returncode == 0, session.stderr
    out = session.stdout
    asked = out[out.index(f"› delete task {task_id}") :]
    assert "Delete task “water the plants”?" in asked and "[1] Reject  [2] Approve" in asked
    approved = out[out.index("› /do 2") :]
    assert f"Task deleted: {task_id} 'water the plants'" in approved
    assert "Approved" in approved
    assert "0 task(s) found" in out[out.rindex("list tasks") :]
