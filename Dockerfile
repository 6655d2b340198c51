# syntax=docker/dockerfile:1
# Multi-stage image: build the server with the pinned toolchain (its build
# script builds the plugins to wasm32-wasip2 and embeds the built-in ones),
# then run as a non-root user on a slim Debian with the PostgreSQL server
# binaries, so the embedded database works when no DATABASE_URL is given.

# The console's chart library (Apache ECharts) from npm, by its lock file.
FROM node:20-bookworm-slim AS console
WORKDIR /console
COPY host/console/package.json host/console/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY rust-toolchain.toml ./
RUN rustup toolchain install 1.95.0 --profile minimal && rustup target add wasm32-wasip2
COPY . .
COPY --from=console /console/node_modules host/console/node_modules
RUN cargo build --release --locked -p mmm-host --bin mmm \
 && mkdir -p /out \
 && cp target/release/mmm /out/mmm

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mmm \
 && useradd --system --no-log-init --uid 10001 --gid mmm --create-home --home-dir /var/lib/mmm mmm \
 && install -d -o mmm -g mmm -m 0700 /var/lib/mmm/data /var/lib/mmm/data/secrets
COPY --from=build /out/mmm /usr/local/bin/mmm
COPY policies /etc/mmm/policies
# A fixed numeric uid/gid (10001): Kubernetes' runAsNonRoot can only verify a
# numeric USER, and the manifests in deploy/k8s name the same ids. The data
# dir and its secrets/ are created owned by it so that volumes mounted there
# (compose copies the ownership into a new named volume) are writable.
USER 10001:10001
WORKDIR /var/lib/mmm
ENV MMM_BIND=0.0.0.0:8080 \
    MMM_DATA_DIR=/var/lib/mmm/data \
    MMM_POLICY_DIR=/etc/mmm/policies \
    MMM_LOG_FORMAT=json \
    MMM_METRICS_BIND=0.0.0.0:9464
# 8080: the API (with /healthz and /readyz); 9464: Prometheus /metrics, which
# `mmm serve` and `mmm worker` both serve there. Keep 9464 off the public
# load balancer.
EXPOSE 8080 9464
VOLUME ["/var/lib/mmm/data"]
ENTRYPOINT ["mmm"]
CMD ["serve"]
