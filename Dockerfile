# syntax=docker/dockerfile:1
# Multi-stage image: build the server with the pinned toolchain (its build
# script builds the plugins to wasm32-wasip2 and embeds the built-in ones),
# then run as a non-root user on a slim Debian with the PostgreSQL server
# binaries, so the embedded database works when no DATABASE_URL is given.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY rust-toolchain.toml ./
RUN rustup toolchain install 1.95.0 --profile minimal && rustup target add wasm32-wasip2
COPY . .
RUN cargo build --release --locked -p mmm-host --bin mmm \
 && mkdir -p /out \
 && cp target/release/mmm /out/mmm

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/mmm mmm
COPY --from=build /out/mmm /usr/local/bin/mmm
COPY policies /etc/mmm/policies
USER mmm
WORKDIR /var/lib/mmm
ENV MMM_BIND=0.0.0.0:8080 \
    MMM_DATA_DIR=/var/lib/mmm/data \
    MMM_POLICY_DIR=/etc/mmm/policies \
    MMM_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/mmm/data"]
ENTRYPOINT ["mmm"]
CMD ["serve"]
