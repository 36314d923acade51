"""A target's or registry's folder is checked when the template loads: a fact of the wrong type
or form, a missing template or a file that is not TOML stops every bake, naming the folder,
before anything is written. Facts that reach shell scripts and workflow keys unquoted (names,
the push environment, the image) are held to what is safe there."""

import shutil

import pytest
from helpers import ROOT

from flask_cicd import platforms

QUAY = (ROOT / "registries" / "quay.io" / "registry.toml").read_text("utf-8")


def folder(tmp_path, text=QUAY, templates=("login.j2",)):
    registry = tmp_path / "registries" / "example"
    registry.mkdir(parents=True)
    (registry / "registry.toml").write_text(text, "utf-8")
    for name in templates:
        shutil.copy(ROOT / "registries" / "quay.io" / name, registry / name)
    return tmp_path


def read(root):
    return platforms.read_folders("registries", "registry.toml", platforms.REGISTRY_FACTS, root=root)


def test_a_copy_of_a_registry_is_read_and_stray_files_are_skipped(tmp_path):
    root = folder(tmp_path)
    (root / "registries" / ".DS_Store").write_text("", "utf-8")
    assert read(root)["example"]["push_environment"] == "quay"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (('push_environment = "quay"', "push_environment = 'q\"; touch /tmp/x; echo \"'"), "push_environment"),
        (('push_environment = "quay"', 'pushenvironment = "quay"'), "unknown facts pushenvironment"),
        (('title = "Quay.io"', 'title = "Quay.io"\noidc = "false"'), "oidc must be bool"),
        (('image = "quay.io/', 'image = "quay.io/x\\"; rm -rf /; '), "is not an image name"),
        (('QUAY_READ_ROBOT_TOKEN = "token', '"QUAY READ" = "token'), "is not a secret's or variable's name"),
        (('kind = "variable"', 'kind = "secrte"'), "a setting is"),
        (('title = "Quay.io"', 'title = "Quay.io\\nfoo: bar"'), "is not one line"),
        (('title = "Quay.io"', "title = Quay.io"), "Invalid value"),
        (('push_environment = "quay"', ""), "keeps it in a push_environment"),
    ],
    ids=[
        "shell-in-environment",
        "unknown",
        "type",
        "image",
        "secret-name",
        "setting-kind",
        "two-lines",
        "toml",
        "token-outside-an-environment",
    ],
)
def test_a_bad_fact_is_refused_naming_the_file(tmp_path, change, complaint):
    old, new = change
    assert old in QUAY
    with pytest.raises(ValueError, match="registries/example/registry.toml: ") as refused:
        read(folder(tmp_path, QUAY.replace(old, new, 1)))
    assert complaint in str(refused.value)


def test_a_missing_template_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match="registries/example: missing login.j2"):
        read(folder(tmp_path, templates=()))
