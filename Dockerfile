# syntax=docker/dockerfile:1
# The speaker as one `deno compile` executable on distroless, run as nonroot, with no shell.
# Build: docker build -t speaker:0.1.0 .   (needs Deno's servers for denort; see README "Building")

FROM denoland/deno:debian-2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY lib ./lib
COPY tools/permissions.ts ./tools/permissions.ts
# The runtime permission flags come from the `speaker` task in deno.json, the one place they are listed.
RUN deno install --frozen --entrypoint main.ts \
 && deno compile $(deno run --allow-read tools/permissions.ts) --output /out/speaker main.ts \
 && /out/speaker --version
# Passive mode binds port 179 as nonroot: CAP_NET_BIND_SERVICE as a file capability, effective where the
# container keeps that capability (manifests/daemonset.yaml adds it and allows privilege escalation).
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /out/speaker

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/speaker /usr/local/bin/speaker
ENV DENO_NO_UPDATE_CHECK=1 RUST_BACKTRACE=0
USER 65532:65532
EXPOSE 10667
ENTRYPOINT ["/usr/local/bin/speaker"]
