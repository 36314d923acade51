{%- import "settings.j2" as settings_of with context -%}
{%- import "bootstrap.j2" as bootstrap with context -%}
{%- set gar = cookiecutter.container_registry == "gar" -%}
{%- set run = cookiecutter.deploy_target == "cloud-run" -%}
{%- set branches = deploy_branches(cookiecutter) -%}
{%- set repository = cookiecutter.github_owner ~ "/" ~ cookiecutter.project_slug -%}
#!/usr/bin/env bash
# Sets up Google Cloud for this repository's pipeline, once, as an owner of the project.
# Run it again at any time: what exists is kept.
#
#   GCP_PROJECT_ID=my-project GCP_REGION=europe-west1 scripts/bootstrap_gcp.sh
#
# It makes, where missing: a Workload Identity pool and GitHub provider that accept only this
# repository's tokens ({{ repository }}){% if gar %}; the Artifact Registry repository;
# a push service account that only the deploy branches and v* tags may use; a read-only one
# for the nightly scan and the deploys' provenance check, for the deploy branches only{% endif %}{% if run %}; per environment a deploy service
# account that only repo:{{ repository }}:environment:<name> may use; the runtime service
# account of the service and the secret settings in Secret Manager ({{ settings_of.secret_names() }}:
# SECRET_KEY generated, the others given in the environment){% endif %}. Then it prints the GitHub
# variables to set, as `gh variable set` commands.
set -euo pipefail

: "${GCP_PROJECT_ID:?set GCP_PROJECT_ID}" "${GCP_REGION:?set GCP_REGION, e.g. europe-west1}"
APP={{ cookiecutter.project_slug }}
REPOSITORY={{ repository }}
POOL=github-$APP
# Who may use which service account: a token's ref says whether it may push (the deploy
# branches and v* tags); its subject names the environment of a deploy job.
CAN_PUSH="assertion.ref in [{% for branch in branches %}'refs/heads/{{ branch }}'{% if not loop.last %}, {% endif %}{% endfor %}] || assertion.ref.startsWith('refs/tags/v')"
READ_SUBJECTS=({% for branch in branches %}"repo:$REPOSITORY:ref:refs/heads/{{ branch }}"{% if not loop.last %} {% endif %}{% endfor %})
{%- if run %}
# Each environment: its GitHub name and the name its resources take.
{{- bootstrap.environments() }}
{%- endif %}

gcloud() { command gcloud --project "$GCP_PROJECT_ID" --quiet "$@"; }
log() { echo "bootstrap: $*" >&2; }
variables=()  # "NAME VALUE [ENVIRONMENT]", printed at the end

number=$(gcloud projects describe "$GCP_PROJECT_ID" --format 'value(projectNumber)')
pool="projects/$number/locations/global/workloadIdentityPools/$POOL"
gcloud services enable iamcredentials.googleapis.com sts.googleapis.com \
  {% if gar %}artifactregistry.googleapis.com {% endif %}{% if run %}run.googleapis.com secretmanager.googleapis.com{% endif %}

if ! gcloud iam workload-identity-pools describe "$POOL" --location global >/dev/null 2>&1; then
  log "creating the workload identity pool $POOL"
  gcloud iam workload-identity-pools create "$POOL" --location global \
    --display-name "GitHub: $REPOSITORY"
fi
if ! gcloud iam workload-identity-pools providers describe github --location global \
  --workload-identity-pool "$POOL" >/dev/null 2>&1; then
  log "creating its provider for GitHub's tokens of $REPOSITORY only"
  gcloud iam workload-identity-pools providers create-oidc github --location global \
    --workload-identity-pool "$POOL" --issuer-uri https://token.actions.githubusercontent.com \
    --attribute-condition "assertion.repository == '$REPOSITORY'" \
    --attribute-mapping "^;^google.subject=assertion.sub;attribute.can_push=($CAN_PUSH) ? 'yes' : 'no'"
fi
provider="$pool/providers/github"

