{%- import "settings.j2" as settings_of with context -%}
{%- import "bootstrap.j2" as bootstrap with context -%}
{%- set ecr = cookiecutter.container_registry == "ecr" -%}
{%- set ecs = cookiecutter.deploy_target == "ecs" -%}
#!/usr/bin/env bash
# Sets up AWS for this repository's pipeline, once, as an administrator of the account.
# Run it again at any time: what exists is kept, the policies are brought up to date.
#
#   AWS_REGION=eu-west-1 scripts/bootstrap_aws.sh
{%- if ecs %}
#   AWS_REGION=eu-west-1 SUBNETS=subnet-1,subnet-2 SECURITY_GROUPS=sg-1 scripts/bootstrap_aws.sh
{%- endif %}
#
# It makes, where missing:
#   - GitHub's OIDC identity provider in IAM (token.actions.githubusercontent.com);
{%- if ecr %}
#   - the ECR repository {{ cookiecutter.project_slug }};
#   - the push role, trusted only for the deploy branches and v* tags (scripts/aws/push-*.json);
#   - the read-only role of the nightly scan and the deploys' provenance check, trusted only
#     for the deploy branches (read-*.json);
{%- endif %}
{%- if ecs %}
#   - the task execution role (execution-*.json), and per environment: a deploy role trusted
#     only for repo:{{ cookiecutter.github_owner }}/{{ cookiecutter.project_slug }}:environment:<name> (<name>/deploy-*.json),
#     an ECS cluster, the secret settings in Secrets Manager and, given SUBNETS and
#     SECURITY_GROUPS, the service with its deployment circuit breaker;
{%- endif %}
# then prints the GitHub variables to set, as `gh variable set` commands.
{%- if ecs %}
# SECRET_KEY is generated; the other secret settings are stored when given in the
# environment ({{ settings_of.secret_names() }}). DESIRED_COUNT: the service's tasks (2).
{%- endif %}
# Trust and permission policies are the JSON files in scripts/aws/, reviewed like code; this
# script only fills in the account, region and cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${AWS_REGION:?set AWS_REGION, e.g. eu-west-1}"
APP={{ cookiecutter.project_slug }}
REPOSITORY={{ cookiecutter.github_owner }}/{{ cookiecutter.project_slug }}
PROVIDER=token.actions.githubusercontent.com
{%- if ecs %}
# Each environment: its GitHub name and the name its resources take.
{{- bootstrap.environments() }}
{%- endif %}

aws() { command aws --region "$AWS_REGION" --output text "$@"; }
log() { echo "bootstrap: $*" >&2; }

account=$(aws sts get-caller-identity --query Account)
variables=()  # "NAME VALUE [ENVIRONMENT]", printed at the end

# A policy file with this account, region (and cluster) filled in.
policy() {
  sed -e "s/<account>/$account/g" -e "s/<region>/$AWS_REGION/g" -e "s/<cluster>/${2:-}/g" \
    "scripts/aws/$1"
}

# role NAME TRUST PERMISSIONS [CLUSTER]: the role with exactly these policies; prints its ARN.
role() {
  local name=$1 trust=$2 permissions=$3 cluster=${4:-}
  if aws iam get-role --role-name "$name" >/dev/null 2>&1; then
    aws iam update-assume-role-policy --role-name "$name" \
      --policy-document "$(policy "$trust" "$cluster")"
  else
    log "creating the role $name"
    aws iam create-role --role-name "$name" --assume-role-policy-document \
      "$(policy "$trust" "$cluster")" --max-session-duration 3600 >/dev/null
  fi
  aws iam put-role-policy --role-name "$name" --policy-name "$name" \
    --policy-document "$(policy "$permissions" "$cluster")"
  aws iam get-role --role-name "$name" --query Role.Arn
}

provider_arn="arn:aws:iam::$account:oidc-provider/$PROVIDER"
if ! aws iam get-open-id-connect-provider --open-id-connect-provider-arn "$provider_arn" \
  >/dev/null 2>&1; then
  log "creating the OIDC identity provider $PROVIDER"
  # AWS checks GitHub's certificate itself; the thumbprint is required but not used.
  aws iam create-open-id-connect-provider --url "https://$PROVIDER" \
    --client-id-list sts.amazonaws.com \
    --thumbprint-list 6938fd4d98bab03faadb97b34396831e3780aea1 >/dev/null
fi
{%- if ecr %}

