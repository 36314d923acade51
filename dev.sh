#!/usr/bin/env bash
# Everything needed to work on the template, from a fresh machine:
#   bash dev.sh bake     bake the defaults into build/flask-service
#   bash dev.sh test     install what the tests need, then run them (extra args go to pytest)
#   bash dev.sh refresh  re-lock the generated project's dependencies, refresh the action pins
#                        with their metadata and kubectl (needs PyPI and GitHub; review the diff)
set -euo pipefail
cd "$(dirname "$0")"

setup_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
}

# Debian packages for the container, load and deploy tests; skipped where they are all present.
DEBIAN_PACKAGES=(wrk jq curl)
# Where no docker daemon answers, the container tests use podman: as root, with runc, netavark
# and iptables for published ports; debootstrap makes stand-in base images when none can be pulled.
docker info >/dev/null 2>&1 || DEBIAN_PACKAGES+=(podman runc netavark iptables debootstrap)
setup_system() {
  local missing=()
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

command="${1:-}"
shift || true
case "$command" in
  bake)
    setup_venv
    .venv/bin/cookiecutter --no-input --overwrite-if-exists . -o build "$@"
    ;;
  test)
    setup_venv
    setup_system
    .venv/bin/python -m pytest -n auto "$@"
    ;;
  refresh)
    setup_venv
    .venv/bin/python -m scripts.lock_dependencies
    .venv/bin/python -m scripts.import_names
    .venv/bin/python -m scripts.refresh_pins "$@"
    ;;
  *)
    echo "usage: bash dev.sh bake|test|refresh [args]" >&2
    exit 2
    ;;
esac
