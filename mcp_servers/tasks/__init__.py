"""The tasks MCP server: per-user task CRUD on its own database."""
