"""Realistic tool results, built from the MCP servers' own models and dumped as their JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from mcp_servers.items.models import Category, CategoryList, Item, ItemSearchResult
from mcp_servers.tasks.models import ChangeKind, Priority, Task, TaskChange, TaskList, TaskStatus
from shared_widgets.approval import ApprovalField, ApprovalView
from shared_widgets.generic import GenericBadge, GenericCard, GenericField, GenericList, GenericRow

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
NASTY = [
    'Say "hi" to O\'Brien',
    "back\\slash and \\u0041 and \\n",
    "two\nlines\r\nand\ttab",
    "</script><script>alert(1)</script> & <b>bold</b>",
    "emoji 🎉👩‍💻 and ünïcødé — “quotes”",
    "{{ jinja }} {% if %} {# note #}",
    "\u2028line separator\u2029 and \x00nul",
    "x" * 200,
]


def task(
    title: str = "Buy milk",
    *,
    description: str = "2 litres, semi-skimmed",
    status: TaskStatus = TaskStatus.pending,
    priority: Priority = Priority.medium,
    due: date | None = date(2026, 12, 24),
    task_id: str = "task_a1b2c3d4e5f6",
) -> Task:
    done = status == TaskStatus.completed
    return Task(
        id=task_id,
        title=title,
        description=description,
        status=status,
        priority=priority,
        due_date=due,
        created_at=NOW - timedelta(days=2),
        updated_at=NOW,
        completed_at=NOW if done else None,
    )


def some_tasks() -> list[Task]:
    return [
        task(),
        task(
            "Call the plumber", description="", priority=Priority.high, due=None, task_id="task_zzzzzzzzzzz1"
        ),
        task(
            "File taxes",
            status=TaskStatus.completed,
            priority=Priority.low,
            due=date(2026, 4, 15),
            task_id="task_zzzzzzzzzzz2",
        ),
    ]


def task_list(
    tasks: list[Task] | None = None, *, total: int | None = None, cursor: str | None = None
) -> dict:
    tasks = some_tasks() if tasks is None else tasks
    total = len(tasks) if total is None else total
    return TaskList(tasks=tasks, total=total, next_cursor=cursor).model_dump(mode="json")


def task_change(kind: ChangeKind = "created", subject: Task | None = None) -> dict[str, Any]:
    subject = subject or task()
    return TaskChange(task_id=subject.id, status=kind, title=subject.title, task=subject).model_dump(
        mode="json"
    )


def item(
    name: str = "Brass desk lamp",
    *,
    price: float = 12.99,
    stock: int = 4,
    tags: list[str] | None = None,
    description: str = "A warm light for late reading.",
    item_id: str = "itm_00042",
    rating: float = 4.5,
    category: str = "Home",
) -> Item:
    return Item(
        id=item_id,
        name=name,
        description=description,
        category=category,
        price=price,
        stock=stock,
        in_stock=stock > 0,
        tags=["lighting", "desk"] if tags is None else tags,
        rating=rating,
    )


def some_items() -> list[Item]:
    return [
        item(),
        item("Oak bookshelf", price=1299.5, stock=0, tags=[], item_id="itm_00007", rating=3.96),
    ]


def search_result(
    items: list[Item] | None = None,
    *,
    query: str = "lamp",
    match: str = "all_words",
    total: int | None = None,
) -> dict[str, Any]:
    items = some_items() if items is None else items
    total = len(items) if total is None else total
    return ItemSearchResult(
        query=query,
        match=match,  # type: ignore[arg-type]
        items=items,
        total=total,
        next_cursor=None,
    ).model_dump(mode="json")


def category_list(names: list[str] | None = None) -> dict[str, Any]:
    names = ["Books", "Home", "Garden"] if names is None else names
    categories = [Category(name=name, item_count=3 + i, in_stock_count=i) for i, name in enumerate(names)]
    return CategoryList(
        categories=categories, total_items=sum(entry.item_count for entry in categories)
    ).model_dump(mode="json")


def generic_list_data() -> dict[str, Any]:
    row = GenericRow(
        key="r1", title="Row", captions=["Score: 3"], badges=[GenericBadge(label="✓ Ok", color="success")]
    )
    return GenericList(title="Results: 21", rows=[row], more=20).model_dump()


def generic_card_data() -> dict[str, Any]:
    return GenericCard(
        title="Weather",
        body="Light snow all day, clearing by evening.",
        rows=[GenericField(label="City", value="Oslo")],
        more=2,
    ).model_dump()


def approval(status: str = "pending", note: str = "", *, destructive: bool = True) -> dict[str, Any]:
    """A confirmation's data, as the approval desk builds it."""
    return ApprovalView(
        approval_id="apr_0123456789abcdef0123456789abcdef",
        question="Delete task “Buy milk”?",
        server="tasks",
        tool="delete_task",
        fields=[ApprovalField(label="Task Id", value="task_a1b2c3d4e5f6")],
        destructive=destructive,
        status=status,  # type: ignore[arg-type]
        note=note,
    ).model_dump()


def with_ui(data: dict[str, Any], ui: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    """Template input with a `ui` state (and the arguments of the call behind the data)."""
    call = {"server": "tasks", "tool": "list_tasks", "arguments": arguments} if arguments else {}
    return {**data, "ui": ui, "call": call}


MILK = "task_a1b2c3d4e5f6"
TEMPLATE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("task_list", task_list()),
    ("task_list", with_ui(task_list(), {"editing": MILK}, status="pending")),
    ("task_list", with_ui(task_list(), {"confirming": MILK})),
    ("task_list", with_ui(task_list([]), {}, status="completed")),
    ("task_card", with_ui(task_change("created"), {"editing": MILK})),
    ("task_card", with_ui(task_change("created", task(due=None)), {"editing": MILK})),
    ("task_card", with_ui(task_change("completed"), {"confirming": MILK})),
    ("task_list", task_list([])),
    ("task_list", task_list(some_tasks()[:1], total=45, cursor="eyJhZnRlciI6M30")),
    *[("task_card", task_change(kind)) for kind in ("created", "updated", "completed", "reopened")],
    ("task_card", task_change("deleted", task(description="", due=None))),
    ("task_card", task().model_dump(mode="json")),  # get_task returns the bare task
    ("item_results", search_result()),
    ("item_results", search_result([], query="unobtainium")),
    ("item_results", search_result([], query="", match="no_words")),
    ("item_results", search_result([], query="", match="browse")),
    ("item_results", search_result(some_items()[:1], match="any_word", total=30)),
    ("item_detail", item().model_dump(mode="json")),
    ("item_detail", item(tags=[], description="", stock=0).model_dump(mode="json")),
    ("category_list", category_list()),
    ("category_list", category_list([])),
    ("generic_list", generic_list_data()),
    ("generic_list", GenericList(title="Results: 0", rows=[], more=0).model_dump()),
    ("generic_card", generic_card_data()),
    ("approval", approval()),
    ("approval", approval("pending", destructive=False)),
    ("approval", approval("approved", "Approved: Task deleted: task_a1b2c3d4e5f6 'Buy milk'.")),
    ("approval", approval("rejected", "Rejected: it was not run, nothing was changed.")),
    ("approval", approval("expired", "")),
    ("generic_card", GenericCard(title="Weather", body="", rows=[], more=0).model_dump()),
]  # fmt: skip
