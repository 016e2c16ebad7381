# citebot: installs the project the same way as the README (pip install .).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CORPUS_DIR=/app/corpus

WORKDIR /app
RUN useradd --create-home --uid 10001 citebot

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .

COPY corpus ./corpus
VOLUME ["/app/corpus"]

USER 10001
ENTRYPOINT ["citebot"]
CMD ["index"]
