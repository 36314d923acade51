"""The generated pipeline: ci.yml's jobs and what they wait for (the README draws the same graph),
the deploy branches, and where the jobs run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_cicd.answers import check_environments, python_versions, split_list
from flask_cicd.quoting import quoted

# The runner labels GitHub hosts (and actionlint knows); any other label names a runner of your own.
GITHUB_HOSTED = re.compile(
    r"ubuntu-(latest(-\d+-cores)?|slim|\d\d\.04(-arm)?)"
    r"|windows-(latest(-\d+-cores)?|\d{4}(-vs\d{4})?|11(-vs\d{4})?-arm)"
    r"|macos-(latest|\d\d)(-intel|-large|-xlarge)?"
    r"|xcode-\d+(-xlarge)?"
)


def deploy_branches(answers: dict) -> list[str]:
    """The branches whose pushes deploy, in the answer's order, each once: the branch filter of
    ci.yml, the rulesets, the push identity's trust and the image tags."""
    return list(dict.fromkeys(env.branch for env in check_environments(answers["environments"]) if env.branch))


def self_hosted_labels(answers: dict) -> list[str]:
    """The `runner` labels GitHub does not host: actionlint must be told they exist."""
    return [label for label in split_list(answers["runner"]) if not GITHUB_HOSTED.fullmatch(label)]


def ci_caches(answers: dict) -> bool:
    """Whether ci.yml's jobs restore dependency caches: not when a deploy branch is named for
    releases (`release/next`), whose runs are taken to ship, so nothing cached may feed them."""
    return not any("release" in env.branch.lower() for env in check_environments(answers["environments"]) if env.branch)


def runs_on(answers: dict) -> str:
    """The `runs-on` of the jobs outside the test matrix, as YAML. A pull request from a fork runs a
    stranger's code: with runners of your own, those pull requests go to GitHub's ubuntu-latest."""
    labels = split_list(answers["runner"])
    if not self_hosted_labels(answers):
        return quoted(labels[0]) if len(labels) == 1 else "[" + ", ".join(map(quoted, labels)) + "]"
    # An expression has no list literal: several labels come from JSON.
    answered = f"'{labels[0]}'" if len(labels) == 1 else f"fromJSON('{json.dumps(labels)}')"
    return quoted(f"${{{{ github.event.pull_request.head.repo.fork && 'ubuntu-latest' || {answered} }}}}")


@dataclass(frozen=True)
class Job:
    """A job of the generated ci.yml: what it does, the jobs it waits for, and when it runs."""

    id: str
    does: str
    needs: tuple[str, ...] = ()
    when: str = ""


def pipeline(answers: dict) -> dict[str, Job]:
    """The jobs of ci.yml by id, in order. The workflow takes its job list and `needs` from here and
    the README draws its diagram from here, so the diagram is the pipeline as generated.

    Checks, tests and the image build start together; only the push waits, for all of them.
    """
    lint = "ruff format --check, ruff check" if answers["code_style"] == "ruff" else "black --check, flake8"
    audit = {"pip-audit": "pip-audit --strict", "safety": "safety scan"}.get(answers["dependency_audit"])
    versions = ", ".join(python_versions(answers["python_versions"]))
    systems = ", ".join(split_list(answers["os_matrix"]))
    jobs = [
        Job("lint", lint),
        Job("bandit", "security lint, SARIF to code scanning"),
        *([Job("audit", audit)] if audit else []),
        Job("dependency-review", "advisories of the dependencies it changes", when="pull requests"),
        Job("test", f"unit + integration tests, coverage gate; Python {versions} on {systems}"),
    ]
    if answers["container_registry"] != "none":
        gates = tuple(job.id for job in jobs if not job.when)
        pushes = " or ".join(deploy_branches(answers))
        jobs += [
            Job("image", "build the image, Trivy scan"),
            Job(
                "build",
                f"push to {answers['container_registry']}, SBOM, attested provenance",
                (*gates, "image"),
                when=f"push to {pushes}",
            ),
        ]
    jobs.append(Job("ci-ok", "the one required check", tuple(job.id for job in jobs)))
    if answers["codecov"] == "yes":
        # Apart from the tests: the OIDC token never meets the code under review.
        jobs.append(
            Job(
                "coverage",
                "the tests' coverage.xml to Codecov by OIDC, no project code",
                ("test",),
                when="not from forks",
            )
        )
    if answers["deploy_target"] != "none":
        # The same image, by digest, along the environments: from a branch push, or promoted
        # once the environment before it deployed and passed its smoke test.
        for environment in check_environments(answers["environments"]):
            after = f"deploy-{environment.after.lower()}" if environment.after else None
            jobs.append(
                Job(
                    environment.job,
                    f"{answers['deploy_target']} to {environment.name}, smoke test, rollback",
                    ("build", after) if after else ("build",),
                    when=f"push to {environment.branch}" if environment.branch else "",
                )
            )
    return {job.id: job for job in jobs}
