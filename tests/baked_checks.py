"""Checks of a baked project against the readers of its files, for the bake and answer tests to
share: no template residue and every file parses, YAML values that carry an answer, the Kubernetes
objects `kubectl kustomize` makes."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
import warnings
from pathlib import Path

import yaml
from helpers import answers
from validators import tool

# Jinja left in a file; a GitHub expression `${{ ... }}` is the workflow's own, and so are
# docker/metadata-action's semver patterns `{{version}}`, `{{major}}.{{minor}}`.
UNRENDERED = re.compile(r"(?<!\$)\{\{(?!(?:version|major|minor|patch)\}\})|\{%|%\}|\bcookiecutter\.")
# A label value: at most 63 characters, alphanumerics at both ends, '-', '_', '.' between.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def assert_well_formed(project) -> None:
    """No template residue in a baked project, and every file parses."""
    for path in project.files():
        text = path.read_text("utf-8")
        assert not UNRENDERED.search(text), f"{path.name} has unrendered template text"
    assert_parses(project.path)


def assert_parses(project: Path) -> None:
    """Every YAML, TOML, JSON and Python file parses."""
    for path in sorted(p for p in project.rglob("*") if p.is_file() and ".venv" not in p.parts):
        relative = path.relative_to(project).as_posix()
        text = path.read_text("utf-8")
        if path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml" or path.name == "uv.lock":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".py":
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an invalid escape is a bug too
                compile(text, relative, "exec", flags=ast.PyCF_ONLY_AST)


def yaml_files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def value_scalars(node, in_key=False):
    """Every scalar node under `node` that is a value (not a mapping key)."""
    if isinstance(node, yaml.ScalarNode):
        if not in_key:
            yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from value_scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from value_scalars(key, in_key=True)
            yield from value_scalars(value)


def unquoted_answers(project: Path, marker: str) -> list[str]:
    """The plain (unquoted) YAML values that hold an answer, found by a marker every answer holds.

    A plain scalar's type is guessed by each reader: YAML 1.1 (PyYAML, kustomize's yaml.v2) reads
    `yes`, `on`, `0123` and `1:20` as bool or numbers, YAML 1.2 reads `1e3` as a float. A quoted one is
    a string everywhere. Block scalars (`run: |`) are literal text. Mapping keys are job ids
    (`deploy-<environment>`), which actionlint checks.
    """
    found = []
    for path in yaml_files(project):
        for document in yaml.compose_all(path.read_text("utf-8")):
            for node in value_scalars(document) if document else ():
                if node.style is None and marker in node.value.lower():
                    line = node.start_mark.line + 1
                    found.append(f"{path.relative_to(project)}:{line}: {node.value}")
    return found


def kustomize(project: Path) -> dict[str, list[dict]]:
    """Each overlay as `kubectl kustomize` renders it, by environment name."""
    overlays = project / "deploy" / "kubernetes" / "overlays"
    rendered = {}
    for overlay in sorted(overlays.iterdir()):
        result = subprocess.run(
            [tool("kubectl"), "kustomize", str(overlay)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"kubectl kustomize {overlay.name}: {result.stderr}"
        rendered[overlay.name] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return rendered


def assert_valid_kubernetes_names(project: Path, context: dict) -> None:
    """Every overlay renders; every name is a DNS label of 63 at most (a Service's a DNS-1035 one),
    every label value valid, and the names are the answers, as strings."""
    environments = {env.name: env for env in answers.check_environments(context["environments"])}
    rendered = kustomize(project)
    assert set(rendered) == set(environments)
    for name, documents in rendered.items():
        assert documents, f"overlay {name} renders nothing"
        for document in documents:
            metadata = document["metadata"]
            name_rule = answers.DNS_1035_LABEL if document["kind"] == "Service" else answers.DNS_1123_LABEL
            for rule, value in [(name_rule, metadata["name"]), (answers.DNS_1123_LABEL, metadata["namespace"])]:
                assert isinstance(value, str) and rule.match(value) and len(value) <= 63, (name, value)
            assert metadata["name"] == context["project_slug"]
            assert metadata["namespace"] == environments[name].dns_label
            labels = metadata.get("labels", {})
            assert labels["app.kubernetes.io/instance"] == environments[name].dns_label
            for value in labels.values():
                assert isinstance(value, str) and LABEL_VALUE.match(value) and len(value) <= 63, (name, value)
