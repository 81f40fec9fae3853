# syntax=docker/dockerfile:1

# Builds offline from the committed .sqlx/ query data (SQLX_OFFLINE, set in .cargo/config.toml):
# no database is needed at build time. Dependencies are cached in their own layer (cargo-chef).
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin frontdesk

# A small runtime: glibc and CA certificates, no shell, running as an unprivileged user.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /app/target/release/frontdesk /usr/local/bin/frontdesk
# /metrics has its own port, for the scraper only; publish 8080 alone to the balancer.
ENV LISTEN_ADDR=0.0.0.0:8080 \
    METRICS_ADDR=0.0.0.0:9464 \
    LOG_FORMAT=json \
    SHUTDOWN_DELAY_SECS=5
EXPOSE 8080 9464
USER 65532:65532
# Probes for orchestrators: GET /health/live (process up) and GET /health/ready (database
# reachable, not shutting down). `frontdesk healthcheck` asks /health/ready itself.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/frontdesk", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/frontdesk"]
CMD ["serve"]