# account NAME MEMBER...: a service account that each MEMBER may act as; prints its e-mail.
account() {
  local name=$1 email="$1@$GCP_PROJECT_ID.iam.gserviceaccount.com" member
  shift
  if [ -n "${name:30}" ]; then  # longer than GCP's 30 characters
    echo "bootstrap: service account name $name is longer than 30 characters" >&2
    exit 1
  fi
  if ! gcloud iam service-accounts describe "$email" >/dev/null 2>&1; then
    log "creating the service account $name"
    gcloud iam service-accounts create "$name" --display-name "$name" >/dev/null
  fi
  for member in "$@"; do
    gcloud iam service-accounts add-iam-policy-binding "$email" \
      --role roles/iam.workloadIdentityUser --member "$member" >/dev/null
  done
  echo "$email"
}
{%- if gar %}

: "${GAR_LOCATION:=$GCP_REGION}"
if ! gcloud artifacts repositories describe "$APP" --location "$GAR_LOCATION" >/dev/null 2>&1; then
  log "creating the Artifact Registry repository $APP"
  gcloud artifacts repositories create "$APP" --location "$GAR_LOCATION" \
    --repository-format docker
fi
push=$(account "$APP-push" "principalSet://iam.googleapis.com/$pool/attribute.can_push/yes")
read=$(account "$APP-read" "${READ_SUBJECTS[@]/#/principal://iam.googleapis.com/$pool/subject/}")
gcloud artifacts repositories add-iam-policy-binding "$APP" --location "$GAR_LOCATION" \
  --role roles/artifactregistry.writer --member "serviceAccount:$push" >/dev/null
gcloud artifacts repositories add-iam-policy-binding "$APP" --location "$GAR_LOCATION" \
  --role roles/artifactregistry.reader --member "serviceAccount:$read" >/dev/null
variables+=(
  "GCP_PROJECT_ID $GCP_PROJECT_ID" "GAR_LOCATION $GAR_LOCATION" "GAR_REPOSITORY $APP"
  "GCP_WORKLOAD_IDENTITY_PROVIDER $provider" "GCP_SERVICE_ACCOUNT $push"
  "GCP_READ_SERVICE_ACCOUNT $read"
)
{%- endif %}
{%- if run %}

# The service runs as its own account, which alone reads its secrets.
runtime="$APP-run@$GCP_PROJECT_ID.iam.gserviceaccount.com"
if ! gcloud iam service-accounts describe "$runtime" >/dev/null 2>&1; then
  gcloud iam service-accounts create "$APP-run" --display-name "$APP (Cloud Run)" >/dev/null
fi
for name in "${SECRETS[@]}"; do
  secret="$APP-$(tr '[:upper:]_' '[:lower:]-' <<<"$name")"
  if ! gcloud secrets describe "$secret" >/dev/null 2>&1; then
    if [ "$name" = SECRET_KEY ]; then
      value=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    else
      value=${!name:-}
    fi
    if [ -z "$value" ]; then
      log "needs a person: $name; run again with $name=... set"
      continue
    fi
    log "storing $name in Secret Manager as $secret"
    printf '%s' "$value" | gcloud secrets create "$secret" --replication-policy automatic \
      --data-file - >/dev/null
  fi
  gcloud secrets add-iam-policy-binding "$secret" --role roles/secretmanager.secretAccessor \
    --member "serviceAccount:$runtime" >/dev/null
done

for entry in "${ENVIRONMENTS[@]}"; do
  read -r environment label <<<"$entry"
  deployer=$(account "$APP-$label" \
    "principal://iam.googleapis.com/$pool/subject/repo:$REPOSITORY:environment:$environment")
  gcloud projects add-iam-policy-binding "$GCP_PROJECT_ID" --role roles/run.developer \
    --member "serviceAccount:$deployer" --condition None >/dev/null
  gcloud iam service-accounts add-iam-policy-binding "$runtime" \
    --role roles/iam.serviceAccountUser --member "serviceAccount:$deployer" >/dev/null
  variables+=(
    "GCP_WORKLOAD_IDENTITY_PROVIDER $provider $environment"
    "GCP_SERVICE_ACCOUNT $deployer $environment"
    "GCP_REGION $GCP_REGION $environment"
    "CLOUD_RUN_SERVICE $APP $environment"
  )
done
log "needs a person: the first revision of the service, e.g."
log "  gcloud run deploy $APP --image IMAGE --region $GCP_REGION --service-account $runtime"
{%- endif %}

{{ bootstrap.print_variables() }}
