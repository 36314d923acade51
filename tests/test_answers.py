"""Unit tests of the template's own package (flask_cicd): parsing, checking, the targets' and registries' data and the pruning manifest."""

import sys
from datetime import date

import pytest
from helpers import RENDERED_DEFAULTS, ROOT, answers

from flask_cicd import checks, pins, platforms, pruning, quoting

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
        ("Prod:main, prod:develop", "'prod' and 'Prod' name one environment \\(GitHub ignores case\\)"),
        ("Prod_EU:main, prod-eu:develop", "both become the Kubernetes namespace 'prod-eu'"),
        ("a_:main, a:develop", "both become the Kubernetes namespace 'a'"),
        ("prod:main..x", "not a valid git branch name: it holds '..'"),
        ("prod:-x", "not a valid git branch name: it starts with '-'"),
        ("prod:HEAD", "'HEAD' is git's name for the current commit"),
        ("prod:a/.b", "a part of it starts with '.'"),
        ("prod:feat#1", "git branch name, but the pipeline also makes it a workflow branch filter"),
        (f"prod:{'b' * 129}", "129 characters; it becomes an image tag, which takes at most 128"),
        (f"{'e' * 64}:main", "64 characters; it names a Kubernetes namespace and label, which take at most 63"),
        ("staging:main -> NUL", "'NUL' names a device on Windows"),
    ],
)
def test_bad_environments_are_refused(text, message):
    with pytest.raises(answers.AnswerError, match=message):
        answers.check_environments(text)


def refusal(**overrides) -> str:
    """The message checks.check gives for the defaults with `overrides`."""
    with pytest.raises(answers.AnswerError) as error:
        checks.check({**RENDERED_DEFAULTS, **overrides})
    return str(error.value)


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("import", "package_name: 'import' is a Python keyword; choose e.g. 'import_service'"),
        ("None", "package_name: 'None' is a Python keyword"),
        ("email", "package_name: 'email' is a standard-library module; choose e.g. 'email_service'"),
        ("Queue", "package_name: 'Queue' is a standard-library module"),
        ("telnetlib", "package_name: 'telnetlib' is a standard-library module"),  # gone in 3.13, not in 3.12
        ("__main__", "package_name: '__main__' starts with '_'"),
        ("flask", "package_name: 'flask' is a module of flask, one of the project's dependencies"),
        ("yaml", "package_name: 'yaml' is a module of pyyaml"),  # the import name, not the distribution's
        ("prometheus_client", "is a module of prometheus-client"),
        ("tests", "package_name: 'tests' is a module of the project itself (tests)"),
        ("smoke_test", "is a module of the project itself (scripts/smoke_test.py)"),
        ("class-name", "package_name: 'class-name' is not a valid Python identifier"),
        ("aux", "package_name: 'aux' names a device on Windows"),
    ],
)
def test_package_names_that_would_not_import_the_package_are_refused(package, message):
    assert message in refusal(package_name=package)


def test_clashing_names_are_refused_from_their_sources_not_a_list():
    # Every module the locked distributions install (read from their wheels), every module of
    # this Python's standard library, and the project's own top-level modules.
    for module in [*checks.dependency_modules(), *sys.stdlib_module_names, *checks.project_modules()]:
        if module.isidentifier() and module.isascii():
            assert checks.module_clash(module), module
    assert checks.module_clash("flask_service") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"project_slug": "flask"}, "project_slug: 'flask' is the name of one of the project's own dependencies"),
        ({"project_slug": "prometheus-client"}, "is the name of one of the project's own dependencies"),
        ({"project_slug": "a" * 64}, "is 64 characters; it names the Kubernetes objects, which take at most 63"),
        ({"project_slug": ""}, "project_name 'Flask Service' has no letters or digits to make a slug of"),
        ({"project_slug": "a--b"}, "must be lowercase letters, digits and single dashes"),
        ({"project_slug": "com1"}, "project_slug: 'com1' names a device on Windows"),
        (
            {"project_slug": "a" * 38, "deploy_target": "cloud-run"},
            "as a Cloud Run service name beside the revision tag",
        ),
    ],
)
def test_slugs_that_cannot_name_the_distribution_or_kubernetes_objects_are_refused(overrides, message):
    assert message in refusal(**{"package_name": "service", **overrides})


