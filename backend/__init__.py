"""The ChatKit backend: FastAPI app, end-user auth, the ChatKit server and its persistent Store."""
