"""The Jinja extension that cookiecutter loads (`_extensions` in cookiecutter.json): the parsed
answers, safe quoting and pinned actions, as filters and globals for the templates; and GitHub's
own `${{ ... }}` expressions kept away from Jinja."""

import re

from jinja2.ext import Extension

from answers import (
    PINS,
    ROOT,
    UV_VERSION,
    check_environments,
    check_or_exit,
    dockerfile_quoted,
    newest_python,
    pipeline,
    python_versions,
    quoted,
    self_hosted_labels,
    split_list,
    uses,
)

# A GitHub expression `${{ ... }}`, and a Jinja raw block that may already hold some.
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
RAW_BLOCK = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.DOTALL)


def keep_github_expressions(source: str) -> str:
    """Wrap each `${{ ... }}` in a raw block so Jinja leaves it to GitHub (outside existing raw blocks).

    Templates then read as plain workflow YAML; Jinja never goes inside a GitHub expression.
    """
    parts = RAW_BLOCK.split(source)
    raws = RAW_BLOCK.findall(source)
    wrapped = [GITHUB_EXPRESSION.sub(lambda m: "{% raw %}" + m.group(0) + "{% endraw %}", part) for part in parts]
    return "".join(part + raw for part, raw in zip(wrapped, [*raws, ""]))


def flow(value: str | list) -> str:
    """A string, or a list as a YAML flow sequence, quoted by `quoted`: "main", ["develop", "main"].
    Always quoted: YAML 1.1 and 1.2 readers disagree on what a plain `on`, `0123` or `1e3` is, and
    none reads a quoted one wrong."""
    if isinstance(value, str):
        return quoted(value)
    return "[" + ", ".join(quoted(item) for item in value) + "]"


def check_answers(answers: dict) -> str:
    """Refuse bad answers in cookiecutter's own process, before anything is written: one line on
    stderr and exit 1, with nothing else printed (see `__answers_checked` in cookiecutter.json)."""
    check_or_exit(dict(answers), warn=False)
    return "yes"


class AnswersExtension(Extension):
    """Filters and globals for the templates: parsed answers, safe quoting, pinned actions."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(
            split_list=split_list,
            python_versions=python_versions,
            environments=check_environments,
            quoted=quoted,
            flow=flow,
            dockerfile_quoted=dockerfile_quoted,
            check_answers=check_answers,
        )
        environment.globals.update(
            uses=uses,
            pin=PINS.__getitem__,
            newest_python=newest_python,
            pipeline=pipeline,
            self_hosted_labels=self_hosted_labels,
            uv_version=UV_VERSION,
            template_dir=str(ROOT),
        )

    def preprocess(self, source, name, filename=None):
        # Only the project's files: answers given on the command line are rendered as they are.
        return keep_github_expressions(source) if name else source
