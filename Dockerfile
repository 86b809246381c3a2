# Hearth: one bot process per container. The container applies the database migrations, then
# starts the bot (polling, or a webhook when WEBHOOK_URL is set). See "Running in production"
# in README.md and compose.yaml.
#
# PYTHON_IMAGE: any Debian-based Python 3.11 image with pip, e.g. a mirror of python:3.11-slim
# (docker build --build-arg PYTHON_IMAGE=registry.example/python:3.11-slim .)
ARG PYTHON_IMAGE=python:3.11-slim

# the wheel of the project (code and migrations), built from the sources only
FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY jobs ./jobs
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# dependencies first, in their own layer: a code change does not reinstall them
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; deps = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write(chr(10).join(deps))" \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt /tmp/pyproject.toml

# the bot is the installed package (migrations included): no source tree, no PYTHONPATH
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && groupadd --system --gid 10001 hearth \
    && useradd --system --uid 10001 --gid hearth --create-home --home-dir /home/hearth \
        --shell /usr/sbin/nologin hearth \
    && mkdir -p /app/data \
    && chown hearth:hearth /app/data

# the default DATABASE_URL (SQLite) is relative: data/hearth.db here, in the volume
WORKDIR /app
USER hearth
VOLUME ["/app/data"]
# the webhook server (WEBHOOK_LISTEN), which also answers /healthz and /metrics
EXPOSE 8080

CMD ["sh", "-c", "python -m bot migrate && exec python -m bot"]
