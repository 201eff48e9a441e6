# syntax=docker/dockerfile:1.7
# The studio service image. Build from the repository root:
#   docker build -f deploy/docker/studio.Dockerfile -t scenarist-studio:dev .
# studio.Dockerfile.dockerignore (next to this file) keeps .venv, caches and run state out of the
# build context. tests/ops/test_dockerfiles.py checks the rules every image follows.

# The web app (services/studio/web, Vite) is built with npm in its own stage so no Node.js
# reaches the runtime image; its output lands in src/scenarist_studio/static, which the wheel
# ships (pyproject `artifacts`).
FROM node:22.21.1-bookworm-slim AS web
WORKDIR /src/services/studio/web
COPY services/studio/web/package.json services/studio/web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY services/studio/web/ ./
RUN npm run build

FROM python:3.11.14-slim-bookworm AS builder
# Bytecode compiled at build time: the runtime root filesystem is read-only and
# PYTHONDONTWRITEBYTECODE is set, so nothing would cache it later.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/scenarist/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
COPY --from=web /src/services/studio/src/scenarist_studio/static/ services/studio/src/scenarist_studio/static/
# Only this service and the libraries it depends on, from the lock file, installed as wheels
# (--no-editable) so the runtime image needs no source tree.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package scenarist-studio

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/scenarist/venv/bin:$PATH \
    SCENARIST_HTTP_HOST=0.0.0.0 \
    SCENARIST_HTTP_PORT=8080 \
    SCENARIST_GRPC_HOST=0.0.0.0 \
    SCENARIST_GRPC_PORT=50051
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 scenarist \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin scenarist
COPY --from=builder /opt/scenarist/venv /opt/scenarist/venv
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SCENARIST_HTTP_PORT', '8080') + '/livez', timeout=2)"]
ENTRYPOINT ["python", "-m", "scenarist_studio"]
