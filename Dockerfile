# syntax=docker/dockerfile:1
# One image for every role; FABRIKAM_ROLE (set per Deployment by the Helm chart) picks what runs.
#
#checkov:skip=CKV_DOCKER_2:Kubernetes ignores HEALTHCHECK; the Helm chart probes /healthz/startup, /healthz/ready and /healthz/live on port 8000 for every role.

# --- build: dependencies into a venv, in their own layer so a code change does not reinstall them
# Both stages use the same exact base tag: a bump changes both lines.
FROM python:3.11.14-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --requirement /tmp/requirements.txt

# --- runtime: the venv, the code and the collected static files; no compilers, no pip cache
FROM python:3.11.14-slim-bookworm AS runtime

# The root filesystem is read-only in the cluster: nothing may write bytecode, and anything that
# needs a scratch or home directory gets /tmp (an emptyDir in the chart).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    TMPDIR=/tmp \
    FABRIKAM_DATA_DIR=/tmp/fabrikam \
    HOME=/tmp \
    PORT=8000 \
    GUNICORN_WORKERS=2 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=30 \
    DJANGO_SETTINGS_MODULE=fabrikam.settings.production

RUN groupadd --system --gid 10001 fabrikam \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /tmp --shell /usr/sbin/nologin fabrikam

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Code stays owned by root: the app user can read it but not change it.
COPY . /app

# collectstatic needs the production settings to load, not real secrets: a throwaway secret key
# and signing key, and a data directory removed again, for this RUN only.
RUN SECRET_KEY=build-only AUTH_SIGNING_KEY=build-only FABRIKAM_DATA_DIR=/tmp/build \
    FABRIKAM_ROLE=all python manage.py collectstatic --noinput \
    && rm -rf /tmp/build

USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["python", "manage.py", "serve"]
