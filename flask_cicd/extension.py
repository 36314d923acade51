"""The Jinja extension that cookiecutter loads (`_extensions` in cookiecutter.json): the parsed
answers, safe quoting and pinned actions, as filters and globals for the templates; and GitHub's
own `${{ ... }}` expressions kept away from Jinja. And two speed-ups for cookiecutter's rendering:
compiled templates cached on disk, names without Jinja not compiled at all, and the project's
files known for text without asking a classifier."""

import hashlib
import os
import re
import sys
from functools import cache, cached_property, partial
from pathlib import Path
from types import CodeType

from jinja2 import ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader, pass_context
from jinja2.ext import Extension

from flask_cicd.answers import (
    ROOT,
    TEMPLATE_PROJECT,
    check_environments,
    newest_python,
    python_versions,
    split_list,
)
from flask_cicd.checks import check_or_exit, verdict
from flask_cicd.pins import PINS, TOOLS, uses
from flask_cicd.pipeline import (
    ci_caches,
    deploy_branches,
    pipeline,
    runs_on,
    self_hosted_labels,
)
from flask_cicd.platforms import (
    clouds,
    container_registry,
    deploy_secrets,
    deploy_target,
    fill,
    image,
    image_shown,
)
from flask_cicd.pruning import kept, post_generation, prunable_files
from flask_cicd.quoting import dockerfile_quoted, quoted

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
    return "".join(part + raw for part, raw in zip(wrapped, [*raws, ""], strict=True))


def flow(value: str | list) -> str:
    """A string, or a list as a YAML flow sequence, quoted by `quoted`: "main", ["develop", "main"].
    Always quoted: YAML 1.1 and 1.2 readers disagree on what a plain `on`, `0123` or `1e3` is, and
    none reads a quoted one wrong."""
    if isinstance(value, str):
        return quoted(value)
    return "[" + ", ".join(quoted(item) for item in value) + "]"


def github_expression(text: str) -> str:
    """`${{ text }}`, GitHub's expression, for a template that makes one from Jinja values
    (Jinja may not write inside one: see keep_github_expressions)."""
    return "${{ " + text + " }}"


def check_answers(answers: dict) -> str:
    """Refuse bad answers in cookiecutter's own process, before anything is written: one line on
    stderr and exit 1, with nothing else printed (see `__answers_checked` in cookiecutter.json)."""
    check_or_exit(dict(answers))
    return "yes"


def jinja_starts(environment) -> tuple[str, ...]:
    """The strings that start Jinja syntax in `environment`'s templates."""
    starts = (
        environment.block_start_string,
        environment.variable_start_string,
        environment.comment_start_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
    )
    return tuple(start for start in starts if start)


class Verbatim(str):
    """A string with no Jinja in it: it renders as itself."""

    def render(self, *args, **kwargs) -> str:
        return str(self)


def from_string(environment, starts, source, globals=None, template_class=None):
    """cookiecutter renders every answer, folder and file name as a template, most of them with
    no Jinja at all: those come back as they are instead of each compiling a template (a line
    break is not left to chance: Jinja would normalise it). The others, the hooks among them,
    are compiled once and cached like the project's files."""
    if isinstance(source, str) and not any(start in source for start in (*starts, "\r", "\n")):
        return Verbatim(source)
    cache = environment.bytecode_cache
    if cache is None or not isinstance(source, str):
        code = environment.compile(source)
    else:
        name = f"<string {hashlib.sha1(source.encode()).hexdigest()}>"
        bucket = cache.get_bucket(environment, name, None, source)
        if bucket.code is None:
            bucket.code = environment.compile(source)
            cache.set_bucket(bucket)
        code = bucket.code
    cls = template_class or environment.template_class
    return cls.from_code(environment, code, environment.make_globals(globals), None)


class CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's cache of compiled templates, in a private folder of the temporary directory, so that
    a bake compiles only the templates changed since the last one. An entry is used only for the
    same source, compiled with this module's preprocessing and the same syntax settings. Within
    one process (the template's tests bake hundreds of times) the code is kept in memory too."""

    memory: dict[tuple[str, str], CodeType] = {}

    def __init__(self, environment):
        super().__init__(pattern="flask-cicd-%s.cache")
        self.environment = environment

    @cached_property
    def fingerprint(self) -> str:
        env = self.environment
        settings = (
            sorted(env.extensions),
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            env.autoescape,
        )
        return hashlib.sha1(Path(__file__).read_bytes() + repr(settings).encode()).hexdigest()

    def get_cache_key(self, name, filename=None):
        # cookiecutter's file names are relative to the template: make them this template's.
        return super().get_cache_key(name, f"{ROOT}|{filename}")

    def get_source_checksum(self, source):
        return super().get_source_checksum(self.fingerprint + source)

    def load_bytecode(self, bucket):
        code = self.memory.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code
            return
        super().load_bytecode(bucket)
        if bucket.code is not None:
            self.memory[bucket.key, bucket.checksum] = bucket.code

    def dump_bytecode(self, bucket):
        self.memory[bucket.key, bucket.checksum] = bucket.code
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass  # a cache that cannot be written only makes the next bake slower


def bytecode_cache(environment) -> CompiledTemplates | None:
    try:
        return CompiledTemplates(environment)
    except (OSError, RuntimeError):  # no private folder can be made in the temporary directory
        return None


CONFIG_PY = TEMPLATE_PROJECT / "src" / "{{cookiecutter.package_name}}" / "config.py"


@pass_context
def settings(context) -> tuple:
    """The settings the service reads: SETTINGS of the project's own config.py, rendered for
    these answers. .env.example, the README and the deploy files are made from it."""
    source = context.environment.from_string(CONFIG_PY.read_text("utf-8"))
    return settings_in(source.render(cookiecutter=context["cookiecutter"]))


@cache
def settings_in(config_py: str) -> tuple:
    """SETTINGS of a rendered config.py, run once per text: a bake asks in seven files."""
    namespace = {"__name__": "config"}
    exec(compile(config_py, str(CONFIG_PY), "exec"), namespace)
    return namespace["SETTINGS"]


def get_template(environment, get, name, parent=None, globals=None):
    """Jinja's get_template, finding this template's own folders too: macros/ (`{% import
    "pipeline.j2" %}`) and the root (targets/, registries/). cookiecutter's loader looks in the
    project folder and `../templates` only, and is set after the extensions load."""
    if not isinstance(environment.loader, ChoiceLoader):
        own = FileSystemLoader([ROOT / "macros", ROOT])
        environment.loader = ChoiceLoader([environment.loader, own] if environment.loader else [own])
    if parent is None and name in prunable_files():  # a project file, as cookiecutter asks for it
        return Prunable(partial(get, name, parent, globals), name)
    return get(name, parent, globals)


class Prunable:
    """A project file that some answers prune, loaded and rendered only for answers that keep it:
    for the others it is written empty, and the post-generation hook removes it."""

    def __init__(self, load, name: str):
        self.load = load
        self.name = name

    def render(self, *args, **context) -> str:
        answers = context.get("cookiecutter")
        if answers is not None and not kept(self.name, answers):
            return ""
        return self.load().render(*args, **context)


class TextUnlessBinary:
    """cookiecutter's is_binary for the files it renders, the project's own answered first: a file
    that reads as UTF-8 without a NUL is text (every file cookiecutter renders here has Jinja in
    it, see _copy_without_render). binaryornot's trained classifier, which cookiecutter asks about
    every file, cost a bake about 10 ms (a sixth of its instructions); it decides for other files."""

    def __init__(self, classifier, project=TEMPLATE_PROJECT):
        self.classifier = classifier
        self.project = os.path.join(project, "")

    def __call__(self, path) -> bool:
        if not os.path.abspath(path).startswith(self.project):  # cookiecutter works in the project
            return self.classifier(path)
        with open(path, "rb") as file:
            data = file.read()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return b"\0" in data


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
            # Data for a hook to read without parsing: strings, lists and dicts only.
            python_literal=repr,
            check_answers=check_answers,
            verdict=verdict,
            github_expression=github_expression,
            fill=fill,
        )
        environment.bytecode_cache = bytecode_cache(environment)
        generate = sys.modules.get("cookiecutter.generate")  # loaded by cookiecutter, not Jinja alone
        if generate and not isinstance(generate.is_binary, TextUnlessBinary):
            generate.is_binary = TextUnlessBinary(generate.is_binary)
        environment.get_template = partial(get_template, environment, environment.get_template)
        environment.from_string = partial(from_string, environment, jinja_starts(environment))
        environment.globals.update(
            uses=uses,
            pin=PINS.__getitem__,
            tool=TOOLS.__getitem__,
            newest_python=newest_python,
            pipeline=pipeline,
            post_generation=self.post_generation,
            self_hosted_labels=self_hosted_labels,
            runs_on_answer=runs_on,
            ci_caches=ci_caches,
            settings=settings,
            clouds=clouds,
            deploy_target=deploy_target,
            container_registry=container_registry,
            deploy_secrets=deploy_secrets,
            image_name=image,
            image_shown=image_shown,
            deploy_branches=deploy_branches,
            kept=kept,
        )

    def post_generation(self, answers: dict) -> dict:
        """pruning.post_generation, rendering the per-environment files with this environment."""

        def render(source: str, environment) -> str:
            return self.environment.from_string(source).render(cookiecutter=answers, environment=environment)

        return post_generation(answers, render)

    def preprocess(self, source, name, filename=None):
        # Only the project's files: answers given on the command line are rendered as they are.
        return keep_github_expressions(source) if name else source
