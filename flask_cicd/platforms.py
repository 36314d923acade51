"""The deploy targets and the container registries, each declared once in its own folder:
`targets/<name>/target.toml` and `registries/<name>/registry.toml` hold its facts, beside the
templates only it uses (a target's deploy steps and README section, a registry's login).
Pruning, permissions, secrets, CODEOWNERS, the README and the tests read them from here; a
value's folder is what adding a target or a registry takes (and its choice in cookiecutter.json).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from flask_cicd.answers import ENVIRONMENT, ROOT

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


# The templates each folder must hold beside its facts.
TEMPLATES = {"targets": ["deploy.j2", "readme.j2"], "registries": ["login.j2"]}
# What facts that reach shell scripts and workflow keys may hold: they are written unquoted.
NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # a GitHub secret or variable
IMAGE = re.compile(r"^(?:[a-z0-9.:/_<>-]|\$\{\{ vars\.[A-Z][A-Z0-9_]* \}\})+$")
CLOUDS = {"", "aws", "gcp", "azure"}


def problems(facts: dict, defaults: dict) -> list[str]:
    """What is wrong with a folder's stated facts, one phrase each."""
    found = [f"unknown facts {', '.join(sorted(set(facts) - set(defaults)))}"] if set(facts) - set(defaults) else []
    found += [
        f"{name} must be {type(defaults[name]).__name__}, not {value!r}"
        for name, value in facts.items()
        if name in defaults and type(value) is not type(defaults[name])
    ]
    if found:
        return found
    names = [*facts.get("secrets", {}), *facts.get("read_secrets", {}), *facts.get("identity", {}).values()]
    names += [setting.get("name", "") for setting in facts.get("settings", [])]
    found += [f"{name!r} is not a secret's or variable's name (A-Z, 0-9, _)" for name in names if not NAME.match(name)]
    if "push_environment" in defaults and not (
        facts.get("oidc") or facts.get("github_packages") or facts.get("push_environment")
    ):
        found.append("a registry that logs in with a stored token keeps it in a push_environment")
    if facts.get("push_environment") and not ENVIRONMENT.match(facts["push_environment"]):
        found.append(f"push_environment {facts['push_environment']!r} is not an environment's name")
    if "image" in defaults and not IMAGE.match(facts.get("image", "")):
        found.append(f"image {facts.get('image', '')!r} is not an image name (with <owner>, <slug>, ${{{{ vars.X }}}})")
    if facts.get("cloud", "") not in CLOUDS:
        found.append(f"cloud {facts['cloud']!r} is not one of {', '.join(sorted(CLOUDS - {''}))}")
    for setting in facts.get("settings", []):
        if set(setting) != {"kind", "name", "what"} or setting["kind"] not in ("secret", "variable"):
            found.append(f"a setting is {{kind = secret|variable, name, what}}, not {setting!r}")
    texts = [*facts.get("secrets", {}).values(), *facts.get("read_secrets", {}).values(), facts.get("title", "")]
    found += [f"{text!r} is not one line" for text in texts if not isinstance(text, str) or "\n" in text]
    return found


def read_folders(kind: str, file: str, facts: dict, root: Path = ROOT) -> dict[str, dict]:
    """Each folder of `kind` (targets, registries) by name: its `file`'s facts over `facts`.
    A fact of the wrong type or form, or a missing file, stops every bake with the folder named."""
    found = {}
    for folder in sorted(path for path in (root / kind).iterdir() if path.is_dir()):
        path = folder / file
        where = path.relative_to(root).as_posix()
        missing = [name for name in [file, *TEMPLATES[kind]] if not (folder / name).is_file()]
        if missing:
            raise ValueError(f"{folder.relative_to(root).as_posix()}: missing {', '.join(missing)}")
        try:
            stated = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{where}: {error}") from None
        wrong = problems(stated, facts)
        if wrong:
            raise ValueError(f"{where}: {'; '.join(wrong)}")
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
