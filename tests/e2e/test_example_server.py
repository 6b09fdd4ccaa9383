"""The example third-party server (`examples/notes_server`, plain `mcp` SDK), added by config alone:
its own widgets from its `widgets` folder, its progress lines (a tool's MCP title, else its binding's
label), its widget actions, its prompts on the page; and a folder that does not fit its tools stops
the backend at start, naming the file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from chatkit.types import ProgressUpdateEvent, ThreadItemDoneEvent, WidgetItem

from tests.backend.tool_app import User, control, raw
from tests.e2e.conftest import BIN, model_env, run_backend, server_env
from tests.providers.fake_llm import FakeLLM, Text, ToolCall, running

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).parents[2] / "examples" / "notes_server"


@pytest.fixture
async def model() -> AsyncIterator[FakeLLM]:
    """A scripted OpenAI-compatible model on 127.0.0.1 (the real SDK path calls the tools)."""
    async with running() as fake:
        yield fake


def notes_config(directory: Path, widgets: Path) -> Path:
    """An MCP config with only the example server: written as desktop MCP clients write it, plus
    its `widgets` folder (relative to the config file)."""
    config = directory / "mcp_servers.json"
    entry = {
        "type": "stdio",
        "command": sys.executable,
        "args": [str(EXAMPLE / "server.py")],
        "env": {"NOTES_DB": str(directory / "notes.db"), "MCP_AUTH_SECRET": "${MCP_AUTH_SECRET}"},
        "widgets": str(Path("..") / widgets.relative_to(directory.parent)),
    }
    config.write_text(json.dumps({"mcpServers": {"notes": entry}}))
    return config


def env_for(directory: Path, model: FakeLLM, config: Path) -> dict[str, str]:
    return model_env(directory, model.base_url, CHATKIT_PAGE="true", MCP_CONFIG=str(config))


def progress(events: list[Any]) -> list[str]:
    return [event.text for event in events if isinstance(event, ProgressUpdateEvent)]


def widgets(events: list[Any]) -> list[WidgetItem]:
    return [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)]


async def test_the_example_server_gets_its_widgets_progress_actions_and_prompts_by_config_alone(
    tmp_path: Path, model: FakeLLM
) -> None:
    directory = tmp_path / "run"
    directory.mkdir()
    config = notes_config(directory, copy_widgets(tmp_path))
    with run_backend(directory, env_for(directory, model, config)) as backend:
        async with httpx2.AsyncClient(base_url=backend.url, timeout=60) as http:
            page = (await http.get("/")).text
            prompts = json.loads(re.search(r'"prompts": (\[.*?\])', page).group(1))  # type: ignore[union-attr]
            assert prompts[0] == {"label": "Review my notes", "prompt": "Review my notes", "icon": "sparkle"}
            assert not [
                entry for entry in prompts if "task" in entry["label"].lower()
            ]  # no tasks server here

            alice, bob = User(http, "alice"), User(http, "bob")
            model.push(ToolCall("add_note", {"title": "Water the plants", "tags": ["Home"]}), Text("Noted."))
            thread_id, events = await alice.say("remember to water the plants")
            assert progress(events) == ["Add a note…"]  # the tool's MCP title
            [card] = widgets(events)
            assert "Note added" in raw(card) and "Water the plants" in raw(card)

            model.push(ToolCall("list_notes", {}), Text("Here they are."))
            _, events = await alice.say("what are my notes?", thread_id)
            assert progress(events) == ["Reading your notes…"]  # no title: the binding's label
            [listing] = widgets(events)
            shown = raw(listing)
            assert "1 note" in shown and "Water the plants" in shown and "home" in shown

            # Its own actions, declared in its widgets.json: ask, then delete, in the widget.
            asked, _ = await alice.act(
                "sync", thread_id, listing, "notes.confirm_delete", control(listing, "notes.confirm_delete")
            )
            assert asked is not None
            emptied, _ = await alice.act(
                "sync", thread_id, asked, "notes.delete", control(asked, "notes.delete")
            )
            assert emptied is not None and "No notes" in raw(emptied)

            # The start-screen prompt, chosen: its text (from the server) follows the user's words.
            model.push(Text("Let's look."))
            _, events = await alice.say("Review my notes", thread_id)
            sent = json.dumps(model.requests[-1].body)
            assert "Review my notes" in sent and "then suggest what to act on first" in sent
            assert "then suggest what to act on first" not in json.dumps(await alice.items(thread_id))

            # Scoped by the identity the backend sends: bob never sees alice's notes.
            model.push(ToolCall("add_note", {"title": "Alice's secret"}), Text("Noted."))
            await alice.say("note alice's secret", thread_id)
            model.push(ToolCall("list_notes", {}), Text("None yet."))
            _, events = await bob.say("my notes?")
            [bobs] = widgets(events)
            assert "No notes" in raw(bobs) and "Alice's secret" not in raw(bobs)


def copy_widgets(tmp_path: Path) -> Path:
    """The example's widgets folder, copied where a test may change it."""
    target = tmp_path / "widgets"
    shutil.copytree(EXAMPLE / "widgets", target)
    return target


def start_failure(directory: Path, env: dict[str, str]) -> tuple[int, str]:
    """`chatkit-backend` that must refuse to start: its exit status and what it printed."""
    result = subprocess.run(
        [str(BIN / "chatkit-backend"), "--port", "0"],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_template_that_does_not_fit_its_tool_stops_the_start_naming_the_file(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "run"
    directory.mkdir()
    widgets = copy_widgets(tmp_path)
    listing = widgets / "note_list.widget"
    definition = json.loads(listing.read_text())
    definition["jsonSchema"]["properties"]["total"] = {"type": "string"}  # the tool says integer
    listing.write_text(json.dumps(definition))
    env = server_env(
        directory,
        DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        MCP_CONFIG=str(notes_config(directory, widgets)),
    )
    status, output = start_failure(directory, env)
    assert status != 0
    assert f"{listing} does not fit the output schema of notes/list_notes: total may be integer" in output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda manifest: manifest["tools"]["list_notes"].update(template="note_table"),
            "tool 'list_notes' names template 'note_table', which is not a .widget file of this folder",
        ),
        (
            lambda manifest: manifest["actions"].pop("notes.cancel"),
            "note_list.widget: uses action types no widgets.json declares: notes.cancel",
        ),
        (
            lambda manifest: manifest["tools"].update(list_all_notes={"template": "note_list"}),
            "binds tool 'list_all_notes', which server 'notes' does not offer",
        ),
    ],
    ids=["missing-template", "undeclared-action", "unknown-tool"],
)
def test_a_folder_that_does_not_hold_together_stops_the_start(
    tmp_path: Path, change: Any, message: str
) -> None:
    directory = tmp_path / "run"
    directory.mkdir()
    widgets = copy_widgets(tmp_path)
    manifest = json.loads((widgets / "widgets.json").read_text())
    change(manifest)
    (widgets / "widgets.json").write_text(json.dumps(manifest))
    env = server_env(
        directory,
        DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        MCP_CONFIG=str(notes_config(directory, widgets)),
    )
    status, output = start_failure(directory, env)
    assert status != 0 and message in output, output
