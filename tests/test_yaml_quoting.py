"""Every answer that lands in a YAML file is quoted, so every reader takes it as the string it is."""

import pytest
import yaml
from baked_checks import assert_valid_kubernetes_names, unquoted_answers
from helpers import answers, bake
from validators import actionlint

# Every free-text answer holds the marker "qq", so the scan finds each wherever it lands.
MARKED = {
    "project_name": "Qq Project",
    "project_slug": "qq-slug",
    "package_name": "qq_package",
    "description": "qq description",
    "author_name": "Qq Author",
    "author_email": "qq@example.com",
    "github_owner": "qq-owner",
    "environments": "qq-staging:qq-develop, Qq_Production:qq/main -> qq-eu",
    "runner": "qq-runner, linux",
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"deploy_target": "kubernetes", "container_registry": "ghcr.io", "notify": "slack"},
        {"deploy_target": "cloud-run", "container_registry": "gar"},
        {"deploy_target": "ssh-compose", "container_registry": "docker.io", "notify": "webhook"},
        {"deploy_target": "ecs", "container_registry": "ecr"},
        {"deploy_target": "azure-webapp", "container_registry": "acr"},
    ],
    ids=lambda overrides: overrides["deploy_target"],
)
def test_no_yaml_file_holds_an_unquoted_answer(cookies, overrides):
    project = bake(cookies, **MARKED, **overrides)
    assert not unquoted_answers(project.path, "qq"), "\n".join(unquoted_answers(project.path, "qq"))


def test_the_scan_finds_an_unquoted_answer(tmp_path):
    (tmp_path / "x.yaml").write_text('a: "qq"\nb: |\n  qq\nc: [qq-x]\nqq-key: 1\n', "utf-8")
    assert unquoted_answers(tmp_path, "qq") == ["x.yaml:4: qq-x"]


# Answers every YAML 1.1 or 1.2 reader would read as something else, were they not quoted.
SPECIAL = {
    "project_name": "Yes",  # slug, package and every Kubernetes name: 'yes'
    "environments": "0123:on, 1e3:off -> null -> y -> 0x1F -> True -> 1_000",
    "runner": "self-hosted, no",
    "deploy_target": "kubernetes",
}


def test_yaml_special_answers_reach_kubernetes_and_github_as_strings(cookies):
    project = bake(cookies, **SPECIAL)
    assert_valid_kubernetes_names(project.path, project.context)
    names = [env.name for env in answers.check_environments(SPECIAL["environments"])]
    ci = project.yaml(".github/workflows/ci.yml")
    assert [ci["jobs"][f"deploy-{name.lower()}"]["with"]["environment"] for name in names] == names
    assert ci[True]["push"]["branches"] == ["on", "off"]  # PyYAML reads the key `on` as True; GitHub does not
    manual = project.yaml(".github/workflows/manual-deploy.yml")
    assert manual[True]["workflow_dispatch"]["inputs"]["environment"]["options"] == names
    # Runners of your own: a fork's pull request goes to GitHub's, others to the labels, as strings.
    assert ci["jobs"]["lint"]["runs-on"].endswith("""|| fromJSON('["self-hosted", "no"]') }}""")
    assert actionlint(project) == len(list((project.path / ".github" / "workflows").glob("*.yml")))
    # Overlay folders are named after the environments, as deploy.yml looks them up.
    overlays = project.path / "deploy" / "kubernetes" / "overlays"
    assert sorted(p.name for p in overlays.iterdir()) == sorted(names)
    for path in project.path.rglob("*.y*ml"):
        list(yaml.safe_load_all(path.read_text("utf-8")))
