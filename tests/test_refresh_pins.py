"""scripts/refresh_pins.py, on GitHub API answers kept in tests/data/github-api.json.

There is no GitHub here: the answers are written in the shape GitHub's REST API documents for
releases/latest, git/ref/tags and git/tags, with the pinned values; the raw action.yml files are
the actions' own at the pins; dl.k8s.io's answers are kubectl's pinned version and SHA-256s;
null is a 404.
"""

import json

import pytest
from helpers import ROOT

from flask_cicd import pins
from scripts import action_metadata, refresh_pins

RECORDED = json.loads((ROOT / "tests" / "data" / "github-api.json").read_text("utf-8"))
REPOS = ["actions/checkout", "aquasecurity/trivy-action", "docker/login-action"]


def fetch(url: str) -> str:
    body = RECORDED[url]  # a KeyError names a request the script should not have made
    if body is None:
        raise refresh_pins.NotFound(url)
    return body if isinstance(body, str) else json.dumps(body)


def test_refresh_reproduces_the_pins_from_the_api_answers():
    fresh = refresh_pins.refresh(pins.PINS, fetch, REPOS)
    assert fresh == pins.PINS  # nothing else touched, order kept


def test_an_annotated_tag_is_followed_to_its_commit():
    tag = RECORDED["https://api.github.com/repos/actions/checkout/git/ref/tags/v7.0.1"]["object"]
    assert tag["type"] == "tag" and tag["sha"] != pins.PINS["actions/checkout"]["sha"]
    assert refresh_pins.commit_of_tag(fetch, "actions/checkout", "v7.0.1") == pins.PINS["actions/checkout"]["sha"]


def test_trivy_action_records_the_trivy_it_installs():
    assert refresh_pins.pin(fetch, "aquasecurity/trivy-action")["trivy"] == "v0.70.0"


def test_a_new_action_is_added_in_order():
    fresh = refresh_pins.refresh({"zizmorcore/zizmor-action": {}}, fetch, ["docker/login-action"])
    assert list(fresh) == ["docker/login-action", "zizmorcore/zizmor-action"]
    assert fresh["docker/login-action"] == pins.PINS["docker/login-action"]


def test_a_prerelease_is_left_to_a_human():
    with pytest.raises(refresh_pins.PinError, match="not a stable vX.Y.Z tag"):
        refresh_pins.pin(fetch, "example/prerelease-action")


def test_metadata_is_read_again_where_a_pin_moved_and_kept_where_it_did_not():
    stored = json.loads(action_metadata.METADATA.read_text("utf-8"))
    pinned = {repo: pins.PINS[repo] for repo in ["actions/checkout", "docker/login-action"]}
    stale = {**stored, "actions/checkout": {**stored["actions/checkout"], "sha": "0" * 40, "outputs": []}}
    fresh, missed = refresh_pins.refresh_metadata(stale, pinned, fetch)
    assert fresh == {repo: stored[repo] for repo in pinned} and missed == []  # unpinned repositories go


def not_found(url: str) -> str:
    raise refresh_pins.NotFound(url)


def test_an_action_yaml_is_found_and_a_missing_one_is_named():
    sha = pins.PINS["aquasecurity/trivy-action"]["sha"]
    assert refresh_pins.action_definition(fetch, "aquasecurity/trivy-action", sha)["name"] == "Aqua Security Trivy"
    stored = {"example/gone": {"sha": "1" * 40, "inputs": {}, "outputs": []}}
    fresh, missed = refresh_pins.refresh_metadata(stored, {"example/gone": {"sha": "2" * 40}}, not_found)
    assert fresh == stored and missed == [f"example/gone: no action.yml at {'2' * 40}"]


def test_actions_in_subfolders_are_read_from_their_folder():
    sha = "3" * 40
    files = {
        f"https://raw.githubusercontent.com/o/r/{sha}/init/action.yml": "inputs: {languages: {required: true}}",
        f"https://raw.githubusercontent.com/o/r/{sha}/action.yml": "outputs: {sarif: {}}",
    }
    old = {"o/r": {"sha": "4" * 40}, "o/r/init": {"sha": "4" * 40}}
    fresh, _ = refresh_pins.refresh_metadata(old, {"o/r": {"sha": sha}}, lambda url: files[url])
    assert fresh == {
        "o/r": {"sha": sha, "inputs": {}, "outputs": ["sarif"]},
        "o/r/init": {"sha": sha, "inputs": {"languages": {"required": True, "default": False}}, "outputs": []},
    }


def test_the_templates_own_workflows_follow_the_pins():
    checkout = pins.PINS["actions/checkout"]
    stale = (
        "- uses: actions/checkout@"
        + "0" * 40
        + " # v1.0.0\n- uses: github/codeql-action/init@"
        + "1" * 40
        + " # v2.0.0"
    )
    assert refresh_pins.repin(stale, pins.PINS) == (
        f"- uses: actions/checkout@{checkout['sha']} # {checkout['version']}\n"
        f"- uses: github/codeql-action/init@{pins.PINS['github/codeql-action']['sha']}"
        f" # {pins.PINS['github/codeql-action']['version']}"
    )
    for workflow in refresh_pins.WORKFLOWS.glob("*.yml"):
        text = workflow.read_text("utf-8")
        assert refresh_pins.repin(text, pins.PINS) == text and refresh_pins.USES.search(text)


