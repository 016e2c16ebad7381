# citebot: installs the project the same way as the README (pip install .) and runs the bot.
#   docker build -t citebot .
#   docker run -d --env-file .env -v "$PWD/corpus:/app/corpus" -v citebot-cache:/app/cache \
#     -v citebot-state:/app/state citebot
# The corpus volume must be writable by uid 10001 when SOURCE_CHANNELS or uploads add documents
# (read-only is fine otherwise: append ":ro").
#   docker run --rm citebot citebot ask "Was fordert Scholz von Putin?"
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CORPUS_DIR=/app/corpus \
    CACHE_DIR=/app/cache \
    STATE_DIR=/app/state \
    WEBHOOK_PORT=8080 \
    HEALTH_PORT=8081

WORKDIR /app
RUN useradd --create-home --uid 10001 citebot
# The Ding German-English dictionary: questions in English find German sources and the reverse
# (DICTIONARY_PATH, default /usr/share/trans/de-en).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends trans-de-en \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .

COPY --chown=10001:10001 corpus ./corpus
RUN install -d -o 10001 -g 10001 /app/cache /app/state
# Posts and uploads are written to the corpus; index snapshots to the cache (fast restarts);
# buttons, /stats and flood counters to the state (kept across restarts and upgrades).
VOLUME ["/app/corpus", "/app/cache", "/app/state"]

USER 10001
# WEBHOOK_PORT (webhook mode) and HEALTH_PORT (GET /healthz, answered in both modes).
EXPOSE 8080 8081

# slim has no curl: the probe uses Python's standard library; any error or non-200 fails it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HEALTH_PORT', '8081') + '/healthz', timeout=4)"]

CMD ["citebot", "run"]
