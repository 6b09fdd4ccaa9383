"""TaskRepository on SQLite and Postgres: CRUD, keyset paging, filters, escaping and per-user isolation."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from mcp_servers.common.db import create_engine
from mcp_servers.tasks.models import Priority, TaskRow, TaskStatus
from mcp_servers.tasks.repository import TaskNotFoundError, TaskRepository

ID_PATTERN = re.compile(r"task_[0-9a-z]{12}")


@pytest.fixture
async def repo(engine: AsyncEngine) -> TaskRepository:
    """A task repository with its tables created."""
    repository = TaskRepository(engine)
    await repository.prepare()
    return repository


async def all_ids(repo: TaskRepository, owner: str, **filters: str) -> list[str]:
    """Every task id `owner` sees with these filters, newest first (one big page)."""
    page = await repo.list(owner=owner, limit=1_000, **filters)  # type: ignore[arg-type]
    assert page.next_after is None and page.total == len(page.tasks)
    return [task.id for task in page.tasks]


async def test_add_then_get_round_trips(repo: TaskRepository) -> None:
    """A stored task comes back with its fields, pending, and UTC-aware timestamps."""
    added = await repo.add(
        owner="alice",
        title="File taxes",
        description="Form 1040",
        due_date=date(2026, 4, 15),
        priority=Priority.high,
    )
    got = await repo.get(owner="alice", task_id=added.id)
    assert got == added
    assert (got.title, got.description, got.priority, got.due_date) == (
        "File taxes",
        "Form 1040",
        Priority.high,
        date(2026, 4, 15),
    )
    assert got.status is TaskStatus.pending and got.completed_at is None
    assert got.created_at.utcoffset() == timedelta(0) and got.updated_at == got.created_at


async def test_ids_are_prefixed_and_unique(repo: TaskRepository) -> None:
    """Ids look like `task_` plus 12 lower-case characters and do not repeat over 500 adds."""
    ids = [(await repo.add(owner="alice", title=f"t{index}")).id for index in range(500)]
    assert all(ID_PATTERN.fullmatch(task_id) for task_id in ids)
    assert len(set(ids)) == 500
    assert (await repo.list(owner="alice")).total == 500


async def test_list_is_newest_first(repo: TaskRepository) -> None:
    """Tasks are listed in reverse order of creation."""
    ids = [(await repo.add(owner="alice", title=f"t{index}")).id for index in range(5)]
    assert await all_ids(repo, "alice") == ids[::-1]


async def test_an_id_collision_draws_another_id(
    repo: TaskRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new id that is already taken (about 2^-60) is drawn again; the existing task is untouched."""
    first = await repo.add(owner="alice", title="first")
    drawn = iter([first.id, "task_0000000000zz"])
    monkeypatch.setattr("mcp_servers.tasks.repository.new_task_id", lambda: next(drawn))
    second = await repo.add(owner="bob", title="second")
    assert second.id == "task_0000000000zz"
    assert [task.title for task in (await repo.list(owner="alice")).tasks] == ["first"]
    assert [task.id for task in (await repo.list(owner="bob")).tasks] == [second.id]


async def test_totals_around_a_full_first_page(repo: TaskRepository) -> None:
    """The total is exact whether the first page holds every match, exactly fills, or overflows."""
    for count in range(1, 9):
        await repo.add(owner="alice", title=f"t{count}")
        await repo.add(owner="bob", title=f"b{count}")
        for status, matching in (("all", count), ("pending", count), ("completed", 0)):
            page = await repo.list(owner="alice", status=status, limit=5)
            assert page.total == matching and len(page.tasks) == min(matching, 5), (count, status)
            assert (page.next_after is not None) == (matching > 5)


async def test_keyset_pagination_walks_everything_once(repo: TaskRepository) -> None:
    """Pages of 10 over 55 tasks cover each task once, in order, with a constant total."""
    ids = [(await repo.add(owner="alice", title=f"t{index}")).id for index in range(55)]
    seen: list[str] = []
    after: int | None = None
    sizes = []
    while True:
        page = await repo.list(owner="alice", limit=10, after=after)
        assert page.total == 55
        seen += [task.id for task in page.tasks]
        sizes.append(len(page.tasks))
        if page.next_after is None:
            break
        after = page.next_after
    assert sizes == [10, 10, 10, 10, 10, 5]
    assert seen == ids[::-1]


async def test_status_filter(repo: TaskRepository) -> None:
    """`all`, `pending` and `completed` select the right tasks and totals."""
    ids = [(await repo.add(owner="alice", title=f"t{index}")).id for index in range(5)]
    for task_id in ids[1:3]:
        await repo.set_status(owner="alice", task_id=task_id, status=TaskStatus.completed)
    assert await all_ids(repo, "alice", status="all") == ids[::-1]
    assert await all_ids(repo, "alice", status="pending") == [ids[4], ids[3], ids[0]]
    assert await all_ids(repo, "alice", status="completed") == [ids[2], ids[1]]
    assert (await repo.list(owner="alice", status="completed", limit=1)).total == 2


