# syntax=docker/dockerfile:1
# Multi-stage build: a static engramd and engram on a distroless base,
# running as a non-root user with a read-only root filesystem (the data
# directory is the only writable path; mount a volume there).
#
# Both base images are pinned by digest, so a tag moved upstream cannot
# change what is built. The tag stays beside the digest for readers; the
# digest is what is pulled. To refresh (then rebuild and run the tests):
#   crane digest golang:1.26-bookworm
#   crane digest gcr.io/distroless/static-debian12:nonroot
# (or: docker buildx imagetools inspect IMAGE --format '{{.Manifest.Digest}}')
# and replace the sha256 values below. Recorded 2026-12-05 from published
# Dockerfiles that pin the same tags (no registry was reachable from the
# machine that wrote them): refresh them with the commands above before a
# release.
FROM golang:1.26-bookworm@sha256:116d58cbd88c1297624acc6e967a060012422bacf9930927e23fb719189c6f36 AS build
WORKDIR /src
# The official image sets GOTOOLCHAIN=local; auto builds with go.mod's
# toolchain line (the patch release scripts/govulncheck.sh scans with),
# fetched through the module proxy and checked against sum.golang.org.
ENV GOTOOLCHAIN=auto
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/engramd ./cmd/engramd \
 && go build -trimpath -ldflags="-s -w" -o /out/engram ./cmd/engram \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
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
