{%- import "settings.j2" as settings_of with context -%}
{%- import "bootstrap.j2" as bootstrap with context -%}
{%- set acr = cookiecutter.container_registry == "acr" -%}
{%- set webapp = cookiecutter.deploy_target == "azure-webapp" -%}
{%- set branches = deploy_branches(cookiecutter) -%}
{%- set repository = cookiecutter.github_owner ~ "/" ~ cookiecutter.project_slug -%}
#!/usr/bin/env bash
# Sets up Azure for this repository's pipeline, once, as an owner of the subscription.
# Run it again at any time: what exists is kept.
#
#   AZURE_RESOURCE_GROUP=my-group AZURE_LOCATION=westeurope scripts/bootstrap_azure.sh
#
# It makes, where missing, Entra ID applications that GitHub's tokens sign in as, each with
# federated credentials for exactly the subjects that use it:{% if acr %}
#   - the container registry (ACR_NAME, default {{ cookiecutter.project_slug | replace("-", "") }}), and a push identity with
#     AcrPush for the deploy branches; a read-only one (AcrPull) for the nightly
#     scan and the deploys' provenance check, also for the deploy branches;{% endif %}{% if webapp %}
#   - per environment a deploy identity for repo:{{ repository }}:environment:<name>, with
#     Website Contributor on the web app WEBAPP_<ENVIRONMENT> (default {{ cookiecutter.project_slug }}-<name>)
#     when it exists, whose slots get the secret settings ({{ settings_of.secret_names() }}:
#     SECRET_KEY generated, the others given in the environment) and WEBSITES_PORT;{% endif %}
# then prints the GitHub variables to set, as `gh variable set` commands.
# Azure matches a federated subject exactly: v* tags cannot be trusted by pattern here, so a
# release tag's build needs a flexible federated credential, made by a person (see README).
set -euo pipefail

: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP}" "${AZURE_LOCATION:?set AZURE_LOCATION, e.g. westeurope}"
APP={{ cookiecutter.project_slug }}
REPOSITORY={{ repository }}
ISSUER=https://token.actions.githubusercontent.com
PUSH_SUBJECTS=({% for branch in branches %}"repo:$REPOSITORY:ref:refs/heads/{{ branch }}"{% if not loop.last %} {% endif %}{% endfor %})
{%- if webapp %}
# Each environment: its GitHub name and the name its resources take.
{{- bootstrap.environments() }}
{%- endif %}

az() { command az --only-show-errors "$@"; }
log() { echo "bootstrap: $*" >&2; }
variables=()  # "NAME VALUE [ENVIRONMENT]", printed at the end

subscription=$(az account show --query id --output tsv)
tenant=$(az account show --query tenantId --output tsv)
if [ "$(az group exists --name "$AZURE_RESOURCE_GROUP")" != true ]; then
  log "creating the resource group $AZURE_RESOURCE_GROUP"
  az group create --name "$AZURE_RESOURCE_GROUP" --location "$AZURE_LOCATION" --output none
fi
variables+=("AZURE_TENANT_ID $tenant" "AZURE_SUBSCRIPTION_ID $subscription")

# identity NAME SUBJECT...: an application GitHub's tokens with these subjects sign in as;
# prints its client id.
identity() {
  local name=$1 client subject credential
  shift
  client=$(az ad app list --display-name "$name" --query '[0].appId' --output tsv)
  if [ -z "$client" ]; then
    log "creating the Entra ID application $name"
    client=$(az ad app create --display-name "$name" --query appId --output tsv)
    az ad sp create --id "$client" --output none
  fi
  for subject in "$@"; do
    credential=$(tr -c 'A-Za-z0-9-' '-' <<<"${subject#repo:"$REPOSITORY":}" | cut -c1-120)
    if [ -z "$(az ad app federated-credential list --id "$client" \
      --query "[?subject=='$subject'].name" --output tsv)" ]; then
      az ad app federated-credential create --id "$client" --output none --parameters \
        "{\"name\": \"${credential%-}\", \"issuer\": \"$ISSUER\", \"subject\": \"$subject\", \"audiences\": [\"api://AzureADTokenExchange\"]}"
    fi
  done
  echo "$client"
}

# grant CLIENT ROLE SCOPE
grant() {
  az role assignment create --assignee "$1" --role "$2" --scope "$3" --output none
}
{%- if acr %}

registry=${ACR_NAME:-{{ cookiecutter.project_slug | replace("-", "") }}}
if ! az acr show --name "$registry" --output none 2>/dev/null; then
  log "creating the container registry $registry"
  az acr create --name "$registry" --resource-group "$AZURE_RESOURCE_GROUP" --sku Basic \
    --location "$AZURE_LOCATION" --output none
fi
registry_id=$(az acr show --name "$registry" --query id --output tsv)
push=$(identity "$APP-github-push" "${PUSH_SUBJECTS[@]}")
grant "$push" AcrPush "$registry_id"
read=$(identity "$APP-github-read" "${PUSH_SUBJECTS[@]}")
grant "$read" AcrPull "$registry_id"
variables+=("ACR_NAME $registry" "AZURE_CLIENT_ID $push" "AZURE_READ_CLIENT_ID $read")
{%- endif %}
{%- if webapp %}

for entry in "${ENVIRONMENTS[@]}"; do
  read -r environment label <<<"$entry"
  deployer=$(identity "$APP-deploy-$label" "repo:$REPOSITORY:environment:$environment")
  site_variable="WEBAPP_$(tr '[:lower:]-' '[:upper:]_' <<<"$label")"
  site=${!site_variable:-$APP-$label}
  variables+=(
    "AZURE_CLIENT_ID $deployer $environment"
    "AZURE_WEBAPP_NAME $site $environment"
    "AZURE_RESOURCE_GROUP $AZURE_RESOURCE_GROUP $environment"
  )
  if ! site_id=$(az webapp show --name "$site" --resource-group "$AZURE_RESOURCE_GROUP" \
    --query id --output tsv 2>/dev/null); then
    log "needs a person: the web app $site (a plan with slots, a slot named staging); run again"
    continue
  fi
  grant "$deployer" "Website Contributor" "$site_id"
  for slot in "" staging; do  # production, then the staging slot: the same settings
    where=(--name "$site" --resource-group "$AZURE_RESOURCE_GROUP" ${slot:+--slot "$slot"})
    names=$(az webapp config appsettings list "${where[@]}" --query '[].name' --output tsv)
    settings=(WEBSITES_PORT=8000)
    for name in "${SECRETS[@]}"; do
      grep -qx "$name" <<<"$names" && continue
      if [ "$name" = SECRET_KEY ]; then
        settings+=("$name=$(python3 -c 'import secrets; print(secrets.token_hex(32))')")
      elif [ -n "${!name:-}" ]; then
        settings+=("$name=${!name}")
      else
        log "needs a person: the app setting $name of $site; run again with $name=... set"
      fi
    done
    az webapp config appsettings set "${where[@]}" --settings "${settings[@]}" --output none
  done
done
{%- endif %}

{{ bootstrap.print_variables() }}
