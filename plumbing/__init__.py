"""Process plumbing that the backend and the MCP servers both need: SQLite pragmas, the schema
lock, Alembic runs, garbage-collector tuning and the container health probe.

A leaf: it imports nothing of ours, and holds no domain code (DESIGN.md, section 2).
"""
