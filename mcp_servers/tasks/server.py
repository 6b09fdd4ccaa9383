"""The tasks MCP server: tools, a resource per task and a planning prompt over the task repository,
all scoped by the caller's verified identity."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, Resource
from pydantic import AfterValidator, Field, StringConstraints

from mcp_servers.common.db import create_engine
from mcp_servers.common.idempotency import idempotency_key
from mcp_servers.common.results import decode_cursor, encode_cursor, tool_result
from mcp_servers.common.server import (
    DESTRUCTIVE,
    IDEMPOTENT,
    MAX_COMPLETIONS,
    READ_ONLY,
    WRITE,
    ToolServer,
    Transport,
    create_tool_server,
    lifespan_state,
)
from mcp_servers.tasks.models import ChangeKind, Priority, Task, TaskChange, TaskList, TaskStatus
from mcp_servers.tasks.repository import StatusFilter, TaskNotFoundError, TaskRepository
from mcp_servers.tasks.settings import TasksSettings

INSTRUCTIONS = (
    "Manage the caller's to-do list: add, list, read, update, complete, reopen and delete tasks. "
    "Task ids look like task_xxxxxxxxxxxx; list_tasks finds them. Each task is also the resource "
    "tasks://tasks/{task_id} (JSON; resources/list shows the caller's tasks, newest first), and the "
    "prompt plan_my_day (optional focus) plans the day from the pending tasks due soon."
)
TASK_URI = "tasks://tasks/{task_id}"
JSON = "application/json"
RESOURCES_PAGE = 50
AGENDA_DAYS = 7
AGENDA_LIMIT = 50
AGENDA_DESCRIPTION_CHARS = 200


def _clean_title(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not contain control characters")
    return value


def _clean_description(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value.strip()


Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_clean_title),
    Field(description="Short title, 1-200 characters."),
]
Description = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(_clean_description),
    Field(description="Up to 2,000 characters."),
]
DueDate = Annotated[date, Field(description="ISO 8601 date, e.g. 2026-12-24.")]
TaskId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def _repository(ctx: Context) -> TaskRepository:
    return cast(TaskRepository, lifespan_state(ctx))


def _describe(task: Task) -> str:
    due = f", due {task.due_date.isoformat()}" if task.due_date else ""
    return f"{task.id} '{task.title}' ({task.status.value}, {task.priority.value} priority{due})"


def _not_found(task_id: str) -> ToolError:
    return ToolError(f"No task with id '{task_id}'. Call list_tasks to see your tasks and their ids.")


def task_uri(task_id: str) -> str:
    """The resource URI of a task."""
    return TASK_URI.replace("{task_id}", task_id)


def _agenda_line(task: Task, today: date) -> str:
    if task.due_date is None:
        when = "no due date"
    elif task.due_date < today:
        when = f"overdue since {task.due_date.isoformat()}"
    elif task.due_date == today:
        when = "due today"
    else:
        when = f"due {task.due_date.isoformat()}"
    line = f"- {task.id} '{task.title}' ({task.priority.value} priority, {when})"
    description = " ".join(task.description.split())
    if len(description) > AGENDA_DESCRIPTION_CHARS:
        description = description[: AGENDA_DESCRIPTION_CHARS - 1] + "…"
    return line + (f": {description}" if description else "")


def _plan_text(tasks: Sequence[Task], pending: int, today: date, focus: str | None) -> str:
    """The plan_my_day prompt: the agenda (overdue, due within AGENDA_DAYS, undated high priority)."""
    horizon = (today + timedelta(days=AGENDA_DAYS)).isoformat()
    lines = [f"Help me plan my day. Today is {today.isoformat()}."]
    if focus:
        lines.append(f"Focus on: {focus}.")
    if tasks:
        shown = f"{len(tasks)} of my {pending} pending task(s)"
        lines += ["", f"{shown}: overdue, due by {horizon}, or high priority without a due date:"]
        lines += [_agenda_line(task, today) for task in tasks]
    else:
        lines += ["", f"None of my {pending} pending task(s) is overdue, due by {horizon} or high priority."]
    lines += [
        "",
        "Propose an order for today with rough time blocks, flag what is overdue, and say what can "
        "wait. Keep it short. When I agree to a change, make it with the task tools (complete_task, "
        "update_task, add_task); list_tasks shows the rest of my list.",
    ]
    return "\n".join(lines)


def _changed(kind: ChangeKind, task: Task) -> CallToolResult:
    change = TaskChange(task_id=task.id, status=kind, title=task.title, task=task)
    return tool_result(change, f"Task {kind}: {_describe(task)}.")


def _already_added(task: Task) -> CallToolResult:
    """The result of an add_task whose idempotency key created `task` before: the same as then."""
    change = TaskChange(task_id=task.id, status="created", title=task.title, task=task)
    text = f"Task already added: {_describe(task)} (by an earlier attempt of this call; not added again)."
    return tool_result(change, text)


def create_tasks_server(settings: TasksSettings, *, transport: Transport = "stdio") -> ToolServer:
    """Build the tasks server: its tools, the resource template tasks://tasks/{task_id} (and the
    caller's tasks in resources/list), the prompt plan_my_day, and task_id completions. Over HTTP a
    bearer token is required; over stdio or in memory, a request without a token acts for the local
    user."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[TaskRepository]:
        engine = create_engine(settings.database_url)
        repository = TaskRepository(engine)
        await repository.prepare(migrate=settings.migrate_on_start)
        try:
            yield repository
        finally:
            await engine.dispose()

    server, identity = create_tool_server(
        "tasks", instructions=INSTRUCTIONS, settings=settings, transport=transport, lifespan=lifespan
    )

    @server.tool(title="Add task", annotations=WRITE)
    async def add_task(
        title: Title,
        ctx: Context,
        description: Description | None = None,
        due_date: DueDate | None = None,
        priority: Priority = Priority.medium,
    ) -> Annotated[CallToolResult, TaskChange]:
        """Add a task to the caller's list. Priority is low, medium (default) or high."""
        owner, key = identity.user_id(ctx), idempotency_key(ctx)
        fields: dict[str, Any] = {
            "title": title,
            "description": description or "",
            "due_date": due_date,
            "priority": priority,
        }
        if key is None:
            return _changed("created", await _repository(ctx).add(owner=owner, **fields))
        # A repeat of a call that may have run carries its key: that call's task, not a second one.
        added = await _repository(ctx).add_once(owner=owner, key=key, **fields)
        if added.created:
            return _changed("created", added.task)
        return _already_added(added.task)

    @server.tool(title="List tasks", annotations=READ_ONLY)
    async def list_tasks(
        ctx: Context,
        status: StatusFilter = "all",
        query: Annotated[
            str,
            StringConstraints(max_length=500),
            Field(description="Words to find in title or description; the last may be partial."),
        ]
        | None = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 20,
        cursor: Annotated[str, Field(max_length=200, description="next_cursor of the previous page.")]
        | None = None,
    ) -> Annotated[CallToolResult, TaskList]:
        """List the caller's tasks, newest first: status all|pending|completed, optional text query, paged."""
        owner = identity.user_id(ctx)
        after = decode_cursor(cursor, key="after") if cursor else None
        query = (query or "").replace("\x00", "").strip() or None
        page = await _repository(ctx).list(owner=owner, status=status, query=query, limit=limit, after=after)
        next_cursor = encode_cursor({"after": page.next_after}) if page.next_after is not None else None
        result = TaskList(tasks=page.tasks, total=page.total, next_cursor=next_cursor)
        label = "" if status == "all" else f"{status} "
        summary = f"{page.total} {label}task(s) found"
        if page.tasks:
            shown = page.tasks[:5]
            rest = page.total - len(shown)
            summary += (
                ": " + "; ".join(_describe(task) for task in shown) + (f" and {rest} more" if rest else "")
            )
        return tool_result(result, summary + ".")

    @server.tool(title="Open task", annotations=READ_ONLY)
    async def get_task(task_id: TaskId, ctx: Context) -> Annotated[CallToolResult, Task]:
        """Read one of the caller's tasks by id."""
        try:
            task = await _repository(ctx).get(owner=identity.user_id(ctx), task_id=task_id)
        except TaskNotFoundError:
            raise _not_found(task_id) from None
        return tool_result(task, f"Task {_describe(task)}.")

    @server.tool(title="Edit task", annotations=WRITE)
    async def update_task(
        task_id: TaskId,
        ctx: Context,
        title: Title | None = None,
        description: Description | None = None,
        due_date: DueDate | None = None,
        priority: Priority | None = None,
    ) -> Annotated[CallToolResult, TaskChange]:
        """Change the title, description, due date or priority of one of the caller's tasks."""
        if title is None and description is None and due_date is None and priority is None:
            raise ToolError(
                "Nothing to update: give at least one of title, description, due_date or priority."
            )
        try:
            task = await _repository(ctx).update(
                owner=identity.user_id(ctx),
                task_id=task_id,
                title=title,
                description=description,
                due_date=due_date,
                priority=priority,
            )
        except TaskNotFoundError:
            raise _not_found(task_id) from None
        return _changed("updated", task)

    @server.tool(title="Complete task", annotations=IDEMPOTENT)
    async def complete_task(task_id: TaskId, ctx: Context) -> Annotated[CallToolResult, TaskChange]:
        """Mark one of the caller's tasks as completed (completing a completed task changes nothing)."""
        return await _set_status(ctx, task_id, TaskStatus.completed, "completed")

    @server.tool(title="Reopen task", annotations=IDEMPOTENT)
    async def reopen_task(task_id: TaskId, ctx: Context) -> Annotated[CallToolResult, TaskChange]:
        """Mark one of the caller's completed tasks as pending again."""
        return await _set_status(ctx, task_id, TaskStatus.pending, "reopened")

    @server.tool(title="Delete task", annotations=DESTRUCTIVE)
    async def delete_task(task_id: TaskId, ctx: Context) -> Annotated[CallToolResult, TaskChange]:
        """Delete one of the caller's tasks for good."""
        try:
            task = await _repository(ctx).delete(owner=identity.user_id(ctx), task_id=task_id)
        except TaskNotFoundError:
            raise _not_found(task_id) from None
        return _changed("deleted", task)

    async def _set_status(ctx: Context, task_id: str, status: TaskStatus, kind: ChangeKind) -> CallToolResult:
        try:
            task = await _repository(ctx).set_status(
                owner=identity.user_id(ctx), task_id=task_id, status=status
            )
        except TaskNotFoundError:
            raise _not_found(task_id) from None
        return _changed(kind, task)

    @server.resource(
        TASK_URI,
        name="task",
        title="Task",
        description="One of your tasks as JSON (the get_task result). Another user's task, like a "
        "missing one, is not found.",
        mime_type=JSON,
    )
    async def task_resource(task_id: str, ctx: Context) -> str:
        owner = identity.request_user_id(ctx)
        try:
            task = await _repository(ctx).get(owner=owner, task_id=task_id)
        except TaskNotFoundError:
            raise ResourceNotFoundError(
                f"No task with id '{task_id}'. resources/list or list_tasks shows your tasks."
            ) from None
        return task.model_dump_json()

    @server.resource_lister
    async def your_tasks(ctx: Context, cursor: str | None) -> tuple[list[Resource], str | None]:
        owner = identity.request_user_id(ctx)
        try:
            after = decode_cursor(cursor, key="after") if cursor else None
        except ToolError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        page = await _repository(ctx).list(owner=owner, limit=RESOURCES_PAGE, after=after)
        resources = [
            Resource(
                uri=task_uri(task.id),
                name=task.id,
                title=task.title,
                description=_describe(task),
                mime_type=JSON,
            )
            for task in page.tasks
        ]
        next_cursor = encode_cursor({"after": page.next_after}) if page.next_after is not None else None
        return resources, next_cursor

    @server.completer("task_id", template=TASK_URI)
    async def complete_task_id(ctx: Context, value: str, _: Mapping[str, str]) -> Sequence[str]:
        owner = identity.request_user_id(ctx)
        return await _repository(ctx).ids_starting_with(
            owner=owner, prefix=value.strip(), limit=MAX_COMPLETIONS + 1
        )

    @server.prompt(
        title="Plan my day",
        description="A plan for today from your pending tasks that are overdue, due within a week, "
        "or high priority without a due date (read from your list when the prompt is fetched).",
    )
    async def plan_my_day(
        ctx: Context,
        focus: Annotated[
            Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
            Field(description="Optional: what to concentrate on, e.g. 'work' or 'errands before noon'."),
        ] = None,
    ) -> str:
        owner = identity.request_user_id(ctx)
        today = date.today()
        agenda = await _repository(ctx).agenda(
            owner=owner, due_by=today + timedelta(days=AGENDA_DAYS), limit=AGENDA_LIMIT
        )
        return _plan_text(agenda.tasks, agenda.total, today, focus or None)

    return server
