"""What a user sees when an answer is refused: stdout and stderr together, through the real
cookiecutter command; and nothing left on disk."""

import json

import pytest
from helpers import COOKIECUTTER_JSON, RENDERED_DEFAULTS, cookiecutter_command

INVALID = [
    pytest.param({"python_versions": "3.8"}, "python_versions: '3.8' is not supported", id="old-python"),
    pytest.param({"python_versions": "3.12, three"}, "python_versions: 'three' is not supported", id="not-a-version"),
    pytest.param({"python_versions": " , "}, "python_versions: give at least one", id="no-python"),
    pytest.param({"os_matrix": "ubuntu-latest, freebsd"}, "os_matrix: 'freebsd' is not one of", id="unknown-os"),
    pytest.param({"os_matrix": "ubuntu-latest,ubuntu-latest"}, "names a runner twice", id="duplicate-os"),
    pytest.param(
        {"environments": "prod:main, PROD:develop"}, "environments: 'PROD' and 'prod' name one", id="duplicate-env"
    ),
    pytest.param(
        {"environments": "Prod_EU:main, prod-eu:develop"},
        "both become the Kubernetes namespace 'prod-eu'",
        id="clashing-envs",
    ),
    pytest.param({"environments": "pro duction:main"}, "not a usable environment name", id="bad-env-name"),
    pytest.param({"environments": "prod:HEAD"}, "branch 'HEAD' is not a valid git branch name", id="head-branch"),
    pytest.param({"environments": "prod:a/.b"}, "a part of it starts with '.'", id="dot-branch"),
    pytest.param({"project_slug": "My Service"}, "project_slug: 'My Service' must be lowercase", id="bad-slug"),
    pytest.param({"project_name": "123 go"}, "project_slug: '123-go' must be", id="slug-starts-with-digit"),
    pytest.param({"project_name": "!!!"}, "project_slug: project_name '!!!' has no letters or digits", id="empty-slug"),
    pytest.param(
        {"project_slug": ""}, "project_slug: project_name 'Flask Service' has no letters", id="slug-given-empty"
    ),
    pytest.param({"project_name": "x" * 64}, "is 64 characters; it names the Kubernetes objects", id="long-slug"),
    pytest.param(
        {"project_name": "Import"},
        "package_name: 'import' is a Python keyword; choose e.g. 'import_service'",
        id="keyword",
    ),
    pytest.param(
        {"project_name": "Email"},
        "package_name: 'email' is a standard-library module; choose e.g. 'email_service'",
        id="stdlib",
    ),
    pytest.param(
        {"project_name": "Flask"},
        "project_slug: 'flask' is the name of one of the project's own dependencies",
        id="dependency",
    ),
    pytest.param({"package_name": "yaml"}, "package_name: 'yaml' is a module of pyyaml", id="dependency-module"),
    pytest.param({"project_name": "Tests"}, "package_name: 'tests' is a module of the project itself", id="own-module"),
    pytest.param({"package_name": "__main__"}, "package_name: '__main__' starts with '_'", id="dunder-main"),
    pytest.param({"package_name": "class-name"}, "package_name: 'class-name' is not a valid", id="bad-package"),
    pytest.param({"author_email": "nobody"}, "author_email: 'nobody' is not an e-mail", id="bad-email"),
    pytest.param({"author_email": "a,b@example.com"}, "cannot be written as package metadata", id="comma-email"),
    pytest.param({"author_email": "zoë@example.com"}, "is not ASCII", id="non-ascii-email"),
    pytest.param({"author_name": "Pat\nO'Brien"}, "author_name: \"Pat\\nO'Brien\" holds '\\n'", id="newline-name"),
    pytest.param({"description": "del \x7f"}, "description: 'del \\x7f' holds '\\x7f'", id="del-description"),
    pytest.param(
        {"container_base": "distroless", "python_versions": "3.12, 3.14"},
        "must include 3.13",
        id="distroless-without-3.13",
    ),
    pytest.param({"container_registry": "none"}, "container_registry cannot be 'none'", id="deploy-without-registry"),
    pytest.param({"runner": "self hosted"}, "runner: 'self hosted' must be runner labels", id="bad-runner"),
    pytest.param({"version": "one"}, "version: 'one' is not a PEP 440 version", id="bad-version"),
]


@pytest.mark.parametrize(("overrides", "message"), INVALID)
def test_a_bad_answer_prints_one_line_and_leaves_nothing(tmp_path, overrides, message):
    result = cookiecutter_command(
        tmp_path / "out", *(f"{name}={value}" for name, value in overrides.items()), cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("error: "), result.stdout
    assert message in result.stdout, result.stdout
    assert list(tmp_path.rglob("*")) == [tmp_path / "out"]


def test_a_value_outside_a_choice_is_refused_by_cookiecutter_itself(tmp_path):
    # cookiecutter checks choices before the template sees any answer: its traceback, as the
    # README says, ending in its own message.
    result = cookiecutter_command(tmp_path / "out", "container_registry=harbor", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1].startswith(
        "ValueError: harbor provided for choice variable container_registry, but the choices are"
    )
    assert not any(line.startswith("error: ") for line in lines)
    assert list(tmp_path.rglob("*")) == [tmp_path / "out"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"author_name": "Pat\nO'Brien"},
            "error: author_name: \"Pat\\nO'Brien\" holds '\\n'; an answer is one line of printable text",
        ),
        # A replay file, unlike the command line, can give an answer that is not text.
        ({"version": 3}, "error: version: 3 is not text"),
        ({"python_versions": ["3.13"]}, "error: python_versions: ['3.13'] is not text"),
    ],
    ids=["newline", "number", "list"],
)
def test_a_bad_replayed_answer_is_refused_by_the_hook_under_cookiecutter_s_own_report(tmp_path, overrides, message):
    # A replay skips the in-process check; the pre-generation hook refuses instead, and cookiecutter
    # wraps its line in its own report, as the README says: an ERROR line and a traceback before,
    # "Hook script failed (exit status: 1)" after.
    private = {name: value for name, value in COOKIECUTTER_JSON.items() if name.startswith("_")}
    replay = {**private, **RENDERED_DEFAULTS, **overrides, "__answers_checked": "yes"}
    replay.pop("__prompts__")
    (tmp_path / "replay.json").write_text(json.dumps({"cookiecutter": replay}), "utf-8")
    output = tmp_path / "out"
    result = cookiecutter_command(output, options=("--replay-file", str(tmp_path / "replay.json")), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("error: ")] == [message], result.stdout
    ours = lines.index(next(line for line in lines if line.startswith("error: ")))
    theirs = lines[:ours] + lines[ours + 1 :]
    assert theirs[0] == "ERROR: Stopping generation because pre_gen_project hook script didn't exit successfully"
    assert theirs[1] == "Traceback (most recent call last):"
    assert theirs[-1] == "Hook script failed (exit status: 1)", result.stdout
    assert list(output.iterdir()) == []


def test_a_doubtful_answer_is_baked_with_a_warning(tmp_path):
    # The pre-generation hook prints the warnings the bake worked out; nothing else is printed.
    result = cookiecutter_command(tmp_path / "out", "python_versions=3.10, 3.13", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    # The locks' own age warning (tests/test_locks.py) is the post-generation hook's, not an answer's.
    lines = [line for line in result.stdout.splitlines() if "pinned dependencies are" not in line]
    assert lines == ["warning: python_versions: 3.10 reached end of life on 2026-10-31"]
    assert (tmp_path / "out" / "flask-service" / "pyproject.toml").is_file()
