"""Plumbing shared by the MCP servers: settings, identity, database engines, tool results, the CLI."""
