# syntax=docker/dockerfile:1
# Multi-stage build: a static engramd and engram on a distroless base,
# running as a non-root user with a read-only root filesystem (the data
# directory is the only writable path; mount a volume there).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/engramd ./cmd/engramd \
 && go build -trimpath -ldflags="-s -w" -o /out/engram ./cmd/engram \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/engramd /out/engram /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# The admin listener (pprof, log level) stays on the container's loopback;
# to scrape metrics from outside set ENGRAM_ADMIN_ADDR=0.0.0.0:9464 and
# ENGRAM_ADMIN_TOKEN (required off loopback).
ENV ENGRAM_ADDR=0.0.0.0:8765 \
    ENGRAM_DATA_DIR=/data
EXPOSE 8765
VOLUME ["/data"]
# distroless has no shell or curl: the CLI probes /healthz itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/engram", "healthcheck", "--url", "http://127.0.0.1:8765/healthz"]
ENTRYPOINT ["/usr/local/bin/engramd"]
# Run with an identity provider (README "In a container"):
#   docker run --read-only -v engram-data:/data -p 8765:8765 \
#     -e ENGRAM_AUTH_JWKS_URL=... -e ENGRAM_AUTH_ISSUER=... -e ENGRAM_AUTH_AUDIENCE=... engram
# or, as a local demo only: -p 127.0.0.1:8765:8765 -e ENGRAM_INSECURE_LOCAL_KEY=true
