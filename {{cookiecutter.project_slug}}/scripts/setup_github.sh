{%- set environments = cookiecutter.environments | environments -%}
#!/usr/bin/env bash
# Access control for this repository on GitHub, set up (or reset) in one go with the GitHub CLI
# (`gh auth login` as a repository admin), then see "Deployments" in README.md:
{%- if cookiecutter.deploy_target != "none" %}
#   - the deploy environments, each deployable only from its branch, the reviewed ones only
#     after a person approves (REVIEWERS, default: you);
{%- endif %}
#   - branch protection on the deploy branches: changes arrive by pull request, approved by
#     the code owners, with the required status checks green.
#
#   scripts/setup_github.sh [OWNER/REPO]
#   REVIEWERS="user:octocat team:platform" scripts/setup_github.sh
set -euo pipefail

repo=${1:-$(gh repo view --json nameWithOwner --jq .nameWithOwner)}

# ci.yml's jobs, by the names their checks get: what must be green before a merge.
REQUIRED_CHECKS=(ci-ok)
# The branches whose pushes deploy (and run the full pipeline).
BRANCHES=(
{%- for branch in environments | selectattr("branch") | map(attribute="branch") | unique %}
  {{ branch }}
{%- endfor %}
)
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
  for reviewer in ${REVIEWERS:-user:$(gh api user --jq .login)}; do
    case "$reviewer" in
      user:*) id=$(gh api "users/${reviewer#user:}" --jq .id) && type=User ;;
      team:*) id=$(gh api "orgs/${repo%%/*}/teams/${reviewer#team:}" --jq .id) && type=Team ;;
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
for entry in "${ENVIRONMENTS[@]}"; do
  read -r name branch review <<<"$entry"
  echo "environment $name: deploys from $branch, $review"
  [ "$review" = reviewed ] && approvers=$reviewers || approvers=null
  gh api --method PUT "repos/$repo/environments/$name" --silent --input - <<JSON
{"reviewers": $approvers, "prevent_self_review": false, "wait_timer": 0,
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

checks=$(printf '"%s",' "${REQUIRED_CHECKS[@]}")
default_branch=$(gh api "repos/$repo" --jq .default_branch)
for branch in "${BRANCHES[@]}"; do
  if ! gh api "repos/$repo/branches/$branch" --silent 2>/dev/null; then
    echo "branch $branch: creating it from $default_branch"
    sha=$(gh api "repos/$repo/git/ref/heads/$default_branch" --jq .object.sha)
    gh api --method POST "repos/$repo/git/refs" --silent -f ref="refs/heads/$branch" -f sha="$sha"
  fi
  echo "branch $branch: pull requests, code owner review, checks ${REQUIRED_CHECKS[*]}"
  gh api --method PUT "repos/$repo/branches/$branch/protection" --silent --input - <<JSON
{"required_status_checks": {"strict": true, "contexts": [${checks%,}]},
 "enforce_admins": true,
 "required_pull_request_reviews": {"required_approving_review_count": 1,
   "require_code_owner_reviews": true, "dismiss_stale_reviews": true},
 "restrictions": null, "required_linear_history": true, "required_conversation_resolution": true,
 "allow_force_pushes": false, "allow_deletions": false}
JSON
done
