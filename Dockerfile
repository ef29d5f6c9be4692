# syntax=docker/dockerfile:1
#
# The trailsift image: the release binary on a small Debian base, for the sharded runs in
# deploy/aws-batch/ and deploy/kubernetes/ (and any `docker run`).
#
#   docker build -t trailsift .
#   docker run --rm trailsift --help
#
# BuildKit is needed for the cache mounts below: it is the default builder since Docker 23
# (elsewhere use `docker buildx build`). A cold build compiles some 325 units, about 8 min
# on 2 cores (README, "Quick start"); later builds reuse the compiled dependencies.

# ---------------------------------------------------------------------------------------
# Build stage. Same Debian release as the final stage (bookworm): the binary links glibc
# dynamically, so it must not be built against a newer glibc than the one it runs on.
FROM rust:1.95-slim-bookworm AS build

# The C parts of the build (libdeflate-sys, aws-lc-sys under rustls, ring) need a C
# compiler and the libc headers, nothing else. The slim image has both already; naming
# them makes a change of base image fail here, with the package named, rather than inside
# a build script. No cmake or clang: on x86_64 and aarch64 Linux, aws-lc-sys 0.47 compiles
# AWS-LC with `cc` from its pregenerated bindings and only falls back to CMake where no cc
# build exists. Versions are not pinned (hadolint DL3008): Debian keeps only the current
# point release's packages, so a pin would break the build at its next security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# rust-toolchain.toml pins the compiler (1.95.0, the one this image carries) and lists
# rustfmt and clippy, which rustup fetches on first use. Installing them here, in a layer
# of their own, keeps that download out of every rebuild that only changes the sources.
COPY rust-toolchain.toml ./
RUN rustup toolchain install --no-self-update

COPY . .

# Dependency caching: the registry and target/ live in BuildKit cache mounts, so a rebuild
# after a source change recompiles trailsift alone, not its 300-odd dependencies. (The
# "build a dummy main.rs first" trick would need a stub for every bench and test target
# Cargo.toml declares, as cargo refuses a manifest whose targets are missing, and would
# break whenever one is added.) --locked builds exactly the versions in Cargo.lock, those
# the tests ran with. The binary is copied out of the cache mount, which is not part of
# the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin trailsift \
 && install -D -m 0755 target/release/trailsift /out/trailsift

# ---------------------------------------------------------------------------------------
# Final stage: debian:bookworm-slim rather than gcr.io/distroless/cc-debian12. Distroless
# would save about 50 MB, but bookworm-slim is the builder's own Debian release (glibc
# matches by construction, not by two vendors' release cadence), gives uid 10001 a real
# account with a home directory (where a mounted ~/.aws/config for --profile is looked
# up), and has a shell for `docker run --entrypoint sh` when a job misbehaves.
FROM debian:bookworm-slim

# ca-certificates: S3 over HTTPS verifies against the system trust store (rustls with
# rustls-native-certs reads /etc/ssl/certs), and there is no other one in the image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin trailsift

COPY --from=build /out/trailsift /usr/local/bin/trailsift

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/trailsift

# The arguments are trailsift's: `docker run IMAGE analyze ...`, and the job definitions
# pass `analyze` or `merge`. trailsift runs as PID 1, with no init: the kernel gives PID 1
# no default action for SIGTERM, so unless trailsift handles it, Batch and Kubernetes end
# a cancelled job with SIGKILL after their grace period (30 s by default). That is safe:
# an S3 object appears only once its upload completes, so a killed shard leaves no
# half-written partial, and a retried shard simply runs again and overwrites it.
ENTRYPOINT ["trailsift"]
CMD ["--help"]
