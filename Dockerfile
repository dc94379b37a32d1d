# syntax=docker/dockerfile:1
# claimflow: one image for every process (migrate, gateway, every worker, replay, report).
#   docker build -t claimflow:0.1.0 .
#   docker run --rm -e CLAIMFLOW_DATABASE_URL=... -e CLAIMFLOW_BROKER_URL=... claimflow:0.1.0 worker intake
# No settings or secrets are baked in: every setting is a CLAIMFLOW_* environment variable.

# --- build: a wheel of the project and of its dependencies ------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --wheel-dir /wheels ".[pdf]"

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango (and fonts with Cyrillic) for the closing report as PDF (WeasyPrint)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels "claimflow[pdf]" \
 && groupadd --system --gid 10001 claimflow \
 && useradd --system --uid 10001 --gid claimflow --home-dir /app --create-home --shell /usr/sbin/nologin claimflow

WORKDIR /app
# Numeric UID so Kubernetes' runAsNonRoot can verify it without resolving the name.
USER 10001:10001

# the gateway; /metrics and /healthz of intake, routing, sla, notify and department-updates
EXPOSE 8080 9401 9402 9403 9404 9405

ENTRYPOINT ["claimflow"]
CMD ["--help"]
