"""`chatkit-chat`: a terminal client for any ChatKit backend (typer + rich).

It speaks the ChatKit protocol as the UI does and imports nothing of the backend, the MCP servers
or the widget templates, so it works against other ChatKit backends too.
"""
