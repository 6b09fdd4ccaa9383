"""Identity tokens: what the servers accept and what they refuse."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import jwt
import pytest

from mcp_servers.common.identity import AUDIENCE, BearerVerifier, IdentityError, TokenCodec
from mcp_servers.tasks.settings import TasksSettings
from tests.conftest import SECRET


def forge(claims: dict[str, Any], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    """A token with exactly these claims."""
    return jwt.encode(claims, key, algorithm=algorithm)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    """Claims that pass, but for `overrides`; built at import, so valid for the whole session."""
    now = int(time.time())
    return {"sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 6 * 3600} | overrides


def test_minted_token_names_its_user(codec: TokenCodec) -> None:
    """A minted token verifies to the user it was minted for."""
    assert codec.verify(codec.mint("alice")) == "alice"
    claims = jwt.decode(codec.mint("bob", ttl_seconds=120), SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "bob" and 110 <= claims["exp"] - claims["iat"] <= 120


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (forge(valid_claims(), key="another-secret-of-sufficient-length-000000"), "invalid"),
        (forge(valid_claims(exp=int(time.time()) - 60)), "expired"),
        (forge(valid_claims(aud="chatkit")), "audience"),
        (forge({k: v for k, v in valid_claims().items() if k != "aud"}), "invalid"),
        (forge({k: v for k, v in valid_claims().items() if k != "exp"}), "invalid"),
        (forge({k: v for k, v in valid_claims().items() if k != "sub"}), "invalid"),
        (forge(valid_claims(sub="")), "no valid user"),
        (forge(valid_claims(), key=SECRET * 2, algorithm="HS512"), "invalid"),
        (forge(valid_claims(), key="", algorithm="none"), "invalid"),
        ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6Im1jcCJ9.", "invalid"),
        ("garbage", "invalid"),
    ],
)
def test_untrustworthy_tokens_are_refused(codec: TokenCodec, token: str, reason: str) -> None:
    """Forged, expired, wrong-audience, unsigned and malformed tokens raise IdentityError."""
    with pytest.raises(IdentityError, match=reason):
        codec.verify(token)


def test_a_verified_token_is_remembered_only_until_it_expires() -> None:
    """Verified tokens are remembered by their exact bytes: the expiry still holds, and a token
    with the same claims under another key is still refused."""
    codec = TokenCodec(SECRET, leeway_seconds=0)
    token = codec.mint("alice", ttl_seconds=1)
    assert codec.verify(token) == "alice" and codec.verify(token) == "alice"
    with pytest.raises(IdentityError, match="invalid"):
        codec.verify(forge(jwt.decode(token, options={"verify_signature": False}), key="k" * 40))
    time.sleep(1.05)
    for _ in range(2):
        with pytest.raises(IdentityError, match="expired"):
            codec.verify(token)


async def test_bearer_verifier_maps_tokens_to_access(codec: TokenCodec) -> None:
    """Over HTTP a valid bearer gives the user as subject; anything else gives no access (401)."""
    access = await BearerVerifier(codec).verify_token(codec.mint("carol"))
    assert access is not None and access.subject == "carol"
    assert await BearerVerifier(codec).verify_token(forge(valid_claims(aud="x"))) is None


def test_short_secrets_are_rejected() -> None:
    """A guessable MCP_AUTH_SECRET stops the server at start-up."""
    with pytest.raises(ValueError, match="at least 32"):
        TasksSettings(MCP_AUTH_SECRET="short")


def test_local_mode_generates_and_reuses_a_secret(tmp_path) -> None:
    """Without MCP_AUTH_SECRET a secret is generated once, kept private, and reused."""
    path = tmp_path / "data" / "secret"
    first = TasksSettings(MCP_AUTH_SECRET_FILE=path).auth_secret()
    assert len(first) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert TasksSettings(MCP_AUTH_SECRET_FILE=path).auth_secret() == first


def test_processes_starting_together_agree_on_the_generated_secret(tmp_path) -> None:
    """Servers started at the same moment (make run) all read one complete secret, never a partial one."""
    path = tmp_path / "shared" / "secret"
    script = (
        "import sys; from mcp_servers.tasks.settings import TasksSettings; "
        "print(TasksSettings(MCP_AUTH_SECRET_FILE=sys.argv[1]).auth_secret())"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    secrets = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert secrets == {path.read_text().strip()}
    assert len(secrets.pop()) >= 32
    assert [entry.name for entry in path.parent.iterdir()] == ["secret"]  # no temporary files left
