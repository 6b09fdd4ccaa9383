"""MCP tool servers: each package owns its tools and its data layer."""
