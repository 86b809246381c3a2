# Hearth: one bot process per container. The container applies the database migrations, then
# starts the bot (polling, or a webhook when WEBHOOK_URL is set). See "Running in production"
# in README.md and compose.yaml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# dependencies first, in their own layer: a code change does not reinstall them
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write(chr(10).join(deps))" \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --create-home --home-dir /home/hearth --shell /usr/sbin/nologin hearth \
    && mkdir -p /app/data \
    && chown hearth:hearth /app/data \
    && rm -rf build ./*.egg-info

# the source tree stays on the path: `python -m bot migrate` finds alembic.ini and migrations/
# next to the code (the installed package holds the code only)
ENV PYTHONPATH=/app
USER hearth

# SQLite (the default DATABASE_URL, data/hearth.db) keeps its file here
VOLUME ["/app/data"]
# the webhook server (WEBHOOK_LISTEN), which also answers /healthz and /metrics
EXPOSE 8080

CMD ["sh", "-c", "python -m bot migrate && exec python -m bot"]
