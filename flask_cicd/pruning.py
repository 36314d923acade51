"""Which files the answers switch off (the one manifest, KEPT_WHEN), and the plan the
post-generation hook carries out: remove those, write the lock files and the per-environment files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache

from flask_cicd.answers import TEMPLATE_PROJECT, Environment, check_environments, lock_files, stale_locks_warning
from flask_cicd.pipeline import self_hosted_labels
from flask_cicd.platforms import REGISTRIES, TARGETS

# What every deploy target needs: the deploy workflows and the smoke test.
DEPLOY_PATHS = [
    ".github/workflows/deploy.yml",
    ".github/workflows/manual-deploy.yml",
    "scripts/smoke_test.py",
    "tests/unit/test_smoke_test.py",
]


def chosen(name: str, *values: str) -> Callable[[dict], bool]:
    """A condition: the answer `name` is one of `values`."""
    return lambda answers: answers[name] in values


def owned_by_platforms() -> dict[str, Callable[[dict], bool]]:
    """Each path a target or registry owns, kept while one of its owners is chosen; a cloud's
    set-up script, scripts/bootstrap_<cloud>.sh, is owned by the targets and registries there."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for answer, platforms in (("deploy_target", TARGETS), ("container_registry", REGISTRIES)):
        for name, facts in platforms.items():
            setup = [f"scripts/bootstrap_{facts['cloud']}.sh"] if facts["cloud"] else []
            for path in [*facts["owns"], *setup]:
                owners.setdefault(path, []).append((answer, name))
    return {
        path: lambda answers, pairs=tuple(pairs): any(answers[name] == value for name, value in pairs)
        for path, pairs in owners.items()
    }


# Files kept only while a condition on the answers holds, and removed from the baked project
# otherwise: the one manifest of pruning. Paths are relative to the project root, with the package
# folder named as in the template (see baked_path); a folder goes whole, and a folder all of whose
# entries went goes too (deploy/ without a target's files). The deploy targets and registries
# name their own files (`owns` and `cloud` in their folders, see platforms.py).
KEPT_WHEN: dict[str, Callable[[dict], bool]] = {
    ".flake8": chosen("code_style", "black+flake8"),
    "requirements-uv.txt": chosen("package_manager", "uv"),
    "src/{{cookiecutter.package_name}}/metrics.py": chosen("metrics", "prometheus"),
    "tests/unit/test_metrics.py": chosen("metrics", "prometheus"),
    "src/{{cookiecutter.package_name}}/error_tracking.py": chosen("error_tracking", "sentry"),
    "tests/unit/test_error_tracking.py": chosen("error_tracking", "sentry"),
    ".github/actionlint.yaml": lambda answers: bool(self_hosted_labels(answers)),
    ".github/workflows/audit.yml": lambda answers: answers["dependency_audit"] != "none",
    **{path: chosen("deploy_target", *TARGETS) for path in DEPLOY_PATHS},
    **owned_by_platforms(),
}

# A folder of this name holds templates rendered once per environment, into a folder named
# after it (cookiecutter renders a file once; see `post_generation`).
PER_ENVIRONMENT = "__environment__"


PACKAGE_FOLDER = "{{cookiecutter.package_name}}"


def baked_path(relative: str, answers: dict) -> str:
    """A manifest path as it is in the baked project: the package folder takes its name."""
    return relative.replace(PACKAGE_FOLDER, answers["package_name"])


def paths_to_prune(answers: dict) -> list[str]:
    """The paths KEPT_WHEN switches off for these answers, then the folders they leave empty."""
    # Worked out once per set of answers: the bake asks for each kept() in its templates.
    return list(pruned_for(tuple((name, value) for name, value in answers.items() if isinstance(value, str))))


@cache
def pruned_for(answers: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    answers = dict(answers)
    pruned = [path for path, keep in KEPT_WHEN.items() if not keep(answers)]
    folders = sorted({path.rpartition("/")[0] for path in pruned} - {""})
    while folders:
        folder = folders.pop()
        entries = {entry.relative_to(TEMPLATE_PROJECT).as_posix() for entry in (TEMPLATE_PROJECT / folder).iterdir()}
        if folder not in pruned and entries <= set(pruned):
            pruned.append(folder)
            if "/" in folder:
                folders.append(folder.rpartition("/")[0])
    return tuple(baked_path(path, answers) for path in pruned)


@cache
def prunable_files() -> frozenset[str]:
    """The project's files that some answers prune (KEPT_WHEN's, and those in its folders), named
    as cookiecutter names them: a bake need not render them for answers that prune them."""
    files = set()
    for path in KEPT_WHEN:
        found = TEMPLATE_PROJECT / path
        files.update(
            [path] if not found.is_dir() else (p.relative_to(TEMPLATE_PROJECT).as_posix() for p in found.rglob("*"))
        )
    return frozenset(files)


def kept(path: str, answers: dict) -> bool:
    """Whether the baked project holds `path` (a template path, as in KEPT_WHEN)."""
    path = baked_path(path, answers)
    return not any(path == pruned or path.startswith(f"{pruned}/") for pruned in paths_to_prune(answers))


def post_generation(answers: dict, render: Callable[[str, Environment], str]) -> dict:
    """What the post-generation hook does, worked out in the bake's own process (where Jinja is
    loaded already), so that the hook itself needs only the standard library:

    - "remove": the paths the answers switched off, then the `__environment__` folders;
    - "write": {path: text} for the lock files, and for each kept `__environment__` folder its
      files rendered once per environment (`render(source, environment)`) into a sibling folder
      named after the environment (cookiecutter renders a file only once);
    - "warn": a line for stderr when the locks are stale, else None.
    """
    pruned = paths_to_prune(answers)
    files = lock_files(answers)
    folders = []
    for folder in sorted(TEMPLATE_PROJECT.rglob(PER_ENVIRONMENT)):
        baked = baked_path(folder.relative_to(TEMPLATE_PROJECT).as_posix(), answers)
        folders.append(baked)
        if any(baked == path or baked.startswith(f"{path}/") for path in pruned):
            continue
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = source.read_text("utf-8")
            for environment in check_environments(answers["environments"]):
                target = f"{baked.rpartition('/')[0]}/{environment.name}/{source.relative_to(folder).as_posix()}"
                files[target] = render(text, environment)
    return {"remove": [*pruned, *folders], "write": files, "warn": stale_locks_warning(date.today())}
