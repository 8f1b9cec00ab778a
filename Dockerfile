# syntax=docker/dockerfile:1
#
# tokenguard in a container:
#
#   docker build -t tokenguard .
#   docker run --rm -v "$PWD":/src ghcr.io/tokenguard/tokenguard check /src
#
# Stage 1 builds a static binary. The one C dependency, the allocator
# (mimalloc), is compiled by the image's own gcc against musl (the C
# toolchain the image links every Rust binary with), and the Alpine Rust
# image's native target is <arch>-unknown-linux-musl, whose binaries are
# statically linked by default, so the same Dockerfile builds for
# linux/amd64 and linux/arm64 without a cross compiler or linker.
ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-alpine AS build
WORKDIR /build
# Only what `cargo build` reads (see .dockerignore for what stays out).
COPY . .
# The release profile strips symbols, like the release archives' binaries.
RUN cargo build --release --locked --bin tokenguard \
    && mkdir -p /out \
    && cp target/release/tokenguard /out/tokenguard \
    && /out/tokenguard --version

# Stage 2: nothing but the binary. No shell, no package manager, no libc.
FROM scratch AS runtime
ARG VERSION=dev
LABEL org.opencontainers.image.title="tokenguard" \
      org.opencontainers.image.description="Finds Kubernetes pod specs that leave the service-account token mounted" \
      org.opencontainers.image.source="https://github.com/tokenguard/tokenguard" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/tokenguard /usr/local/bin/tokenguard
# A numeric non-root user: scratch has no /etc/passwd to name one in.
# The mounted /src only has to be readable for `check`; `--fix` needs it
# writable by this uid (or run with --user "$(id -u):$(id -g)").
USER 65532:65532
WORKDIR /src
ENV PATH=/usr/local/bin
ENTRYPOINT ["tokenguard"]
CMD ["check", "."]
