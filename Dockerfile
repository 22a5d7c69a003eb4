# syntax=docker/dockerfile:1
#
# The jupyterhub-bot image: the bot, a pinned helm, and the per-environment chart.
#
#   docker build -t registry.example.org/platform/jupyterhub-bot:0.1.0 .
#   (or: buildah build -t ... .) then push it, and set the chart's image.repository to it.
#
# The helm binary is built from source the same way cluster/harness.sh builds the one
# the tests use, so the bot in the image runs exactly the Helm it was tested with.

# Keep HELM_VERSION in step with cluster/versions.env. Helm v4.3.1 needs Go 1.26.
ARG HELM_VERSION=v4.3.1
ARG GO_VERSION=1.26
ARG PYTHON_VERSION=3.11

# --- helm ---------------------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS helm
ARG HELM_VERSION
# -X ...version.version: without it `helm version` reports a development build.
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath \
        -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" \
        "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" \
    && /out/helm version --short

# --- the bot and its dependencies, in a virtual environment -------------------------
FROM python:${PYTHON_VERSION}-slim AS python
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir '.[postgres]'

# --- the image ----------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim
COPY --from=helm /out/helm /usr/local/bin/helm
COPY --from=python /opt/venv /opt/venv
COPY charts/jupyterhub /opt/jupyterhub-bot/charts/jupyterhub
# The documented example policy; a deployment mounts its own at POLICIES_DIR.
COPY policies /opt/jupyterhub-bot/policies
# A fixed, unprivileged user; the chart runs the pod as this uid with a read-only root.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /home/bot --create-home --shell /usr/sbin/nologin bot
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HELM_BINARY=/usr/local/bin/helm \
    CHART_REF=/opt/jupyterhub-bot/charts/jupyterhub \
    POLICIES_DIR=/opt/jupyterhub-bot/policies \
    PORT=3000
USER 10001:10001
WORKDIR /home/bot
EXPOSE 3000
CMD ["python", "-m", "bot", "serve"]
