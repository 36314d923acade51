"""Cheap checks on every baked project: it bakes, renders fully, parses, and holds the right files."""

import re

import pytest
from baked_checks import assert_parses, assert_well_formed
from helpers import (
    CHOICES,
    COOKIECUTTER_JSON,
    DEFAULTS,
    ROOT,
    answers,
    as_typed,
    bake,
    combination_id,
    cookiecutter_command,
    pairwise,
)
from workflow_steps import SHAPES

from flask_cicd import pruning

PAIRWISE = pairwise(CHOICES)


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


@pytest.mark.parametrize("environments", SHAPES.values(), ids=SHAPES)
def test_every_environment_shape_bakes_well_formed(cookies, environments):
    assert_well_formed(bake(cookies, environments=environments))


ODD_NAME = 'Café "Quoted" API: it\'s #1 ${{ github.token }} {{ x }}'
ODD_DESCRIPTION = 'Says "hi": #not-a-comment, {% if %}, ${{ secrets.X }} \\ \u2603'


def test_odd_but_valid_answers_give_valid_files(cookies):
    project = bake(
        cookies,
        **as_typed({"project_name": ODD_NAME, "description": ODD_DESCRIPTION, "author_name": 'O\'Brien, "Pat"'}),
    )
    assert project.path.name == "cafe-quoted-api-it-s-1-github-token-x"
    assert_parses(project.path)
    pyproject = project.toml("pyproject.toml")
    assert pyproject["project"]["description"] == ODD_DESCRIPTION
    assert pyproject["project"]["authors"][0]["name"] == 'O\'Brien, "Pat"'
    assert ODD_NAME in project.text("README.md")


def test_bakes_from_a_relative_template_path(tmp_path):
    # `cookiecutter .` in a checkout, as `bash dev.sh bake` runs it: cookiecutter still finds the flask_cicd package.
    result = cookiecutter_command(tmp_path, template=".", cwd=ROOT)
    assert result.returncode == 0, result.stdout
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
