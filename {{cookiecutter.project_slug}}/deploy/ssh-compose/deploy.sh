{%- import "settings.j2" as settings_of with context -%}
#!/usr/bin/env bash
# Deploy the service to a single host over SSH with docker compose, keeping the release it
# replaces for a rollback. Run by .github/workflows/deploy.yml; a person can run it too.
#   deploy.sh release IMAGE@sha256:DIGEST   pull it, start it, wait for it to be healthy
#   deploy.sh rollback                      start the release before it again
# From the environment: SSH_HOST, SSH_USER, DEPLOY_PATH (default /srv/{{ cookiecutter.project_slug }}),
# SSH_KEY and SSH_KNOWN_HOSTS (files; default $RUNNER_TEMP/ssh/key and .../known_hosts).
set -euo pipefail

: "${SSH_HOST:?set SSH_HOST}" "${SSH_USER:?set SSH_USER}"
deploy_path=${DEPLOY_PATH:-/srv/{{ cookiecutter.project_slug }}}
ssh_dir=${RUNNER_TEMP:-$HOME}/ssh
# Only a host whose key is already known: never trust on first use.
ssh_options=(
  -o BatchMode=yes
  -o StrictHostKeyChecking=yes
  -o "UserKnownHostsFile=${SSH_KNOWN_HOSTS:-$ssh_dir/known_hosts}"
  -i "${SSH_KEY:-$ssh_dir/key}"
)
here=$(dirname "$0")

# Runs a script on the host, in the deploy folder, with the given arguments quoted for it.
on_host() {
  local script=$1
  shift
  # shellcheck disable=SC2029  # expanded here on purpose: the values, quoted for the host
  ssh "${ssh_options[@]}" "$SSH_USER@$SSH_HOST" \
    "cd $(printf '%q' "$deploy_path") && bash -s -- $(printf '%q ' "$@")" <<<"$script"
}

case "${1:-}" in
  release)
    reference=${2:?usage: deploy.sh release IMAGE@sha256:DIGEST}
    if ! [[ "$reference" =~ ^[a-z0-9./:_-]+@sha256:[0-9a-f]{64}$ ]]; then
      echo "deploy.sh: '$reference' is not IMAGE@sha256:DIGEST" >&2
      exit 2
    fi
    scp "${ssh_options[@]}" "$here/compose.yaml" "$SSH_USER@$SSH_HOST:$deploy_path/compose.yaml"
    # shellcheck disable=SC2016  # the script runs on the host: $1 expands there
    on_host '
      set -euo pipefail
      # What runs now is what a rollback returns to, however far this release gets.
      if [ -f release.env ]; then cp release.env release.env.previous; fi
      # The secret settings (see the README), before anything is pulled or started.
      for name in {{ settings_of.secret_names() }}; do
        if ! grep -q "^$name=." app.env 2>/dev/null; then
          echo "$PWD/app.env on the host must set $name=..." >&2
          exit 1
        fi
      done
      printf "IMAGE=%s\n" "$1" > release.env.next
      docker compose --env-file release.env.next pull --quiet
      mv release.env.next release.env
      docker compose --env-file release.env up --detach --wait --wait-timeout 120
      echo "running $1"
    ' "$reference"
    ;;
  rollback)
    # shellcheck disable=SC2016  # the script runs on the host
    on_host '
      set -euo pipefail
      if [ ! -f release.env.previous ]; then
        echo "no previous release on this host: nothing to roll back to" >&2
        exit 1
      fi
      cp release.env.previous release.env
      docker compose --env-file release.env up --detach --wait --wait-timeout 120
      echo "rolled back to $(sed -n "s/^IMAGE=//p" release.env)"
    '
    ;;
  *)
    echo "usage: deploy.sh release IMAGE@sha256:DIGEST | deploy.sh rollback" >&2
    exit 2
    ;;
esac
