# syntax=docker/dockerfile:1.7
# The log service image. Build from the repository root:
#   docker build -f deploy/docker/log.Dockerfile -t scenarist-log:dev .
# log.Dockerfile.dockerignore (next to this file) keeps .venv, caches and run state out of the
# build context. tests/ops/test_dockerfiles.py checks the rules every image follows.

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
# Only this service and the libraries it depends on, from the lock file, installed as wheels
# (--no-editable) so the runtime image needs no source tree.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package scenarist-log

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
EXPOSE 8080 50051
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SCENARIST_HTTP_PORT', '8080') + '/livez', timeout=2)"]
ENTRYPOINT ["python", "-m", "scenarist_log"]
