#!/usr/bin/env bash
# Builds a stand-in for docker.io/library/node:20-bookworm-slim on a machine
# that reaches Debian's mirror and the npm registry but no image registry, and
# prints its name as the last line of output:
#
#   base=$(deployment/container/local-base.sh | tail -n 1)
#   podman build --network host --build-arg NODE_IMAGE="$base" -f deployment/container/Containerfile .
#
# The image is Debian bookworm (mmdebstrap --variant=minbase) with this
# machine's Node.js 20 laid out as the official image has it: node, npm, npx
# and corepack in /usr/local/bin, npm and corepack under
# /usr/local/lib/node_modules, Node's headers under /usr/local/include/node,
# a `node` user with uid 1000, CMD ["node"]. apt sources are bookworm,
# bookworm-updates and bookworm-security (Debian ships chromium through the
# last). Like Debian's slim images, dpkg leaves out documentation, manual
# pages and translations, and apt keeps no downloaded packages or caches in
# the image. When this machine's npm trusts an extra CA bundle (cafile), the
# bundle goes into the image's global npmrc, so npm in a build step trusts
# what npm on the host trusts.
#
# Idempotent: the tag carries a hash of every input (this script, the node
# binary, npm, corepack, headers, CA bundle, Debian suite and mirror); an
# existing image with that tag is reused. Needs root, mmdebstrap and podman
# (deployment/container/install-host-tools.sh). Progress goes to stderr.
#
# Environment: CONTAINERS_CONF (default: containers.conf beside this script),
# DEBIAN_MIRROR (default http://deb.debian.org), NODE_BIN (default: node on PATH),
# BASE_IMAGE_REPO (default localhost/edu-agents/node-base).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org}"
suite=bookworm
repo="${BASE_IMAGE_REPO:-localhost/edu-agents/node-base}"
log() { echo "local-base: $*" >&2; }

node_bin=$(readlink -f "${NODE_BIN:-$(command -v node)}")
node_version=$("$node_bin" --version)
case "$node_version" in
  v20.*) ;;
  *) echo "local-base: $node_bin is Node.js $node_version; the image's base is Node.js 20 (set NODE_BIN)" >&2; exit 2 ;;
esac
# npm-cli.js lives in <prefix>/lib/node_modules/npm/bin; the prefix also holds corepack and include/node.
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
modules_dir=$(dirname "$npm_dir")
prefix=$(dirname "$(dirname "$modules_dir")")
headers_dir="$prefix/include/node"
[ -f "$headers_dir/node.h" ] || { echo "local-base: no Node.js headers at $headers_dir (native addons are built against them)" >&2; exit 2; }
cafile=$(npm config get cafile)
[ "$cafile" != null ] && [ -f "$cafile" ] || cafile=""

digest_tree() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64; }
inputs_hash=$(
  {
    sha256sum "$0" "$node_bin" | cut -c1-64
    digest_tree "$npm_dir"
    [ -d "$modules_dir/corepack" ] && digest_tree "$modules_dir/corepack"
    digest_tree "$headers_dir"
    [ -n "$cafile" ] && sha256sum "$cafile" | cut -c1-64
    echo "$suite $mirror"
  } | sha256sum | cut -c1-12
)
image="$repo:${node_version#v}-$suite-slim-$inputs_hash"

if podman image exists "$image"; then
  log "reusing $image"
  echo "$image"
  exit 0
fi

log "building $image from $mirror ($suite, minbase) and $node_bin ($node_version)"
q() { printf '%q' "$1"; }
hooks=(
  --customize-hook="mkdir -p \"\$1/usr/local/bin\" \"\$1/usr/local/lib/node_modules\" \"\$1/usr/local/include\" \"\$1/usr/local/etc\""
  --customize-hook="cp $(q "$node_bin") \"\$1/usr/local/bin/node\""
  --customize-hook="cp -a $(q "$npm_dir") \"\$1/usr/local/lib/node_modules/npm\""
  --customize-hook="cp -a $(q "$headers_dir") \"\$1/usr/local/include/node\""
  --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\""
  --customize-hook="chroot \"\$1\" groupadd --gid 1000 node && chroot \"\$1\" useradd --uid 1000 --gid node --shell /bin/bash --create-home node"
)
if [ -d "$modules_dir/corepack" ]; then
  hooks+=(--customize-hook="cp -a $(q "$modules_dir/corepack") \"\$1/usr/local/lib/node_modules/corepack\" && ln -s ../lib/node_modules/corepack/dist/corepack.js \"\$1/usr/local/bin/corepack\"")
fi
if [ -n "$cafile" ]; then
  hooks+=(--customize-hook="cp $(q "$cafile") \"\$1/usr/local/etc/npm-ca.crt\" && echo cafile=/usr/local/etc/npm-ca.crt > \"\$1/usr/local/etc/npmrc\"")
fi

slim=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --aptopt='Acquire::Languages "none"'
  --aptopt='Acquire::GzipIndexes "true"'
  --aptopt='APT::AutoRemove::SuggestsImportant "false"'
)
# Not during the bootstrap, which installs from the downloaded packages.
hooks+=(--customize-hook="printf '%s\\n' 'APT::Keep-Downloaded-Packages \"false\";' 'Dir::Cache::pkgcache \"\";' 'Dir::Cache::srcpkgcache \"\";' > \"\$1/etc/apt/apt.conf.d/docker-clean\" && rm -f \"\$1\"/var/cache/apt/*.bin")

# `podman import` reads the root file system as a tar stream from stdin. It
# imports whatever arrives, so the image gets its real name only once
# mmdebstrap has succeeded.
partial="$repo:partial-$inputs_hash"
if ! mmdebstrap --quiet --variant=minbase --format=tar "${slim[@]}" "${hooks[@]}" "$suite" - \
  "deb $mirror/debian $suite main" \
  "deb $mirror/debian $suite-updates main" \
  "deb $mirror/debian-security $suite-security main" |
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change "LABEL org.opencontainers.image.description=stand-in for node:20-bookworm-slim built by deployment/container/local-base.sh" \
    --change 'CMD ["node"]' \
    - "$partial" >&2; then
  podman rmi --force "$partial" >/dev/null 2>&1 || true
  echo "local-base: building $image failed (output above)" >&2
  exit 1
fi
podman tag "$partial" "$image"
podman untag "$image" "$partial"

log "built $image"
echo "$image"