def test_a_63_character_slug_is_accepted_and_37_on_cloud_run():
    checks.check({**RENDERED_DEFAULTS, "project_slug": "a" * 63, "package_name": "service"})
    checks.check(
        {**RENDERED_DEFAULTS, "project_slug": "a" * 37, "package_name": "service", "deploy_target": "cloud-run"}
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"author_email": "a,b@example.com"}, "cannot be written as package metadata"),
        ({"author_email": 'a"b@example.com'}, "cannot be written as package metadata"),
        ({"author_email": "a..b@example.com"}, "cannot be written as package metadata"),
        ({"author_email": "café@example.com"}, "is not ASCII"),
        ({"author_name": "Pat\nO'Brien"}, "author_name: \"Pat\\nO'Brien\" holds '\\n'; an answer is one line"),
        ({"description": "Says hi\x7f"}, "description: 'Says hi\\x7f' holds '\\x7f'"),
        ({"project_name": "A\u2028B"}, "holds '\\u2028'"),
        # Invisible format characters: a right-to-left override, a zero-width space.
        ({"project_name": "Pay\u202eIPA"}, "holds '\\u202e'"),
        ({"author_name": "Ada\u200bLovelace"}, "holds '\\u200b'"),
    ],
)
def test_answers_the_metadata_cannot_carry_are_refused(overrides, message):
    assert message in refusal(**overrides)


def test_a_long_value_is_shown_cut_short_on_one_line():
    message = refusal(version="1" * 500 + "\n")
    assert "... (501 characters)" in message and "\n" not in message and len(message) < 200


def test_versions_are_sorted_oldest_first():
    assert answers.python_versions("3.14, 3.9, 3.12") == ["3.9", "3.12", "3.14"]


def test_end_of_life_versions_warn():
    warnings = checks.check({**RENDERED_DEFAULTS, "python_versions": "3.10, 3.12"}, today=date(2026, 11, 26))
    assert warnings == ["python_versions: 3.10 reached end of life on 2026-10-31"]


def test_the_image_python_is_the_newest_answer_unless_distroless():
    assert answers.newest_python({**RENDERED_DEFAULTS, "python_versions": "3.13, 3.12"}) == "3.13"
    assert answers.newest_python({**RENDERED_DEFAULTS, "container_base": "distroless"}) == "3.13"


def test_every_kept_path_exists_in_the_template():
    project = ROOT / "{{cookiecutter.project_slug}}"
    for path in pruning.KEPT_WHEN:
        assert (project / path).exists(), f"the manifest names {path}, which the template lacks"


def test_every_target_and_registry_folder_is_a_choice_and_every_choice_has_one():
    assert set(platforms.TARGETS) == set(answers.CHOICES["deploy_target"]) - {"none"}
    assert set(platforms.REGISTRIES) == set(answers.CHOICES["container_registry"]) - {"none"}


def test_a_fact_a_folder_does_not_know_is_refused(tmp_path):
    (tmp_path / "targets" / "nomad").mkdir(parents=True)
    (tmp_path / "targets" / "nomad" / "target.toml").write_text("oidc = true\nodic = false\n")
    for template in platforms.TEMPLATES["targets"]:
        (tmp_path / "targets" / "nomad" / template).write_text("")
    with pytest.raises(ValueError, match="targets/nomad/target.toml: unknown facts odic"):
        platforms.read_folders("targets", "target.toml", platforms.TARGET_FACTS, root=tmp_path)


def test_a_folder_left_empty_by_pruning_goes_too():
    pruned = pruning.paths_to_prune({**RENDERED_DEFAULTS, "deploy_target": "cloud-run", "container_registry": "gar"})
    assert {"deploy", "scripts/aws", "scripts/bootstrap_aws.sh"} <= set(pruned)
    assert "scripts/bootstrap_gcp.sh" not in pruned and "scripts" not in pruned
    kept = pruning.paths_to_prune({**RENDERED_DEFAULTS, "deploy_target": "kubernetes", "container_registry": "ecr"})
    assert "deploy" not in kept and "scripts/aws" not in kept and "scripts/aws/execution-trust.json" in kept


@pytest.mark.parametrize(
    "odd",
    [
        'It\'s "quoted": #1 ${{ x }} {% y %} — café\\n\t',
        "DEL \x7f, NUL \x00, ESC \x1b, NEL \x85",  # TOML refuses DEL and the controls raw
        "lines \u2028 and \u2029 paragraphs",  # line breaks to a YAML 1.1 reader
        "zero\u200bwidth, no-break\u00a0space, bidi \u202e, tag \U000e0001, emoji 👩\u200d💻",
        "yes",
        "0123",
        "1e3",
        "null",
        "~",
        "",
    ],
)
def test_quoted_strings_are_valid_toml_yaml_and_python_on_one_line(odd):
    import ast
    import tomllib

    import yaml

    text = quoting.quoted(odd)
    assert text.isprintable() and "\n" not in text
    assert tomllib.loads(f"v = {text}")["v"] == odd
    assert yaml.safe_load(f"v: {text}")["v"] == odd
    assert ast.literal_eval(text) == odd


def test_uses_pins_to_the_recorded_sha():
    pin = pins.PINS["actions/checkout"]
    assert pins.uses("actions/checkout") == f"actions/checkout@{pin['sha']} # {pin['version']}"
    assert pins.uses("github/codeql-action/init").startswith("github/codeql-action/init@")
