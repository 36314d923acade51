"""The Kubernetes NetworkPolicy: rendered by kubectl kustomize as the pipeline renders it, valid,
selecting the service's pods, and open only to the namespaces each overlay names."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import yaml
from helpers import bake
from validators import tool

BASE = "deploy/kubernetes/base/networkpolicy.yaml"


def render(project, environment: str) -> dict[str, dict]:
    """{kind: document} of an overlay, as `kubectl kustomize` renders it."""
    overlay = project.path / "deploy/kubernetes/overlays" / environment
    out = subprocess.run([tool("kubectl"), "kustomize", str(overlay)], capture_output=True, text=True, check=True)
    return {document["kind"]: document for document in yaml.safe_load_all(out.stdout)}


def allowed_namespaces(policy: dict) -> list[str]:
    return [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
    ]


def test_only_the_ingress_controller_and_the_scraper_reach_the_pods(cookies):
    project = bake(cookies, deploy_target="kubernetes")
    for environment in ("staging", "production"):
        kinds = render(project, environment)
        policy = kinds["NetworkPolicy"]
        kubernetes_validate.validate(policy, kubernetes_validate.latest_version(), strict=True)
        pod = kinds["Deployment"]["spec"]["template"]
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        assert allowed_namespaces(policy) == ["ingress-nginx", "monitoring"]
        (container,) = pod["spec"]["containers"]
        ports = {port["name"] for port in container["ports"]}
        assert {port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]} <= ports


def test_each_overlay_names_its_own_namespaces(cookies):
    project = bake(cookies, deploy_target="kubernetes")
    overlay = project.path / "deploy/kubernetes/overlays/staging/kustomization.yaml"
    text = overlay.read_text()
    assert text.count("value: ingress-nginx") == text.count("value: monitoring") == 1
    overlay.write_text(
        text.replace("value: ingress-nginx", "value: traefik").replace("value: monitoring", "value: observability")
    )
    assert allowed_namespaces(render(project, "staging")["NetworkPolicy"]) == ["traefik", "observability"]
    assert allowed_namespaces(render(project, "production")["NetworkPolicy"]) == ["ingress-nginx", "monitoring"]


def test_no_policy_without_kubernetes(cookies):
    assert not bake(cookies, deploy_target="cloud-run").exists(BASE)
