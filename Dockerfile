# propelauth-mcp: stdio by default (`docker run -i`), Streamable HTTP with `--transport http`.
# Build:  docker build -t propelauth-mcp .
# See the README's "Docker" section for the run lines (sandbox and real credentials, stdio and HTTP).

# ---- builder: resolve nothing, install exactly the lock file's runtime packages into /app/.venv ----
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /src
# Dependencies first (cached while only the code changes), then the project itself, as a wheel.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project --no-cache
COPY schemas ./schemas
COPY tools ./tools
COPY server ./server
COPY sandbox ./sandbox
RUN uv sync --locked --no-dev --no-editable --no-cache

# ---- final: the interpreter, the venv, a non-root user; no compilers, no uv, no source tree ----
FROM python:3.11-slim

RUN groupadd --system --gid 10001 mcp \
    && useradd --system --uid 10001 --gid mcp --home-dir /home/mcp --create-home --shell /usr/sbin/nologin mcp \
    && mkdir -p /data \
    && chown mcp:mcp /data

COPY --from=builder /app/.venv /app/.venv

# XDG_STATE_HOME=/data: the audit log and the sandbox database live on the volume.
# PROPELAUTH_MCP_HOST=0.0.0.0: in HTTP mode, listen on the container's interface (tokens are then
# required: --no-auth is refused off loopback).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_STATE_HOME=/data \
    PROPELAUTH_MCP_HOST=0.0.0.0 \
    PROPELAUTH_MCP_PORT=8000

USER 10001:10001
WORKDIR /home/mcp
VOLUME ["/data"]
EXPOSE 8000

# In HTTP mode GET /healthz on loopback; in stdio mode there is nothing to probe and it exits 0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-m", "server.healthcheck"]

ENTRYPOINT ["propelauth-mcp"]
