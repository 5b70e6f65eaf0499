# parentline: one bot process (one replica). Build: docker build -t parentline .
# The image holds the code and the example content; coordinators' real content is
# mounted over /app/content (see docker-compose.yml), and state lives in PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY fake_telegram ./fake_telegram
COPY core ./core
COPY flows ./flows
COPY handoff ./handoff
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app parentline

COPY content ./content

# Inside a container the server must listen on all interfaces; everything else is
# configured by the operator (see docs/production.md and the README's table).
ENV PARENTLINE_CONTENT_DIR=/app/content \
    PARENTLINE_WEB_HOST=0.0.0.0 \
    PARENTLINE_WEB_PORT=8080

USER parentline
EXPOSE 8080

# Liveness without curl (the slim image has none): the process answers /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

CMD ["parentline", "run"]