async def test_text_query_matches_words_in_title_or_description(repo: TaskRepository) -> None:
    """Query words match title or description words, in any case and order; the last word is a prefix."""
    in_title = await repo.add(owner="alice", title="Buy MILK")
    in_description = await repo.add(owner="alice", title="Groceries", description="whole milk, eggs")
    await repo.add(owner="alice", title="Call mom", description="about the weekend")
    for query in ("milk", "MILK", "Milk", "mil"):
        assert await all_ids(repo, "alice", query=query) == [in_description.id, in_title.id], query
    assert await all_ids(repo, "alice", query="EGGS whole") == [in_description.id]
    assert await all_ids(repo, "alice", query="groceries eg") == [in_description.id]  # title + description
    assert await all_ids(repo, "alice", query="buy milk") == [in_title.id]
    assert await all_ids(repo, "alice", query="mil eggs") == []  # only the last word is a prefix
    assert await all_ids(repo, "alice", query="nothing like this") == []


async def test_text_query_ignores_like_wildcards_and_punctuation(repo: TaskRepository) -> None:
    """ "100%" finds "100% done"; `%`, `_`, `\\` and other punctuation alone never match everything."""
    titles = ["100% done", "plain", "under_score", "underXscore", "back\\slash", "a/b"]
    tasks = {title: (await repo.add(owner="alice", title=title)).id for title in titles}
    found = await all_ids(repo, "alice", query="100%")
    assert tasks["100% done"] in found and tasks["plain"] not in found
    assert await all_ids(repo, "alice", query="under_score") == [tasks["under_score"]]
    assert await all_ids(repo, "alice", query="back\\slash") == [tasks["back\\slash"]]
    for query in ("%", "_", "\\", "/", "%_%", "'; --", '"*"', ""):
        page = await repo.list(owner="alice", query=query)
        assert (page.tasks, page.total) == ([], 0), query


async def test_text_query_folds_non_ascii_case(repo: TaskRepository) -> None:
    """Non-ASCII letters match regardless of case ("CAFÉ" finds "Café")."""
    task = await repo.add(owner="alice", title="Café crème")
    assert await all_ids(repo, "alice", query="CAFÉ CRÈME") == [task.id]


async def test_text_query_pages_and_filters_by_status(repo: TaskRepository) -> None:
    """A text query combines with status and keyset paging: no duplicates, no gaps, constant totals."""
    ids = [
        (await repo.add(owner="alice", title=f"{'report' if i % 2 else 'other'} {i}")).id for i in range(50)
    ]
    reports = ids[1::2]
    for task_id in reports[:5]:
        await repo.set_status(owner="alice", task_id=task_id, status=TaskStatus.completed)
    seen: list[str] = []
    after: int | None = None
    while True:
        page = await repo.list(owner="alice", query="report", limit=10, after=after)
        assert page.total == 25
        seen += [task.id for task in page.tasks]
        if (after := page.next_after) is None:
            break
    assert seen == reports[::-1]
    assert await all_ids(repo, "alice", query="rep", status="completed") == reports[:5][::-1]
    assert await all_ids(repo, "alice", query="rep", status="pending") == reports[5:][::-1]


async def test_text_query_follows_edits_status_changes_and_deletes(repo: TaskRepository) -> None:
    """The word index tracks renames, description edits, completion and deletion."""
    task = await repo.add(owner="alice", title="Draft memo")
    await repo.update(owner="alice", task_id=task.id, title="Final letter", description="signed")
    assert await all_ids(repo, "alice", query="memo") == []
    assert await all_ids(repo, "alice", query="letter signed") == [task.id]
    await repo.set_status(owner="alice", task_id=task.id, status=TaskStatus.completed)
    assert await all_ids(repo, "alice", query="letter", status="completed") == [task.id]
    assert await all_ids(repo, "alice", query="letter", status="pending") == []
    await repo.delete(owner="alice", task_id=task.id)
    assert await all_ids(repo, "alice", query="letter") == []


async def test_text_query_finds_words_inside_emails_files_and_numbers(repo: TaskRepository) -> None:
    """Words of an email address, a file name or a decimal number are found as the query splits them."""
    titles = {"bob@example.com": "Email bob@example.com", "pdf": "Read report.pdf", "1.5": "Buy 1.5 L water"}
    tasks = {query: (await repo.add(owner="alice", title=title)).id for query, title in titles.items()}
    for query, task_id in tasks.items():
        assert await all_ids(repo, "alice", query=query) == [task_id], query


