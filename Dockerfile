# One image for every process of the system: chatkit-backend, tasks-mcp and items-mcp (and the
# terminal client, chatkit-chat). compose.yaml picks the command per service.
#
#   docker build -t chatkit-backend .
#   docker run --rm -p 8000:8000 -e AUTH_JWT_SECRET=... -e MCP_AUTH_SECRET=... chatkit-backend
#
# BASE_IMAGE must provide python3 (3.11 or newer) with venv; both stages use it, so the virtual
# environment's interpreter is the final stage's own.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The dependencies first, from pyproject.toml alone: this layer survives changes to our code.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
COPY README.md mcp_servers.json ./
COPY plumbing ./plumbing
COPY backend ./backend
COPY mcp_servers ./mcp_servers
COPY shared_widgets ./shared_widgets
COPY chat_client ./chat_client
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 chatkit \
 && useradd --system --uid 10001 --gid chatkit --home-dir /app --shell /usr/sbin/nologin chatkit \
 && mkdir -p /app/data \
 && chown chatkit:chatkit /app/data
COPY --from=build /opt/venv /opt/venv
# Run alone (`docker run`), the backend starts both tool servers over stdio, on SQLite in /app/data.
COPY --from=build /src/mcp_servers.json /app/mcp_servers.json
WORKDIR /app
USER 10001:10001
EXPOSE 8000 8101 8102
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-m", "plumbing.probe", "http://127.0.0.1:8000/healthz"]
CMD ["chatkit-backend", "--host", "0.0.0.0", "--port", "8000"]
