"""A notes MCP server written against the plain `mcp` SDK: an example of a third-party server.

It knows nothing of the ChatKit backend's code. Added to `mcp_servers.json` with its `widgets`
folder, it gets its own widgets, progress lines and start-screen prompts by configuration alone
(docs/adding-an-mcp-server.md walks through it).

Run it over stdio: `python examples/notes_server/server.py`. Notes are kept in SQLite
(`NOTES_DB`, default `./data/notes.db`), one list per user: the backend sends each call's user as a
short-lived HS256 token in `_meta["dev.chatkit-backend/identity"]`, verified with `MCP_AUTH_SECRET`.
Without a secret the server is single-user (`local`), as a desktop MCP server would be.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jwt
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

IDENTITY_META_KEY = "dev.chatkit-backend/identity"
SECRET = os.environ.get("MCP_AUTH_SECRET") or None
DATABASE = Path(os.environ.get("NOTES_DB", "./data/notes.db"))

server = MCPServer(
    "notes",
    title="Notes",
    instructions="Keeps the user's notes: add, list (by tag or words) and delete them.",
)


class Note(BaseModel):
    """A note as the tools return it."""

    id: str
    title: str
    body: str
    tags: list[str]
    created_at: str


class NoteList(BaseModel):
    """Some of the user's notes, newest first."""

    notes: list[Note]
    total: int = Field(description="How many notes match, beyond those returned.")
    tag: str | None = None


class NoteChange(BaseModel):
    """What happened to a note."""

    change: str = Field(description="added or deleted")
    note: Note


def _connect() -> sqlite3.Connection:
    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(DATABASE)
    connection.row_factory = sqlite3.Row
    connection.execute(
        "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, "
        "body TEXT NOT NULL, tags TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    return connection


def _user(ctx: Context) -> str:
    """Who is calling: the backend's identity token, else (no secret configured) the local user."""
    meta: Any = ctx.request_context.meta or {}
    token = meta.get(IDENTITY_META_KEY) if hasattr(meta, "get") else None
    if SECRET is None:
        return "local"
    if not isinstance(token, str):
        raise ToolError("Refused: this server needs the caller's identity token.")
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="mcp")
    except jwt.InvalidTokenError as exc:
        raise ToolError(f"Refused: {exc}.") from None
    return str(claims["sub"])


def _note(row: sqlite3.Row) -> Note:
    tags = [tag for tag in row["tags"].split(",") if tag]
    return Note(id=row["id"], title=row["title"], body=row["body"], tags=tags, created_at=row["created_at"])


@server.tool(
    title="Add a note",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False),
)
def add_note(
    title: Annotated[str, Field(min_length=1, max_length=200)],
    ctx: Context,
    body: Annotated[str, Field(max_length=5000)] = "",
    tags: list[str] | None = None,
) -> NoteChange:
    """Add a note to the user's notes, with optional tags (single words)."""
    note = Note(
        id=f"note_{uuid.uuid4().hex[:12]}",
        title=title.strip(),
        body=body,
        tags=sorted({tag.strip().lower() for tag in tags or [] if tag.strip()}),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with closing(_connect()) as connection, connection:
        connection.execute(
            "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)",
            (note.id, _user(ctx), note.title, note.body, ",".join(note.tags), note.created_at),
        )
    return NoteChange(change="added", note=note)


# No title: the widget folder's binding gives this tool its progress line.
@server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
def list_notes(
    ctx: Context,
    tag: str | None = None,
    query: str | None = None,
    limit: Annotated[int, Field(ge=1, le=50)] = 20,
) -> NoteList:
    """List the user's notes, newest first; optionally only those with a tag or containing words."""
    sql, parameters = "SELECT * FROM notes WHERE owner = ?", [_user(ctx)]
    if tag:
        sql, parameters = sql + " AND (',' || tags || ',') LIKE ?", [*parameters, f"%,{tag.lower()},%"]
    for word in (query or "").split():
        sql += " AND (title LIKE ? OR body LIKE ?)"
        parameters += [f"%{word}%", f"%{word}%"]
    with closing(_connect()) as connection, connection:
        rows = connection.execute(sql + " ORDER BY created_at DESC, id DESC", parameters).fetchall()
    return NoteList(notes=[_note(row) for row in rows[:limit]], total=len(rows), tag=tag)


@server.tool(
    title="Delete a note",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False),
)
def delete_note(note_id: str, ctx: Context) -> NoteChange:
    """Delete one of the user's notes for good."""
    with closing(_connect()) as connection, connection:
        row = connection.execute(
            "SELECT * FROM notes WHERE id = ? AND owner = ?", (note_id, _user(ctx))
        ).fetchone()
        if row is None:
            raise ToolError(f"No note with id {note_id!r}.")
        connection.execute("DELETE FROM notes WHERE id = ?", (note_id,))
    return NoteChange(change="deleted", note=_note(row))


@server.prompt(
    title="Review my notes", description="Go through the notes (or one tag's) and suggest what to do next."
)
def review_notes(tag: str | None = None) -> str:
    """A request to read the user's notes and suggest next steps."""
    which = f"my notes tagged {tag!r}" if tag else "my notes"
    return f"List {which} with list_notes, then suggest what to act on first and what to delete."


if __name__ == "__main__":
    server.run("stdio")
