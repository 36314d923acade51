{%- set environments = cookiecutter.environments | environments -%}
#!/usr/bin/env bash
# Access control for this repository on GitHub, set up (or reset) in one go with the GitHub CLI
# (`gh auth login` as a repository admin), then see "Deployments" in README.md:
{%- if cookiecutter.deploy_target != "none" %}
#   - the deploy environments, each deployable only from its branch, the reviewed ones only
#     after a person approves (REVIEWERS; default: the team, or you on a personal account);
{%- endif %}
#   - a ruleset on the deploy branches: changes arrive by pull request with the required checks
#     green; in an organisation, approved by a code owner, which must be a team (TEAM);
#   - a ruleset on the release tags (v*): only repository admins create, move or delete them,
#     so release.yml runs only for tags an admin made.
#
#   scripts/setup_github.sh [OWNER/REPO]                       # a personal account's repository
#   TEAM=platform scripts/setup_github.sh [OWNER/REPO]         # an organisation's: its owning team
#   REVIEWERS="user:octocat team:platform" scripts/setup_github.sh
#   APPROVALS=1 scripts/setup_github.sh   # approvals a pull request needs (default: 1 in an
#                                         # organisation; 0 on a personal account, where the only
#                                         # person cannot approve their own pull requests)
set -euo pipefail

