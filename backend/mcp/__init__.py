"""The bridge to the MCP tool servers: their config file, connections and per-call identity."""
