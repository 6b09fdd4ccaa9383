"""The chat store's migrations (Alembic): `chatkit-backend migrate`, and every backend at start."""

from __future__ import annotations

from plumbing.migrations import History

HISTORY = History(
    store="chat",
    script_location="backend.store:migrations",
    command="chatkit-backend migrate",
    lock_key=0x63686174_736368,  # "chat" "sch": shared by the backends on one Postgres database
    tables=(
        "chat_threads",
        "chat_items",
        "chat_attachments",
        "chat_attachment_files",
        "chat_feedback",
        "chat_widget_states",
        "chat_paused_runs",
        "chat_approvals",
    ),
    owns=("chat_*",),
)
