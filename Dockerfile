# The hopscope server distribution: collector, dashboard, the `hopscope` command, and the demo shop
# (with the `hopscope` client library, which the demo services import).
# Build: docker build -t hopscope:0.1.0 .   (docker-compose.yml builds it for you)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY alerting ./alerting
COPY analysis ./analysis
COPY collector ./collector
COPY core ./core
COPY dashboard ./dashboard
COPY demo ./demo
COPY diagnosis ./diagnosis
COPY hopscope_cli ./hopscope_cli
COPY storage ./storage
COPY instrumentation ./instrumentation
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt . ./instrumentation

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/hopscope hopscope
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels hopscope-server hopscope && rm -rf /tmp/wheels
USER hopscope
WORKDIR /var/lib/hopscope
ENV HOPSCOPE_DATA_DIR=/var/lib/hopscope/data \
    HOPSCOPE_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
EXPOSE 4317 4318 8501
ENTRYPOINT ["hopscope"]
CMD ["collector"]
