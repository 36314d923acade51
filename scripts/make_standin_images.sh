#!/usr/bin/env bash
# Stand-in base images, for machines that cannot pull the real ones (no Docker Hub, no gcr.io).
#
#   scripts/make_standin_images.sh IMAGE...
#   e.g. scripts/make_standin_images.sh python:3.13-slim gcr.io/distroless/python3-debian13:nonroot
#   scripts/make_standin_images.sh --mirror   (prints the Debian mirror it would use)
#
# Each IMAGE the engine already has, or can pull, is left alone: stand-ins are the last resort.
# The others are made offline from Debian trixie (whose Python is 3.13) and imported under
# IMAGE itself, Python at the paths the real image has, so a Dockerfile builds unchanged:
#   python:3.13-slim*                        python in /usr/local/bin, pip, no PEP 668 marker
#   gcr.io/distroless/python3-debian13*      /usr/bin/python3, no shell, no pip, user nonroot
# The debootstrap root filesystem is cached in .cache/standin/: making images again skips it.
# Debian comes from the mirror this machine's apt already uses (apt-cache policy), through
# apt's proxy if it has one; DEBIAN_MIRROR overrides it.
# CONTAINER_ENGINE chooses the engine (default: podman). Needs root (debootstrap, chroot).
set -euo pipefail

ENGINE="${CONTAINER_ENGINE:-podman}"
CACHE="$(cd "$(dirname "$0")/.." && pwd)/.cache/standin"
SUITE=trixie
PACKAGES=python3,python3-venv,python3-pip,ca-certificates
STANDIN_PYTHON=3.13
ROOTFS_TAR="$CACHE/$SUITE-$(printf %s "$PACKAGES" | sha256sum | cut -c1-12).tar"

log() { echo "make_standin_images: $*" >&2; }

