"""`tasks-mcp token`: run from any directory it signs with the servers' secret (MCP_AUTH_SECRET, or
the secret file a server in local mode keeps), and the HTTP server accepts the token; without that
secret it refuses, says which file it looked for and how to set MCP_AUTH_SECRET, and creates nothing."""

from __future__ import annotations

import stat
from pathlib import Path
from subprocess import CompletedProcess

import anyio
import jwt
import pytest

from mcp_servers.common.identity import AUDIENCE
from tests.conftest import SECRET
from tests.e2e.conftest import BIN, HttpConnector, Launcher, server_env
from tests.e2e.scenarios import call_ok

pytestmark = pytest.mark.e2e


async def token_command(env: dict[str, str], cwd: Path, *args: str) -> CompletedProcess[bytes]:
    """`tasks-mcp token ARGS`, run in `cwd`."""
    return await anyio.run_process([str(BIN / "tasks-mcp"), "token", *args], env=env, cwd=cwd, check=False)


async def mint(env: dict[str, str], cwd: Path, *args: str) -> str:
    """The token `tasks-mcp token ARGS` printed in `cwd` (the command must succeed)."""
    done = await token_command(env, cwd, *args)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def accepted(mcp_http: HttpConnector, url: str, token: str) -> str:
    """Use `token` as a bearer token; the title of the task it added, read back as its user."""
    async with mcp_http(url, token) as client:
        created = await call_ok(client, "add_task", {"title": "from a CLI token"})
        return (await call_ok(client, "get_task", {"task_id": created["task_id"]}))["title"]


def foreign_directory(tmp_path: Path) -> Path:
    """An empty directory that is not where any server runs."""
    directory = tmp_path / "somewhere-else"
    directory.mkdir()
    return directory


def local_mode(directory: Path) -> dict[str, str]:
    """A server environment without MCP_AUTH_SECRET and without MCP_AUTH_SECRET_FILE (the defaults)."""
    return server_env(directory, MCP_AUTH_SECRET=None, MCP_AUTH_SECRET_FILE=None)


async def test_token_with_shared_secret_is_accepted(
    launcher: Launcher, mcp_http: HttpConnector, tmp_path: Path
) -> None:
    """With MCP_AUTH_SECRET the token, minted in a foreign directory, names the user and opens a server
    started with that secret; no secret file is written anywhere."""
    elsewhere = foreign_directory(tmp_path)
    env = server_env(tmp_path)
    token = await mint(env, elsewhere, "--user", "alice")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "alice"
    assert claims["exp"] > claims["iat"]
    unused_file = tmp_path / "mcp_auth_secret"
    assert env["MCP_AUTH_SECRET_FILE"] == str(unused_file) and not unused_file.exists()
    assert list(elsewhere.iterdir()) == []
    server = launcher.http("tasks-mcp", server_env(launcher.directory))
    assert await accepted(mcp_http, server.url, token) == "from a CLI token"


async def test_token_signs_with_the_secret_file_of_a_local_server(
    launcher: Launcher, mcp_http: HttpConnector, tmp_path: Path
) -> None:
    """A server without MCP_AUTH_SECRET keeps its secret in ./data/mcp_auth_secret where it runs; the
    command run there, or elsewhere with MCP_AUTH_SECRET_FILE naming that file, signs with it."""
    home, elsewhere = tmp_path / "server-home", foreign_directory(tmp_path)
    home.mkdir()
    env = local_mode(tmp_path)
    server = launcher.http("tasks-mcp", env, cwd=home)
    secret_file = home / "data" / "mcp_auth_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text(encoding="utf-8").strip()
    assert len(secret) >= 32 and secret != SECRET
    from_home = await mint(env, home, "--user", "alice")
    from_elsewhere = await mint(env | {"MCP_AUTH_SECRET_FILE": str(secret_file)}, elsewhere, "--user", "bob")
    for token, user in ((from_home, "alice"), (from_elsewhere, "bob")):
        assert jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE)["sub"] == user
        assert await accepted(mcp_http, server.url, token) == "from a CLI token"
    assert secret_file.read_text(encoding="utf-8").strip() == secret  # read, never replaced
    assert list(elsewhere.iterdir()) == []


async def test_token_without_the_servers_secret_refuses_and_creates_nothing(tmp_path: Path) -> None:
    """Without MCP_AUTH_SECRET and without the secret file (run from a foreign directory, or with
    MCP_AUTH_SECRET_FILE naming a missing file) the command prints no token, exits 2, names the file
    it looked for and the variables to set, and writes no secret."""
    elsewhere = foreign_directory(tmp_path)
    missing = tmp_path / "nowhere" / "secret"
    cases = [
        (local_mode(tmp_path), elsewhere / "data" / "mcp_auth_secret"),
        (local_mode(tmp_path) | {"MCP_AUTH_SECRET_FILE": str(missing)}, missing),
    ]
    for env, looked_for in cases:
        done = await token_command(env, elsewhere, "--user", "alice")
        message = done.stderr.decode()
        assert done.returncode == 2, message
        assert done.stdout == b""
        assert str(looked_for) in message
        assert "MCP_AUTH_SECRET_FILE" in message and "set MCP_AUTH_SECRET to the servers' secret" in message
    assert list(elsewhere.iterdir()) == []
    assert not missing.parent.exists()


async def test_token_with_a_short_secret_refuses(tmp_path: Path) -> None:
    """A guessable MCP_AUTH_SECRET is refused in one line (exit 2), not with a traceback or a token."""
    done = await token_command(server_env(tmp_path, MCP_AUTH_SECRET="short"), tmp_path, "--user", "alice")
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"at least 32 characters" in done.stderr and b"Traceback" not in done.stderr


@pytest.mark.parametrize("args", [[], ["--user"], ["--user", ""]], ids=["no_user", "no_value", "empty_user"])
async def test_token_without_a_user_fails(args: list[str], tmp_path: Path) -> None:
    """`tasks-mcp token` without a (non-empty) --user exits non-zero, prints no token and says why."""
    done = await token_command(server_env(tmp_path), tmp_path, *args)
    assert done.returncode != 0
    assert done.stdout == b""
    assert b"user" in done.stderr
