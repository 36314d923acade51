"""scripts/refresh_pins.py, on GitHub API answers kept in tests/data/github-api.json.

There is no GitHub here: the answers are written in the shape GitHub's REST API documents for
releases/latest, git/ref/tags and git/tags (and the raw action.yaml), with the pinned values.
"""

import importlib.util
import json

import pytest
from flask_cicd import pins
from helpers import ROOT

spec = importlib.util.spec_from_file_location("refresh_pins", ROOT / "scripts" / "refresh_pins.py")
refresh_pins = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh_pins)

RECORDED = json.loads((ROOT / "tests" / "data" / "github-api.json").read_text("utf-8"))
REPOS = ["actions/checkout", "aquasecurity/trivy-action", "docker/login-action"]


def fetch(url: str) -> str:
    body = RECORDED[url]  # a KeyError names a request the script should not have made
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


def test_main_rewrites_the_file_and_names_each_bump(tmp_path, monkeypatch, capsys):
    pins_file = tmp_path / "github-actions-pins.json"
    stale = {**pins.PINS, "docker/login-action": {"version": "v3.0.0", "sha": "0" * 40, "tagged": "2024-01-01"}}
    pins_file.write_text(json.dumps(stale))
    monkeypatch.setattr(refresh_pins, "PINS_FILE", pins_file)
    monkeypatch.setattr(refresh_pins, "github", fetch)
    assert refresh_pins.main(["docker/login-action"]) == 0
    assert pins_file.read_text() == (ROOT / "github-actions-pins.json").read_text()
    assert capsys.readouterr().out == "docker/login-action: v3.0.0 -> v4.1.0\n"
