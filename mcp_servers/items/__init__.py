"""The items MCP server: a shared product catalog with ranked full-text search."""
