#!/usr/bin/env bash
# Installs what building and testing the container image needs on a Debian 12
# host, only what is missing: podman with the runc runtime and conmon, the
# CNI plugins podman links against, catatonit (`podman run --init` and the pod
# infra image of `podman kube play`), uidmap, and mmdebstrap for
# local-base.sh. Runs `apt-get update` once, before the first install, as root
# (or through sudo), without prompts. Prints nothing when all is there.
set -euo pipefail

# command (or file) -> Debian package
tools=(
  podman:podman
  runc:runc
  conmon:conmon
  /usr/lib/cni/host-local:containernetworking-plugins
  /usr/libexec/podman/catatonit:catatonit
  newuidmap:uidmap
  mmdebstrap:mmdebstrap
)

export PATH="$PATH:/usr/sbin:/sbin"
need=()
for entry in "${tools[@]}"; do
  what=${entry%%:*}
  package=${entry#*:}
  case "$what" in
    /*) [ -e "$what" ] && continue ;;
    *) command -v "$what" >/dev/null 2>&1 && continue ;;
  esac
  need+=("$package")
done
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-host-tools: installing ${need[*]} with apt" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
