"""Alembic environment of the chat store."""

from backend.store.models import TABLES
from plumbing.migrations import run_environment, store_metadata

run_environment(store_metadata(TABLES))
