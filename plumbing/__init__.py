"""Process plumbing that the backend and the MCP servers both need: database engines and SQLite
pragmas, the schema lock, Alembic runs, the identity-token codec, garbage-collector tuning and the
container health probe.

A leaf: it imports nothing of ours, and holds no domain code (docs/architecture.md, "Dependency rules").
"""
