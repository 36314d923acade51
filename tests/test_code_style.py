"""Every combination of the answers that change the generated Python passes its code style's
lint: the commands of `tasks.py lint`, at the versions the project's lock pins. Cheap (no install),
so never sampled: the sampled installs of test_generated_project.py may leave a style out."""

import re

import pytest
from helpers import answers, bake, combination_id, find_python, run

CODE_ANSWERS = ("code_style", "metrics", "error_tracking")


def every_combination() -> list[dict[str, str]]:
    rows = [{}]
    for name in CODE_ANSWERS:
        rows = [{**row, name: value} for row in rows for value in answers.CHOICES[name]]
    return rows


@pytest.mark.parametrize("overrides", [pytest.param(row, id=combination_id(row)) for row in every_combination()])
def test_generated_code_passes_its_lint(cookies, overrides):
    project = bake(cookies, package_manager="uv", **overrides)
    locked = {package["name"]: package["version"] for package in project.toml("uv.lock")["package"]}
    python = find_python(project.toml("pyproject.toml")["project"]["requires-python"].removeprefix(">=").split(","))
    lint = re.search(r'"lint": \[(.*?)\]', project.text("tasks.py"))[1]
    commands = re.findall(r'"python -m (\S+) ([^"]*)"', lint)
    assert commands, lint
    for tool, arguments in commands:
        run(
            ["uvx", "--python", python, "--from", f"{tool}=={locked[tool]}", tool, *arguments.split()], cwd=project.path
        )