# The name an engine stores: Docker Hub's short names get their registry and library/.
qualified() {
  local name="$1" first="${1%%/*}"
  if [[ "$name" != */* ]]; then
    name="docker.io/library/$name"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
    name="docker.io/$name"
  fi
  echo "$name"
}

# The Debian archive apt uses here (not its security archive): the stand-ins then work behind
# whatever mirror or proxy this machine is set up for, and no host is written in this file.
apt_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local mirror
  mirror=$(apt-cache policy 2>/dev/null | awk '
    $1 ~ /^[0-9]+$/ && $2 ~ /^[a-z]+:\/\// { uri = $2 }
    /release / && /l=Debian,/ && uri != "" { print uri; exit }')
  if [ -z "$mirror" ]; then
    log "no Debian archive in apt's sources (apt-cache policy): run apt-get update, or set DEBIAN_MIRROR"
    return 1
  fi
  echo "$mirror"
}

# debootstrap once and keep the tarball.
rootfs_tar() {
  if [ ! -s "$ROOTFS_TAR" ]; then
    local dir mirror proxy=""
    mirror=$(apt_mirror)
    # debootstrap reads the proxy from the environment, not from apt's configuration.
    eval "$(apt-config shell proxy Acquire::http::Proxy)"
    if [ -n "$proxy" ] && [ -z "${http_proxy:-}" ]; then
      export http_proxy="$proxy"
    fi
    dir="$(mktemp -d "$WORK/rootfs.XXXXXX")"
    log "debootstrap $SUITE ($PACKAGES) from $mirror into $dir"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$mirror" >&2
    # What a container image leaves out: package lists and caches, documentation.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/{doc,man,info,locale}/*
    tar -C "$dir" --numeric-owner -cf "$ROOTFS_TAR.partial" .
    mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
    rm -rf "$dir"
  fi
}

# This machine's extra CAs (a TLS-inspecting proxy's): without them pip in a build cannot
# reach PyPI.
add_local_cas() {
  local root="$1"
  if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
    cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  fi
  # The caller's TMPDIR (the tests keep podman's there) does not exist inside the chroot.
  TMPDIR=/tmp chroot "$root" update-ca-certificates >/dev/null
}

python_slim() {
  local root="$1" name
  for name in python python3 "python$STANDIN_PYTHON"; do
    ln -sf "/usr/bin/python$STANDIN_PYTHON" "$root/usr/local/bin/$name"
  done
  ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
  ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip3"
  # python.org's Python in the real image is not Debian-managed: pip installs where told.
  rm -f "$root/usr/lib/python$STANDIN_PYTHON/EXTERNALLY-MANAGED"
  CHANGES=(
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
    "ENV LANG=C.UTF-8"
    'CMD ["python3"]'
  )
}

distroless_python() {
  local root="$1" tag="$2"
  ln -sf "python$STANDIN_PYTHON" "$root/usr/bin/python"
  # As in distroless: no shell, no pip.
  rm -f "$root"/usr/bin/{sh,bash,rbash,dash} "$root"/usr/bin/pip*
  rm -rf "$root"/usr/lib/python3/dist-packages/{pip,setuptools,wheel}*
  echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" >>"$root/etc/passwd"
  echo "nonroot:x:65532:" >>"$root/etc/group"
  install -d -o 65532 -g 65532 "$root/home/nonroot"
  CHANGES=(
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "ENV LANG=C.UTF-8"
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
    "ENTRYPOINT [\"/usr/bin/python$STANDIN_PYTHON\"]"
  )
  if [[ "$tag" == *nonroot* ]]; then
    CHANGES+=("USER 65532" "WORKDIR /home/nonroot")
  fi
}

declare -A MADE  # recipe -> the image made with it in this run: tagged, not made again

make_standin() {
  local image="$1" recipe root change
  local args=()
  case "$image" in
    docker.io/library/python:"$STANDIN_PYTHON"-slim*) recipe=python_slim ;;
    gcr.io/distroless/python3-debian13*) recipe=distroless_python ;;
    docker.io/library/python:*)
      log "$image: Debian $SUITE's Python is $STANDIN_PYTHON, so no stand-in for another version;"
      log "bake with python_versions whose newest is $STANDIN_PYTHON to test offline"
      return 1
      ;;
    *)
      log "$image: no stand-in recipe for this image"
      return 1
      ;;
  esac
  local key="$recipe"
  [ "$recipe" = python_slim ] || key="$recipe:${image##*:}"  # distroless tags differ in USER
  if [ -n "${MADE[$key]:-}" ]; then
    "$ENGINE" tag "${MADE[$key]}" "$image"
    return
  fi
  rootfs_tar
  root="$(mktemp -d "$WORK/image.XXXXXX")"
  tar -C "$root" --numeric-owner -xpf "$ROOTFS_TAR"
  add_local_cas "$root"
  "$recipe" "$root" "${image##*:}"
  # Says what it is, here and in every image built on it.
  CHANGES+=("LABEL flask-cicd.stand-in=\"Debian $SUITE by debootstrap, made by $(basename "$0")\"")
  for change in "${CHANGES[@]}"; do
    args+=(--change "$change")
  done
  log "importing $image (a stand-in built from Debian $SUITE)"
  tar -C "$root" --numeric-owner -c . | "$ENGINE" import --quiet "${args[@]}" - "$image" >/dev/null
  rm -rf "$root"
  MADE[$key]="$image"
}

[ $# -gt 0 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
if [ "$1" = --mirror ]; then
  apt_mirror
  exit
fi
# One run at a time: parallel test workers wait here, then find their images made.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
WORK="$(mktemp -d "$CACHE/work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
for name in "$@"; do
  image="$(qualified "$name")"
  if "$ENGINE" image inspect "$image" >/dev/null 2>&1; then
    continue
  fi
  if "$ENGINE" pull --quiet "$image" >/dev/null 2>&1; then
    log "pulled $image"
    continue
  fi
  make_standin "$image"
done
