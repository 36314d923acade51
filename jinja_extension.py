"""The Jinja extension that cookiecutter loads (`_extensions` in cookiecutter.json): the parsed
answers, safe quoting and pinned actions, as filters and globals for the templates."""

from jinja2.ext import Extension

from answers import check_environments, newest_python, python_versions, quoted, split_list, uses


class AnswersExtension(Extension):
    """Filters and globals for the templates: parsed answers, safe quoting, pinned actions."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(
            split_list=split_list,
            python_versions=python_versions,
            environments=check_environments,
            quoted=quoted,
        )
        environment.globals.update(uses=uses, newest_python=newest_python)