repo=${1:-$(gh repo view --json nameWithOwner --jq .nameWithOwner)}
owner=${repo%%/*}

# ci.yml's jobs, by the names their checks get: what must be green before a merge.
REQUIRED_CHECKS=(ci-ok)
# The branches whose pushes deploy (and run the full pipeline).
BRANCHES=(
{%- for branch in deploy_branches(cookiecutter) %}
  {{ branch }}
{%- endfor %}
)
# Repository admins (the built-in role 5) alone may create, move or delete release tags.
ADMINS='[{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]'

# An organisation cannot own code itself: CODEOWNERS and the reviews need one of its teams.
# A personal account's owner is the code owner, but cannot approve their own pull requests, so
# nothing asks them to: pull requests and green checks still guard the branches.
owner_type=$(gh api "repos/$repo" --jq .owner.type)
if [ "$owner_type" = Organization ]; then
  if [ -z "${TEAM:-}" ]; then
    echo "TEAM: $owner is an organisation; name the team that owns the code: TEAM=<team-slug> $0" >&2
    exit 2
  fi
  if ! gh api "orgs/$owner/teams/$TEAM" --silent 2>/dev/null; then
    echo "TEAM: $owner has no team '$TEAM'" >&2
    exit 2
  fi
  code_owners=true
  approvals=${APPROVALS:-1}
{%- if cookiecutter.deploy_target != "none" %}
  default_reviewers="team:$TEAM"
{%- endif %}
  codeowners=.github/CODEOWNERS
  if [ -f "$codeowners" ] && grep -Eq "^[^#].*@$owner( |$)" "$codeowners"; then
    sed -E "/^#/!s#@$owner( |$)#@$owner/$TEAM\1#g" "$codeowners" > "$codeowners.new"
    mv "$codeowners.new" "$codeowners"
    echo "$codeowners: now names @$owner/$TEAM; commit it through a pull request"
  fi
else
  code_owners=false
  approvals=${APPROVALS:-0}
{%- if cookiecutter.deploy_target != "none" %}
  default_reviewers="user:$(gh api user --jq .login)"
{%- endif %}
fi
{%- if cookiecutter.deploy_target != "none" %}

# Each environment: its name, the branch its deploys come from, and whether a person must
# approve them (promoted environments and the last one, production, are reviewed).
ENVIRONMENTS=(
{%- set chain = namespace(branch="") %}
{%- for environment in environments %}
{%- if environment.branch %}{% set chain.branch = environment.branch %}{% endif %}
  "{{ environment.name }} {{ chain.branch }} {{ "reviewed" if environment.after or loop.last else "open" }}"
{%- endfor %}
)

# REVIEWERS as the JSON list the environments API takes.
reviewers_json() {
  local reviewer id type list=""
  for reviewer in ${REVIEWERS:-$default_reviewers}; do
    case "$reviewer" in
      user:*) id=$(gh api "users/${reviewer#user:}" --jq .id) && type=User ;;
      team:*) id=$(gh api "orgs/$owner/teams/${reviewer#team:}" --jq .id) && type=Team ;;
      *)
        echo "REVIEWERS: '$reviewer' is neither user:LOGIN nor team:SLUG" >&2
        return 2
        ;;
    esac
    list+="${list:+,}{\"type\":\"$type\",\"id\":$id}"
  done
  echo "[$list]"
}

reviewers=$(reviewers_json)
# Whoever started a deploy may not approve it, where someone else can: a team, or two people.
# One person alone approves their own, or nobody could.
read -ra named <<<"${REVIEWERS:-$default_reviewers}"
if [ -n "${named[1]:-}" ] || [[ "${named[0]}" == team:* ]]; then
  prevent_self_review=true
else
  prevent_self_review=false
fi
for entry in "${ENVIRONMENTS[@]}"; do
  read -r name branch review <<<"$entry"
  echo "environment $name: deploys from $branch, $review"
  [ "$review" = reviewed ] && approvers=$reviewers || approvers=null
  gh api --method PUT "repos/$repo/environments/$name" --silent --input - <<JSON
{"reviewers": $approvers, "prevent_self_review": $prevent_self_review, "wait_timer": 0,
 "deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}}
JSON
  policies=$(gh api "repos/$repo/environments/$name/deployment-branch-policies" \
    --jq '.branch_policies[].name')
  if ! grep -qxF "$branch" <<<"$policies"; then
    gh api --method POST "repos/$repo/environments/$name/deployment-branch-policies" \
      --silent -f name="$branch" -f type=branch
  fi
done
{%- endif %}

default_branch=$(gh api "repos/$repo" --jq .default_branch)
for branch in "${BRANCHES[@]}"; do
  if ! gh api "repos/$repo/branches/$branch" --silent 2>/dev/null; then
    echo "branch $branch: creating it from $default_branch"
    sha=$(gh api "repos/$repo/git/ref/heads/$default_branch" --jq .object.sha)
    gh api --method POST "repos/$repo/git/refs" --silent -f ref="refs/heads/$branch" -f sha="$sha"
  fi
done

# Create the ruleset of this name, or update it: running the script again resets it.
ruleset() {
  local name=$1 body=$2 id
  id=$(gh api "repos/$repo/rulesets" --jq ".[] | select(.name == \"$name\") | .id")
  if [ -n "$id" ]; then
    gh api --method PUT "repos/$repo/rulesets/$id" --silent --input - <<<"$body"
  else
    gh api --method POST "repos/$repo/rulesets" --silent --input - <<<"$body"
  fi
}

refs=$(printf '"refs/heads/%s",' "${BRANCHES[@]}")
# Only GitHub Actions (app 15368) can satisfy a required check: a status a writer posts by hand
# through the API under the same name does not.
checks=$(printf '{"context": "%s", "integration_id": 15368},' "${REQUIRED_CHECKS[@]}")
echo "ruleset deploy branches (${BRANCHES[*]}): pull requests with $approvals approval(s)," \
  "code owners: $code_owners, checks ${REQUIRED_CHECKS[*]}"
branch_rules=$(cat <<JSON
{"name": "deploy branches", "target": "branch", "enforcement": "active", "bypass_actors": [],
 "conditions": {"ref_name": {"include": [${refs%,}], "exclude": []}},
 "rules": [
   {"type": "deletion"}, {"type": "non_fast_forward"}, {"type": "required_linear_history"},
   {"type": "pull_request", "parameters": {"required_approving_review_count": $approvals,
     "require_code_owner_review": $code_owners, "dismiss_stale_reviews_on_push": true,
     "require_last_push_approval": $code_owners, "required_review_thread_resolution": true}},
   {"type": "required_status_checks", "parameters": {"strict_required_status_checks_policy": true,
     "required_status_checks": [${checks%,}]}}]}
JSON
)
if ruleset "deploy branches" "$branch_rules"; then
  # The ruleset replaces any classic protection an earlier version of this script set.
  for branch in "${BRANCHES[@]}"; do
    gh api --method DELETE "repos/$repo/branches/$branch/protection" --silent 2>/dev/null || true
  done
else
  # Rulesets need a public repository or a paid plan; classic protection is the fallback.
  echo "rulesets are not available to $repo: protecting the branches the classic way" >&2
  classic_checks=$(printf '{"context": "%s", "app_id": 15368},' "${REQUIRED_CHECKS[@]}")
  for branch in "${BRANCHES[@]}"; do
    gh api --method PUT "repos/$repo/branches/$branch/protection" --silent --input - <<JSON
{"required_status_checks": {"strict": true, "checks": [${classic_checks%,}]},
 "enforce_admins": true,
 "required_pull_request_reviews": {"required_approving_review_count": $approvals,
   "require_code_owner_reviews": $code_owners, "dismiss_stale_reviews": true},
 "restrictions": null, "required_linear_history": true, "required_conversation_resolution": true,
 "allow_force_pushes": false, "allow_deletions": false}
JSON
  done
fi

# v* and v*/...: every tag the push identity's trust (refs/tags/v*, where * also matches /)
# accepts; a ruleset's * stops at a slash.
{%- set registry = container_registry(cookiecutter) %}
{%- if registry.push_environment %}
{%- set environment = registry.push_environment %}

# {{ registry.title }}'s push token lives in the {{ environment }} environment, which only the deploy branches
# and v* tags may use: a repository secret would reach a workflow pushed to any branch.
echo "environment {{ environment }}: {{ registry.title }}'s push token, for ${BRANCHES[*]} and v* tags"
gh api --method PUT "repos/$repo/environments/{{ environment }}" --silent --input - <<JSON
{"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}}
JSON
policies=$(gh api "repos/$repo/environments/{{ environment }}/deployment-branch-policies" \
  --jq '.branch_policies[] | "\(.type) \(.name)"')
for policy in "${BRANCHES[@]/#/branch }" "tag v*"; do
  if ! grep -qxF "$policy" <<<"$policies"; then
    gh api --method POST "repos/$repo/environments/{{ environment }}/deployment-branch-policies" \
      --silent -f name="${policy#* }" -f type="${policy%% *}"
  fi
done
echo "then: gh secret set {{ registry.identity.write }} --env {{ environment }}"
{%- endif %}

echo "ruleset release tags (v*): only admins create, move or delete them"
if ! ruleset "release tags" "$(cat <<JSON
{"name": "release tags", "target": "tag", "enforcement": "active", "bypass_actors": $ADMINS,
 "conditions": {"ref_name": {"include": ["refs/tags/v*", "refs/tags/v*/**/*"], "exclude": []}},
 "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}]}
JSON
)"; then
  echo "error: $repo cannot protect its release tags without rulesets; anyone who can push" \
    "could tag a release (release.yml still refuses a commit no deploy branch built)" >&2
  exit 1
fi
