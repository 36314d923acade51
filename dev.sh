#!/usr/bin/env bash
# Everything needed to work on the template, from a fresh machine:
#   bash dev.sh bake     bake the defaults into build/flask-service
#   bash dev.sh test     install what the tests need, then run them (extra args go to pytest)
#   bash dev.sh refresh  re-lock the generated project's dependencies, refresh the action pins
#                        with their metadata and kubectl (needs PyPI and GitHub; review the diff)
set -euo pipefail
cd "$(dirname "$0")"

setup_venv() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    # The pip a venv starts with can be years old; the pinned one resolves in half the CPU time.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$(grep '^pip==' requirements-dev.txt)"
  fi
  local report=.venv/pip-report.json
  # pip compiles the bytecode file by file: compileall does it on every core, and only after an install.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile --report "$report" \
    -r requirements-dev.txt
  if .venv/bin/python -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["install"])' "$report"; then
    # A file that does not compile (one for another Python) is left for import time, as pip leaves it.
    .venv/bin/python -m compileall -q -j 0 .venv/lib >/dev/null || true
  fi
}

# Debian packages for the container, load and deploy tests; skipped where they are all present.
DEBIAN_PACKAGES=(wrk jq curl)
# Where no docker daemon answers, the container tests use podman: as root, with runc, netavark
# and iptables for published ports; debootstrap makes stand-in base images when none can be pulled.
docker info >/dev/null 2>&1 || DEBIAN_PACKAGES+=(podman runc netavark iptables debootstrap)
# The missing ones install in the background while pip works (both mostly wait on the network);
# `wait "$system_setup"` before the tests.
system_setup=""
start_setup_system() {
  local missing=()
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
    sudo -v  # the password now, in the foreground
  fi
  {
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } &
  system_setup=$!
}

command="${1:-}"
shift || true
case "$command" in
  bake)
    setup_venv
    .venv/bin/cookiecutter --no-input --overwrite-if-exists . -o build "$@"
    ;;
  test)
    start_setup_system
    setup_venv
    [ -z "$system_setup" ] || wait "$system_setup"
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
