"""The persistent ChatKit Store: threads, items, attachments and feedback on SQLite or Postgres."""

from backend.store.store import AlreadyUploaded, SqlStore

__all__ = ["AlreadyUploaded", "SqlStore"]
