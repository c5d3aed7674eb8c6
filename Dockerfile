# TradingStation worker image: the same code as a checkout, run as a Prefect process worker.
#
#   docker build -t tradingstation-worker .
#   docker run -e PREFECT_API_URL=https://<your-prefect>/api [-e PREFECT_API_KEY=...] \
#              -e TS_STORAGE_BACKEND=s3 tradingstation-worker
#
# Storage and the Alpha Vantage key come from the Prefect blocks registered with
# `tradingstation blocks register`, so the container needs only the Prefect API settings.
# On DigitalOcean App Platform, deploy it as a Worker component with those env vars.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TS_APP_DIR=/app \
    TS_LOG_FORMAT=json \
    PREFECT_LOGGING_EXTRA_LOGGERS=tradingstation \
    PREFECT_LOGGING_SETTINGS_PATH=/app/prefect-logging.yml \
    PREFECT_SERVER_ANALYTICS_ENABLED=false

WORKDIR /app

# Dependencies first so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY tradingstation ./tradingstation
COPY tasks ./tasks
COPY flows ./flows
COPY blocks ./blocks
COPY deploy ./deploy
COPY cli ./cli
COPY prefect.yaml prefect-logging.yml ./
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 1000 trader \
    && mkdir -p /app/data && chown trader /app/data

USER trader
# TS_APP_DIR=/app is where prefect.yaml's pull step puts each flow run.
CMD ["prefect", "worker", "start", "--pool", "tradingstation", "--type", "process"]
