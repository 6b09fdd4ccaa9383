"""The agent side of the backend: models and the agent that answers in a thread."""
