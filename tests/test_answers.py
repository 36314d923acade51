"""Unit tests of answers.py: parsing, checking and the pruning manifest."""

from datetime import date

import pytest
from helpers import RENDERED_DEFAULTS, ROOT, answers

Environment = answers.Environment


def test_default_environments_are_the_seeds():
    assert answers.check_environments(RENDERED_DEFAULTS["environments"]) == [
        Environment("staging", branch="develop"),
        Environment("production", branch="main"),
    ]


def test_a_chain_promotes_each_environment_after_the_one_before():
    assert answers.check_environments("dev:main -> qa -> staging -> production") == [
        Environment("dev", branch="main"),
        Environment("qa", after="dev"),
        Environment("staging", after="qa"),
        Environment("production", after="staging"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give at least one"),
        ("staging", "must start with 'name:branch'"),
        ("staging:", "must start with 'name:branch'"),
        ("a:main -> b:develop", "promoted, not deployed from a branch"),
        ("prod uction:main", "not a usable environment name"),
        ("Prod:main, prod:develop", "named twice"),
        ("prod:main..x", "not a valid branch name"),
        ("prod:-x", "not a valid branch name"),
    ],
)
def test_bad_environments_are_refused(text, message):
    with pytest.raises(answers.AnswerError, match=message):
        answers.check_environments(text)


def test_versions_are_sorted_oldest_first():
    assert answers.python_versions("3.14, 3.9, 3.12") == ["3.9", "3.12", "3.14"]


def test_end_of_life_versions_warn():
    warnings = answers.check(
        {**RENDERED_DEFAULTS, "python_versions": "3.10, 3.12"}, today=date(2026, 11, 26)
    )
    assert warnings == ["python_versions: 3.10 reached end of life on 2026-10-31"]


def test_the_image_python_is_the_newest_answer_unless_distroless():
    assert answers.newest_python({**RENDERED_DEFAULTS, "python_versions": "3.13, 3.12"}) == "3.13"
    assert answers.newest_python({**RENDERED_DEFAULTS, "container_base": "distroless"}) == "3.13"


def test_every_owned_and_pruned_path_exists_in_the_template():
    project = ROOT / "{{cookiecutter.project_slug}}"
    for paths in [*answers.OWNED_PATHS.values(), *answers.PRUNED_PATHS.values(), answers.KEPT_WHEN]:
        for path in paths:
            assert (project / path).exists(), f"the manifest names {path}, which the template lacks"


def test_every_manifest_key_is_a_real_choice():
    for name, value in [*answers.OWNED_PATHS, *answers.PRUNED_PATHS]:
        assert value in answers.CHOICES[name], (name, value)


def test_quoted_strings_are_valid_toml_yaml_and_python():
    import ast
    import tomllib

    import yaml

    odd = 'It\'s "quoted": #1 ${{ x }} {% y %} — café\\n\t'
    assert tomllib.loads(f"v = {answers.quoted(odd)}")["v"] == odd
    assert yaml.safe_load(f"v: {answers.quoted(odd)}")["v"] == odd
    assert ast.literal_eval(answers.quoted(odd)) == odd


def test_uses_pins_to_the_recorded_sha():
    pin = answers.PINS["actions/checkout"]
    assert answers.uses("actions/checkout") == f"actions/checkout@{pin['sha']} # {pin['version']}"
    assert answers.uses("github/codeql-action/init").startswith("github/codeql-action/init@")