async def test_tasks_stored_before_the_word_index_are_searchable(engine: AsyncEngine) -> None:
    """A database made by the previous release (no word index) finds its old tasks by word after upgrade."""
    async with engine.begin() as connection:  # the schema of a release before the word index
        await connection.run_sync(TaskRow.metadata.create_all, tables=[TaskRow.__table__])  # type: ignore[attr-defined]
    repo = TaskRepository(engine)
    old = await repo.add(owner="alice", title="Pay the electricity bill")
    await repo.prepare()
    assert await all_ids(repo, "alice") == [old.id]
    assert await all_ids(repo, "alice", query="electricity") == [old.id]


async def test_update_changes_only_given_fields(repo: TaskRepository) -> None:
    """Fields passed as None keep their values; updated_at moves forward, created_at stays."""
    task = await repo.add(owner="alice", title="Old", description="keep me", due_date=date(2030, 1, 1))
    renamed = await repo.update(owner="alice", task_id=task.id, title="New")
    assert (renamed.title, renamed.description, renamed.due_date, renamed.priority) == (
        "New",
        "keep me",
        date(2030, 1, 1),
        Priority.medium,
    )
    assert renamed.created_at == task.created_at and renamed.updated_at > task.updated_at
    changed = await repo.update(
        owner="alice", task_id=task.id, priority=Priority.low, due_date=date(2031, 2, 3)
    )
    assert (changed.title, changed.description, changed.priority, changed.due_date) == (
        "New",
        "keep me",
        Priority.low,
        date(2031, 2, 3),
    )
    assert await repo.get(owner="alice", task_id=task.id) == changed


async def test_set_status_completes_reopens_and_is_idempotent(repo: TaskRepository) -> None:
    """Completing sets completed_at; repeating changes nothing; reopening clears completed_at."""
    task = await repo.add(owner="alice", title="Ship it")
    done = await repo.set_status(owner="alice", task_id=task.id, status=TaskStatus.completed)
    assert done.status is TaskStatus.completed and done.completed_at is not None
    assert done.completed_at.utcoffset() == timedelta(0) and done.completed_at >= task.created_at
    assert await repo.get(owner="alice", task_id=task.id) == done
    again = await repo.set_status(owner="alice", task_id=task.id, status=TaskStatus.completed)
    assert again == done
    reopened = await repo.set_status(owner="alice", task_id=task.id, status=TaskStatus.pending)
    assert reopened.status is TaskStatus.pending and reopened.completed_at is None
    assert reopened.updated_at > done.updated_at
    assert await repo.set_status(owner="alice", task_id=task.id, status=TaskStatus.pending) == reopened
    assert await repo.get(owner="alice", task_id=task.id) == reopened


async def test_delete_returns_the_task_and_removes_it(repo: TaskRepository) -> None:
    """Delete returns the task as it was; afterwards it is gone for get, list and a second delete."""
    keep = await repo.add(owner="alice", title="Keep")
    gone = await repo.add(owner="alice", title="Remove", description="bye")
    assert await repo.delete(owner="alice", task_id=gone.id) == gone
    with pytest.raises(TaskNotFoundError):
        await repo.get(owner="alice", task_id=gone.id)
    with pytest.raises(TaskNotFoundError):
        await repo.delete(owner="alice", task_id=gone.id)
    assert await all_ids(repo, "alice") == [keep.id]


async def test_unknown_id_is_not_found(repo: TaskRepository) -> None:
    """An id that was never issued raises TaskNotFoundError carrying that id."""
    with pytest.raises(TaskNotFoundError) as caught:
        await repo.get(owner="alice", task_id="task_000000000000")
    assert caught.value.task_id == "task_000000000000"


async def test_another_user_cannot_touch_a_task(repo: TaskRepository) -> None:
    """Bob gets TaskNotFoundError for every operation on Alice's task, which stays unchanged."""
    task = await repo.add(owner="alice", title="Alice's secret", description="private")
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: repo.get(owner="bob", task_id=task.id),
        lambda: repo.update(
            owner="bob", task_id=task.id, title="hijacked", description="x", priority=Priority.low
        ),
        lambda: repo.set_status(owner="bob", task_id=task.id, status=TaskStatus.completed),
        lambda: repo.delete(owner="bob", task_id=task.id),
    ]
    for attempt in attempts:
        with pytest.raises(TaskNotFoundError) as caught:
            await attempt()
        assert caught.value.task_id == task.id
    assert await repo.get(owner="alice", task_id=task.id) == task


