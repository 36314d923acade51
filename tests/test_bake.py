"""Cheap checks on every baked project: it bakes, renders fully, parses, and holds the right files."""

import re
import subprocess
import sys

import pytest
from baked_checks import assert_parses
from flask_cicd import pruning
from helpers import CHOICES, COOKIECUTTER_JSON, DEFAULTS, ROOT, answers, bake, combination_id, pairwise

# Jinja left in a file; a GitHub expression `${{ ... }}` is the workflow's own, and so are
# docker/metadata-action's semver patterns `{{version}}`, `{{major}}.{{minor}}`.
UNRENDERED = re.compile(r"(?<!\$)\{\{(?!(?:version|major|minor|patch)\}\})|\{%|%\}|\bcookiecutter\.")
PAIRWISE = pairwise(CHOICES)


def assert_well_formed(project):
    """No template residue, and every file parses."""
    for path in project.files():
        text = path.read_text("utf-8")
        assert not UNRENDERED.search(text), f"{path.name} has unrendered template text"
    assert_parses(project.path)


def assert_pruned_as_answered(project):
    """Files owned by other answers are gone; the chosen answers' own files are there."""
    context = project.context
    for relative in pruning.paths_to_prune(context):
        assert not project.exists(relative), f"{relative} should be pruned for {context}"
    for relative, keep in pruning.KEPT_WHEN.items():
        # An __environment__ folder is rendered into one folder per environment, then removed.
        if keep(context) and pruning.PER_ENVIRONMENT not in relative:
            relative = pruning.baked_path(relative, context)
            assert project.exists(relative), f"{relative} is missing for these answers"
    for name, text in answers.lock_files(context).items():
        assert project.text(name) == text and "<<" not in text, f"{name} is not the pinned lock"


def test_defaults(cookies):
    project = bake(cookies)
    assert project.path.name == "flask-service"
    assert_well_formed(project)
    assert_pruned_as_answered(project)
    assert project.exists("src/flask_service/__init__.py")


def test_pairwise_covers_every_value_of_every_choice():
    for name, values in CHOICES.items():
        assert {row[name] for row in PAIRWISE} == set(values), name


@pytest.mark.parametrize("row", PAIRWISE, ids=[combination_id(row) for row in PAIRWISE])
def test_pairwise_combinations(cookies, row):
    project = bake(cookies, **row)
    assert_well_formed(project)
    assert_pruned_as_answered(project)


@pytest.mark.parametrize(
    "environments",
    [
        pytest.param("production:main", id="single"),
        pytest.param("dev:main -> qa -> staging -> production", id="four-environment-chain"),
        pytest.param("staging:develop, production:main", id="default"),
    ],
)
def test_environment_shapes(cookies, environments):
    assert_well_formed(bake(cookies, environments=environments))


def raw(text):
    """Keep cookiecutter from rendering an answer given on the command line, as a typed one is."""
    return "{% raw %}" + text + "{% endraw %}"


ODD_NAME = "Café \"Quoted\" API: it's #1 ${{ github.token }} {{ x }}"
ODD_DESCRIPTION = 'Says "hi": #not-a-comment, {% if %}, ${{ secrets.X }} \\ \u2603'


def test_odd_but_valid_answers_give_valid_files(cookies):
    project = bake(
        cookies,
        project_name=raw(ODD_NAME),
        description=raw(ODD_DESCRIPTION),
        author_name=raw("O'Brien, \"Pat\""),
    )
    assert project.path.name == "cafe-quoted-api-it-s-1-github-token-x"
    assert_parses(project.path)
    pyproject = project.toml("pyproject.toml")
    assert pyproject["project"]["description"] == ODD_DESCRIPTION
    assert pyproject["project"]["authors"][0]["name"] == "O'Brien, \"Pat\""
    assert ODD_NAME in project.text("README.md")


def test_bakes_from_a_relative_template_path(tmp_path):
    # `cookiecutter .` in a checkout, as `bash dev.sh bake` runs it: the hooks still find the flask_cicd package.
    command = [sys.executable, "-m", "cookiecutter", "--no-input", ".", "-o", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "flask-service" / "requirements.txt").is_file()


def test_readme_answers_table_matches_cookiecutter_json():
    readme = (ROOT / "README.md").read_text("utf-8")
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| (.*?) \|$", readme, flags=re.MULTILINE)
    documented = {name: default for name, default, _ in rows}
    assert list(documented) == list(DEFAULTS), "README's table lists other answers than cookiecutter.json"
    for name, value in COOKIECUTTER_JSON.items():
        if name.startswith("_"):
            continue
        shown = " / ".join(f"`{v}`" for v in value) if isinstance(value, list) else f"`{value}`"
        shown = shown.replace("|", "\\|")  # escaped inside a Markdown table
        assert documented[name] == shown, f"README shows {documented[name]} for {name}, expected {shown}"
