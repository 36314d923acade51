"""The Jinja extension that cookiecutter loads (`_extensions` in cookiecutter.json): the parsed
answers, safe quoting and pinned actions, as filters and globals for the templates; and GitHub's
own `${{ ... }}` expressions kept away from Jinja."""

import re

import yaml
from jinja2 import pass_context
from jinja2.ext import Extension

from answers import (
    PINS,
    ROOT,
    UV_VERSION,
    check_environments,
    cloud_parts,
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


def flow(value: object) -> str:
    """A list or scalar as YAML flow text, quoted only where YAML needs it: [develop, main], '1.0'."""
    text = yaml.safe_dump(value, default_flow_style=True, width=2**16, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


CONFIG_PY = ROOT / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}" / "config.py"


@pass_context
def settings(context) -> tuple:
    """The settings the service reads: SETTINGS of the project's own config.py, rendered for
    these answers. .env.example, the README and the deploy files are made from it."""
    source = context.environment.from_string(CONFIG_PY.read_text("utf-8"))
    namespace = {"__name__": "config"}
    exec(compile(source.render(cookiecutter=context["cookiecutter"]), str(CONFIG_PY), "exec"), namespace)
    return namespace["SETTINGS"]


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
        )
        environment.globals.update(
            uses=uses,
            pin=PINS.__getitem__,
            newest_python=newest_python,
            pipeline=pipeline,
            self_hosted_labels=self_hosted_labels,
            settings=settings,
            cloud_parts=cloud_parts,
            uv_version=UV_VERSION,
            template_dir=str(ROOT),
        )

    def preprocess(self, source, name, filename=None):
        # Only the project's files: answers given on the command line are rendered as they are.
        return keep_github_expressions(source) if name else source
