"""flask_cicd/checks.py agree with the tools that consume the answers: git, the build backend,
every Python on this machine, and the wheels of the locked dependencies."""

import json
import os
import subprocess
import tempfile
from email.headerregistry import HeaderRegistry
from email.parser import Parser
from pathlib import Path

import pytest
from helpers import answers, bake, find_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_cicd import checks, platforms, quoting

AGREEMENT = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces git's rules are about, and plain ones; joined they make names on both sides of each rule.
BRANCH_PIECES = st.sampled_from(
    [
        "main",
        "dev",
        "a",
        "1",
        "/",
        ".",
        "..",
        "-",
        "_",
        "@",
        "{",
        "}",
        "@{",
        ".lock",
        "lock",
        "HEAD",
        "~",
        "^",
        ":",
        "?",
        "*",
        "[",
        "\\",
        " ",
        "\t",
        "\x7f",
        "#",
        "+",
        "!",
        "é",
        "'",
        '"',
        "$",
        ",",
    ]
)
BRANCHES = st.lists(BRANCH_PIECES, min_size=1, max_size=6).map("".join)


def git_accepts(branch: str) -> bool:
    # Outside any repository, so that --branch does not expand `@{-1}` to a branch of this one.
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(Path(folder).parent)}
        result = subprocess.run(
            ["git", "check-ref-format", "--branch", branch], cwd=folder, env=env, capture_output=True
        )
    return result.returncode == 0


@AGREEMENT
@given(BRANCHES)
def test_branch_rules_agree_with_git(branch):
    problem = answers.branch_problem(branch) or ""
    assert ("is not a valid git branch name" in problem) == (not git_accepts(branch)), (branch, problem)
    # Beyond git's rules, the pipeline's own: refused with that reason, never silently.
    if not problem:
        assert answers.PIPELINE_BRANCH.match(branch)


@pytest.mark.parametrize("branch", ["main", "release/1.2", "feature/ABC-123_x", "v2.x", "a.b/c-d"])
def test_usual_branches_are_accepted_by_both(branch):
    assert answers.branch_problem(branch) is None and git_accepts(branch)


# Author names and e-mail addresses as people type them, and as attackers do.
NAME_PIECES = st.sampled_from(
    [
        "Pat",
        "O'Brien",
        '"Pat"',
        ",",
        " ",
        "<",
        ">",
        "@",
        "(",
        ")",
        ";",
        ":",
        "\\",
        "é",
        "李",
        "👩\u200d💻",
        "\t",
        "\n",
        "\x7f",
        "\u2028",
        "=?utf-8?q?x?=",
    ]
)
EMAIL_PIECES = st.sampled_from(
    [
        "pat",
        "you",
        ".",
        "..",
        "+",
        "-",
        "_",
        ",",
        '"',
        "'",
        " ",
        "<",
        ">",
        "(",
        ")",
        "[",
        "]",
        "é",
        "@",
        "example",
        "com",
        "ex-ample",
        "1.2.3.4",
        "\\",
        "\n",
    ]
)


def build_backend_metadata(folder: Path, name: str, email: str) -> str:
    """The core metadata hatchling writes for these authors (raises where it refuses them)."""
    from hatchling.metadata.core import ProjectMetadata
    from hatchling.metadata.spec import construct_metadata_file_2_4

    authors = f"[{{ name = {quoting.quoted(name)}, email = {quoting.quoted(email)} }}]"
    (folder / "pyproject.toml").write_text(f'[project]\nname = "probe"\nversion = "1"\nauthors = {authors}\n', "utf-8")
    return construct_metadata_file_2_4(ProjectMetadata(str(folder), None))


@AGREEMENT
@given(
    st.lists(NAME_PIECES, min_size=1, max_size=4).map("".join),
    st.lists(EMAIL_PIECES, min_size=1, max_size=5).map("".join).map(lambda local: f"{local}@example.com"),
)
def test_author_checks_agree_with_the_build_backend(name, email):
    answered = {**answers.DEFAULT_ANSWERS, "author_name": name, "author_email": email}
    try:
        checks.check({**answered, "project_slug": "probe", "package_name": "probe"})
    except answers.AnswerError as error:
        assert str(error).startswith(("author_email: ", "author_name: ")), error
        return
    # Accepted: the backend writes one Author-email header that reads back as the answers.
    with tempfile.TemporaryDirectory() as folder:
        metadata = build_backend_metadata(Path(folder), name, email)
    # An address-list header, as core metadata defines Author-email, read by the email package.
    value = Parser().parsestr(metadata)["Author-email"]
    (address,) = HeaderRegistry()("to", value).addresses
    assert (address.display_name, address.addr_spec) == (name, email)


@pytest.mark.parametrize("email", ["a,b@example.com", 'a"b@example.com', "a b@example.com", "a..b@example.com"])
def test_addresses_answers_refuse_the_build_backend_refuses_too(tmp_path, email):
    with pytest.raises(Exception):  # noqa: B017 (the email package raises ValueError and header defects)
        build_backend_metadata(tmp_path, "Pat", email)


def test_every_python_here_has_its_standard_library_refused():
    # The versions the template accepts, as far as this machine has them; the running one at least.
    checked = []
    for version in answers.PYTHON_END_OF_LIFE:
        try:
            python = find_python([version])
        except AssertionError:
            continue
        # stdlib_module_names, and what its library folder holds (the `test` package it leaves out).
        names = json.loads(
            subprocess.run(
                [
                    python,
                    "-c",
                    "import json, pkgutil, sys, sysconfig; print(json.dumps(sorted({*sys.stdlib_module_names, "
                    "*(m.name for m in pkgutil.iter_modules([sysconfig.get_paths()['stdlib']]))})))",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        unrefused = [name for name in names if name.isidentifier() and not checks.module_clash(name)]
        assert not unrefused, f"Python {version}'s {unrefused} would be accepted as package names"
        checked.append(version)
    assert checked, "no Python of the accepted versions on this machine"


def test_the_cloud_run_tag_the_slug_limit_counts_is_the_one_deploy_yml_sets(cookies):
    """gcloud takes the revision tag and the service name together up to 46 characters."""
    project = bake(cookies, deploy_target="cloud-run", container_registry="gar")
    steps = project.yaml(".github/workflows/deploy.yml")["jobs"]["deploy"]["steps"]
    (tag,) = [step["with"]["tag"] for step in steps if "tag" in step.get("with", {})]
    cloud_run = platforms.TARGETS["cloud-run"]
    assert cloud_run["slug_max"] == 46 - len(tag) and f"revision tag {tag!r}" in cloud_run["slug_max_why"]


def test_import_names_cover_every_locked_distribution():
    recorded = json.loads(answers.IMPORT_NAMES.read_text("utf-8"))
    assert set(recorded) == set(answers.locked_distributions()), (
        "import-names.json is stale: run scripts/import_names.py after scripts/lock_dependencies.py"
    )