async def test_lists_and_totals_are_per_user(repo: TaskRepository) -> None:
    """Other users never see Alice's tasks, whatever the status or query, even with look-alike names."""
    alice = [(await repo.add(owner="alice", title=f"Secret plan {index}")).id for index in range(3)]
    await repo.set_status(owner="alice", task_id=alice[0], status=TaskStatus.completed)
    others = ("bob", "alic", "alice2", 'alice" OR owner_key : *', "ALICE", "alice ")
    mine = {owner: (await repo.add(owner=owner, title="Secret plan B")).id for owner in others}
    for owner in others:
        for status in ("all", "pending", "completed"):
            for query in (None, "secret", "plan", "secret plan", "%", ""):
                page = await repo.list(owner=owner, status=status, query=query)  # type: ignore[arg-type]
                assert {task.id for task in page.tasks} <= {mine[owner]}, (owner, status, query)
                assert page.total == len(page.tasks)
        assert await all_ids(repo, owner, query="secret") == [mine[owner]]
    assert (await repo.list(owner="alice")).total == 3
    assert (await repo.list(owner="alice", query="secret")).total == 3
    assert (await repo.list(owner="carol", query="secret")).total == 0


@pytest.mark.parametrize("status", [None, "pending"])
async def test_sqlite_list_query_uses_an_owner_index(sqlite_url: str, status: str | None) -> None:
    """On SQLite the list query searches an (owner, ...) index in pk order instead of scanning the table."""
    engine = create_engine(sqlite_url)
    try:
        repo = TaskRepository(engine)
        await repo.prepare()
        for index in range(30):
            await repo.add(owner=f"user{index % 3}", title=f"t{index}")
        statement = select(TaskRow).where(col(TaskRow.owner) == "user1")
        if status:
            statement = statement.where(col(TaskRow.status) == status)
        statement = statement.where(col(TaskRow.pk) < 1_000).order_by(col(TaskRow.pk).desc()).limit(21)
        sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        async with engine.connect() as connection:
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plan = " | ".join(str(row[-1]) for row in rows)
    finally:
        await engine.dispose()
    assert re.search(r"SEARCH tasks USING (COVERING )?INDEX ix_tasks_owner_(status_)?pk \(owner=\?", plan), (
        plan
    )
    assert "SCAN tasks" not in plan and "TEMP B-TREE" not in plan, plan


async def test_agenda_is_what_is_due_soon_or_urgent_soonest_first(repo: TaskRepository) -> None:
    """Pending tasks due by the day given (overdue too) or high priority without a date, soonest
    due first and by priority within a day; completed, later and other users' tasks stay out."""
    today = date(2026, 6, 10)

    async def add(
        title: str, due: date | None, priority: Priority = Priority.medium, owner: str = "alice"
    ) -> str:
        return (await repo.add(owner=owner, title=title, due_date=due, priority=priority)).id

    undated_high = await add("undated high", None, Priority.high)
    today_low = await add("today low", today, Priority.low)
    overdue = await add("overdue", today - timedelta(days=3))
    today_high = await add("today high", today, Priority.high)
    horizon = await add("on the horizon", today + timedelta(days=7), Priority.low)
    await add("too late", today + timedelta(days=8), Priority.high)
    await add("undated medium", None)
    done = await add("done already", today)
    await repo.set_status(owner="alice", task_id=done, status=TaskStatus.completed)
    await add("bob's", today, Priority.high, owner="bob")

    agenda = await repo.agenda(owner="alice", due_by=today + timedelta(days=7))
    assert [task.id for task in agenda.tasks] == [overdue, today_high, today_low, horizon, undated_high]
    assert agenda.total == 7  # every pending task of alice's, shown or not
    assert [task.id for task in (await repo.agenda(owner="alice", due_by=today, limit=2)).tasks] == [
        overdue,
        today_high,
    ]
    assert (await repo.agenda(owner="carol", due_by=today)).tasks == []


async def test_ids_starting_with_match_as_typed_and_only_the_owners(repo: TaskRepository) -> None:
    """Completion candidates: the owner's ids with that prefix, newest first; `_` and `%` in the
    prefix are literal (no LIKE wildcards), and another user's ids never match."""
    mine = [(await repo.add(owner="alice", title=f"t{index}")).id for index in range(3)]
    theirs = (await repo.add(owner="bob", title="b")).id
    assert await repo.ids_starting_with(owner="alice", prefix="task_") == mine[::-1]
    assert await repo.ids_starting_with(owner="alice", prefix=mine[1]) == [mine[1]]
    assert await repo.ids_starting_with(owner="alice", prefix=theirs) == []
    assert await repo.ids_starting_with(owner="alice", prefix="task%") == []
    assert await repo.ids_starting_with(owner="alice", prefix="tas__") == []
    assert await repo.ids_starting_with(owner="alice", prefix="", limit=2) == mine[:0:-1]
