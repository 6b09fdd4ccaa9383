"""`tasks-mcp token`: the tokens it prints open the HTTP server, with a shared secret or a secret file."""

from __future__ import annotations

import stat
from pathlib import Path

import anyio
import jwt
import pytest

from mcp_servers.common.identity import AUDIENCE
from tests.conftest import SECRET
from tests.e2e.conftest import BIN, HttpConnector, Launcher, server_env
from tests.e2e.scenarios import call_ok

pytestmark = pytest.mark.e2e


async def mint(env: dict[str, str], *args: str) -> str:
    """Run `tasks-mcp token ARGS` and return the token it printed (the command must succeed)."""
    done = await anyio.run_process([str(BIN / "tasks-mcp"), "token", *args], env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def accepted(mcp_http: HttpConnector, url: str, token: str) -> str:
    """Use `token` as a bearer token; the title of the task it added, read back as its user."""
    async with mcp_http(url, token) as client:
        created = await call_ok(client, "add_task", {"title": "from a CLI token"})
        return (await call_ok(client, "get_task", {"task_id": created["task_id"]}))["title"]


async def test_token_with_shared_secret_is_accepted(
    launcher: Launcher, mcp_http: HttpConnector, tmp_path: Path
) -> None:
    """A token minted with MCP_AUTH_SECRET names the user and opens a server with that secret."""
    env = server_env(tmp_path)
    token = await mint(env, "--user", "alice")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "alice"
    assert claims["exp"] > claims["iat"]
    server = launcher.http("tasks-mcp", server_env(launcher.directory))
    assert await accepted(mcp_http, server.url, token) == "from a CLI token"


async def test_token_creates_secret_file_shared_with_server(
    launcher: Launcher, mcp_http: HttpConnector, tmp_path: Path
) -> None:
    """Without MCP_AUTH_SECRET the command creates the secret file (0600) and a server using it agrees."""
    secret_file = tmp_path / "nested" / "mcp_auth_secret"
    env = server_env(tmp_path, MCP_AUTH_SECRET=None, MCP_AUTH_SECRET_FILE=str(secret_file))
    assert not secret_file.exists()
    token = await mint(env, "--user", "alice")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text(encoding="utf-8").strip()
    assert len(secret) >= 32
    assert secret != SECRET
    assert jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE)["sub"] == "alice"
    second = await mint(env, "--user", "bob")
    assert secret_file.read_text(encoding="utf-8").strip() == secret  # reused, not regenerated
    server = launcher.http("tasks-mcp", env)
    assert await accepted(mcp_http, server.url, token) == "from a CLI token"
    assert await accepted(mcp_http, server.url, second) == "from a CLI token"


@pytest.mark.parametrize("args", [[], ["--user"], ["--user", ""]], ids=["no_user", "no_value", "empty_user"])
async def test_token_without_a_user_fails(args: list[str], tmp_path: Path) -> None:
    """`tasks-mcp token` without a (non-empty) --user exits non-zero, prints no token and says why."""
    env = server_env(tmp_path)
    done = await anyio.run_process([str(BIN / "tasks-mcp"), "token", *args], env=env, check=False)
    assert done.returncode != 0
    assert done.stdout == b""
    assert b"user" in done.stderr