if ! aws ecr describe-repositories --repository-names "$APP" >/dev/null 2>&1; then
  log "creating the ECR repository $APP"
  # Branch tags move to each new build, so tags stay mutable; images are found by digest.
  aws ecr create-repository --repository-name "$APP" \
    --image-scanning-configuration scanOnPush=true >/dev/null
fi
variables+=("AWS_ACCOUNT_ID $account" "AWS_REGION $AWS_REGION")
variables+=("AWS_ROLE_ARN $(role "$APP-github-push" push-trust.json push-policy.json)")
variables+=("AWS_READ_ROLE_ARN $(role "$APP-github-read" read-trust.json read-policy.json)")
{%- endif %}
{%- if ecs %}

execution_role=$(role "$APP-ecs-execution" execution-trust.json execution-policy.json)
aws iam attach-role-policy --role-name "$APP-ecs-execution" --policy-arn \
  arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy

for entry in "${ENVIRONMENTS[@]}"; do
  read -r environment label <<<"$entry"
  cluster="$APP-$label"
  variables+=(
    "AWS_ROLE_ARN $(role "$APP-deploy-$label" "$environment/deploy-trust.json" \
      "$environment/deploy-policy.json" "$cluster") $environment"
    "AWS_REGION $AWS_REGION $environment"
    "ECS_CLUSTER $cluster $environment"
    "ECS_SERVICE $APP $environment"
    "ECS_EXECUTION_ROLE_ARN $execution_role $environment"
  )
  if [ "$(aws ecs describe-clusters --clusters "$cluster" --query 'clusters[0].status')" != ACTIVE ]; then
    log "creating the ECS cluster $cluster"
    aws ecs create-cluster --cluster-name "$cluster" >/dev/null
  fi

  # The secret settings, as Secrets Manager secrets APP/ENVIRONMENT/NAME.
  arns=()
  for name in "${SECRETS[@]}"; do
    secret="$APP/$label/$name"
    if ! arn=$(aws secretsmanager describe-secret --secret-id "$secret" --query ARN 2>/dev/null); then
      if [ "$name" = SECRET_KEY ]; then
        value=$(aws secretsmanager get-random-password --password-length 64 \
          --exclude-punctuation --query RandomPassword)
      else
        value=${!name:-}
      fi
      if [ -z "$value" ]; then
        log "needs a person: $name for $environment; run again with $name=... set"
        continue
      fi
      log "storing $name of $environment in Secrets Manager as $secret"
      # As JSON: the CLI would fetch a value that starts with https:// (a Sentry DSN).
      arn=$(aws secretsmanager create-secret --query ARN --cli-input-json \
        "$(jq -n --arg name "$secret" --arg value "$value" '{Name: $name, SecretString: $value}')")
    fi
    arns+=("{\"name\": \"$name\", \"valueFrom\": \"$arn\"}")
    variables+=("ECS_${name}_ARN $arn $environment")
  done

  # The service needs a network and a first task definition; each deploy registers its own.
  if [ "$(aws ecs describe-services --cluster "$cluster" --services "$APP" \
    --query 'services[0].status')" = ACTIVE ]; then
    continue
  fi
  if [ -z "${SUBNETS:-}" ] || [ -z "${SECURITY_GROUPS:-}" ]; then
    log "needs a person: the service of $environment; run again with SUBNETS and SECURITY_GROUPS"
    continue
  fi
  task_definition=$(jq --arg role "$execution_role" --arg region "$AWS_REGION" \
    --arg environment "$environment" \
    --arg image "$account.dkr.ecr.$AWS_REGION.amazonaws.com/$APP:bootstrap" \
    --argjson secrets "[$(IFS=,; echo "${arns[*]}")]" '
    .executionRoleArn = $role
    | .containerDefinitions[0].image = $image
    | .containerDefinitions[0].secrets = $secrets
    | .containerDefinitions[0].logConfiguration.options += {
        "awslogs-region": $region, "awslogs-stream-prefix": $environment}
    ' deploy/ecs/task-definition.json)
  revision=$(aws ecs register-task-definition --cli-input-json "$task_definition" \
    --query taskDefinition.taskDefinitionArn)
  log "creating the ECS service $APP in $cluster (it runs once the first deploy brings an image)"
  aws ecs create-service --cluster "$cluster" --service-name "$APP" \
    --task-definition "$revision" --desired-count "${DESIRED_COUNT:-2}" --launch-type FARGATE \
    --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUPS],assignPublicIp=DISABLED}" \
    --deployment-configuration "deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100" \
    >/dev/null
done
{%- endif %}

{{ bootstrap.print_variables() }}