def test_kubectl_is_the_stable_release_with_its_published_checksums():
    assert refresh_pins.refresh_kubectl(fetch) == pins.TOOLS["kubectl"]


def test_main_rewrites_the_files_and_names_each_bump_and_what_it_left(tmp_path, monkeypatch, capsys):
    files = {name: tmp_path / name for name in ("pins.json", "metadata.json", "tools.json")}
    stale = {**pins.PINS, "docker/login-action": {"version": "v3.0.0", "sha": "0" * 40, "tagged": "2024-01-01"}}
    metadata = json.loads(action_metadata.METADATA.read_text("utf-8"))
    metadata["docker/login-action"]["sha"] = "0" * 40
    files["pins.json"].write_text(json.dumps(stale))
    files["metadata.json"].write_text(json.dumps({**metadata, "example/unpinned": {}}))
    files["tools.json"].write_text(json.dumps({**pins.TOOLS, "kubectl": {"version": "v1.30.0"}}))
    monkeypatch.setattr(refresh_pins, "PINS_FILE", files["pins.json"])
    monkeypatch.setattr(refresh_pins, "TOOLS_FILE", files["tools.json"])
    monkeypatch.setattr(action_metadata, "METADATA", files["metadata.json"])
    monkeypatch.setattr(refresh_pins, "ROOT", tmp_path)
    monkeypatch.setattr(refresh_pins, "WORKFLOWS", tmp_path)
    (tmp_path / "own.yml").write_text("      - uses: docker/login-action@" + "0" * 40 + " # v3.0.0\n")
    monkeypatch.setattr(refresh_pins, "github", fetch)
    assert refresh_pins.main(["docker/login-action", "example/prerelease-action"]) == 0
    assert files["pins.json"].read_text() == (ROOT / "github-actions-pins.json").read_text()
    assert files["metadata.json"].read_text() == (ROOT / "tests/data/action-metadata.json").read_text()
    assert files["tools.json"].read_text() == (ROOT / "tool-pins.json").read_text()
    login = pins.PINS["docker/login-action"]
    assert (
        tmp_path / "own.yml"
    ).read_text() == f"      - uses: docker/login-action@{login['sha']} # {login['version']}\n"
    out = capsys.readouterr().out
    assert out.startswith(
        "docker/login-action: v3.0.0 -> v4.1.0\n"
        f"metadata.json: {len(metadata)} actions at their pins\n"
        f"kubectl: v1.30.0 -> {pins.TOOLS['kubectl']['version']}\n"
        "not refreshed:\n"
        "- example/prerelease-action: the latest release 'v2.0.0-rc.1' is not a stable vX.Y.Z tag; pin it by hand\n"
    )
    assert [line.split(" in ")[0] for line in out.splitlines()[5:]] == [
        "- buildkit",
        "- codecov-cli",
        "- gcloud",
        "- uv",
    ]


def test_an_unreachable_server_changes_nothing(tmp_path, monkeypatch, capsys):
    # The pins and metadata are fetched, kubectl's answer is not: nothing is written.
    stale = json.dumps({**pins.PINS, "docker/login-action": {"version": "v3.0.0", "sha": "0" * 40}})
    for name, module, attribute in [
        ("pins", refresh_pins, "PINS_FILE"),
        ("tools", refresh_pins, "TOOLS_FILE"),
        ("metadata", action_metadata, "METADATA"),
    ]:
        monkeypatch.setattr(module, attribute, tmp_path / name)
    (tmp_path / "pins").write_text(stale)
    metadata = json.loads((ROOT / "tests/data/action-metadata.json").read_text("utf-8"))
    (tmp_path / "metadata").write_text(json.dumps({**metadata, "docker/login-action": {"sha": "0" * 40}}))
    (tmp_path / "tools").write_text(json.dumps(pins.TOOLS))
    monkeypatch.setattr(refresh_pins, "WORKFLOWS", tmp_path)
    (tmp_path / "own.yml").write_text("uses: docker/login-action@" + "0" * 40 + " # v3.0.0\n")
    before = {path.name: path.read_text() for path in tmp_path.iterdir()}

    def unreachable(url: str) -> str:
        if url.startswith(refresh_pins.KUBERNETES):
            raise refresh_pins.urllib.error.URLError("Name or service not known")
        return fetch(url)

    monkeypatch.setattr(refresh_pins, "github", unreachable)
    assert refresh_pins.main(["docker/login-action"]) == 1
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == before
    assert capsys.readouterr().err == "error: Name or service not known; nothing changed\n"
