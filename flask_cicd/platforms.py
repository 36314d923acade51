"""The deploy targets and the container registries, each declared once in its own folder:
`targets/<name>/target.toml` and `registries/<name>/registry.toml` hold its facts, beside the
templates only it uses (a target's deploy steps and README section, a registry's login).
Pruning, permissions, secrets, CODEOWNERS, the README and the tests read them from here; a
value's folder is what adding a target or a registry takes (and its choice in cookiecutter.json).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the template: this package's parent

# Every fact a target.toml may state, and its value when the file says nothing.
TARGET_FACTS = {
    "oidc": False,  # deploy.yml signs in to the cloud with GitHub's OIDC token (id-token: write)
    "cloud": "",  # aws, gcp or azure: scripts/bootstrap_<cloud>.sh sets it up
    "owns": [],  # project paths kept only for this target
    "secrets": {},  # what deploy.yml declares and its callers pass by name: NAME = description
    "gitignore": [],  # lines .gitignore gains
    "slug_max": 0,  # a shorter limit on project_slug than Kubernetes' 63, and why
    "slug_max_why": "",
}
# Every fact a registry.toml may state, and its value when the file says nothing.
REGISTRY_FACTS = {
    "title": "",  # its name in prose
    "image": "",  # the image's name; <owner> and <slug> are filled in, ${{ ... }} is GitHub's
    "oidc": False,  # logs in with GitHub's OIDC token (id-token: write)
    "github_packages": False,  # the job's GITHUB_TOKEN logs in: it needs `packages:` permission
    "cloud": "",  # aws, gcp or azure: scripts/bootstrap_<cloud>.sh sets it up
    "owns": [],  # project paths kept only for this registry
    "push_environment": "",  # a GitHub environment holding the push secret (deploy branches, v* tags)
    "identity": {},  # the setting naming the push identity ("write") and the read-only one ("read")
    "login_actions": [],  # the actions its login steps use (login.j2)
    "read_secrets": {},  # what deploy.yml's provenance check reads: NAME = description
    "settings": [],  # the repository's secrets and variables: [{kind, name, what}], for the README
    "note": "",  # a paragraph of the README's "What to set up"; <image> is filled in
}


def read_folders(kind: str, file: str, facts: dict, root: Path = ROOT) -> dict[str, dict]:
    """Each folder of `kind` (targets, registries) by name: its `file`'s facts over `facts`."""
    found = {}
    for folder in sorted((root / kind).iterdir()):
        path = folder / file
        stated = tomllib.loads(path.read_text("utf-8"))
        unknown = set(stated) - set(facts)
        if unknown:
            raise ValueError(f"{path.relative_to(root)}: unknown facts {', '.join(sorted(unknown))}")
        found[folder.name] = {**facts, **stated, "name": folder.name, "folder": f"{kind}/{folder.name}"}
    return found


TARGETS = read_folders("targets", "target.toml", TARGET_FACTS)
REGISTRIES = read_folders("registries", "registry.toml", REGISTRY_FACTS)
NO_TARGET = {**TARGET_FACTS, "name": "none", "folder": ""}
NO_REGISTRY = {**REGISTRY_FACTS, "name": "none", "folder": ""}


def deploy_target(answers: dict) -> dict:
    """The answered target's facts (`name` "none" and no facts for no deploys)."""
    return TARGETS.get(answers["deploy_target"], NO_TARGET)


def container_registry(answers: dict) -> dict:
    """The answered registry's facts (`name` "none" and no facts for no registry)."""
    return REGISTRIES.get(answers["container_registry"], NO_REGISTRY)


def clouds(answers: dict) -> set[str]:
    """The clouds the registry and the deploy target live in, each set up by its bootstrap script."""
    return {facts["cloud"] for facts in (container_registry(answers), deploy_target(answers)) if facts["cloud"]}


def fill(value: str | dict, answers: dict) -> str | dict:
    """A fact's text (or each text of a table) with <owner>, <slug> and <image> filled in."""
    if isinstance(value, dict):
        return {key: fill(text, answers) for key, text in value.items()}
    text = value.replace("<owner>", answers["github_owner"].lower()).replace("<slug>", answers["project_slug"])
    return text.replace("<image>", image(answers)) if "<image>" in text else text


def image(answers: dict) -> str:
    """The image's name in the registry, as the workflows write it (GitHub's `${{ vars.X }}` in it)."""
    return fill(container_registry(answers)["image"], answers)


def image_shown(answers: dict) -> str:
    """The image's name for a reader: `<registry>/<slug>` where the workflows fill it in from variables."""
    name = image(answers)
    return f"<registry>/{answers['project_slug']}" if "${{" in name else name


# The deploy messages' webhook, by the `notify` answer: a secret deploy.yml declares.
NOTIFY_SECRETS = {
    "slack": {"SLACK_WEBHOOK_URL": "Slack incoming-webhook URL for deploy messages"},
    "webhook": {"DEPLOY_WEBHOOK_URL": "URL that receives a JSON message about each deploy"},
}


def deploy_secrets(answers: dict) -> dict[str, str]:
    """The secrets deploy.yml declares and its callers pass by name, with their descriptions:
    the registry's read-only one, the target's own, the deploy messages' webhook."""
    return {
        **container_registry(answers)["read_secrets"],
        **deploy_target(answers)["secrets"],
        **NOTIFY_SECRETS.get(answers["notify"], {}),
    }
