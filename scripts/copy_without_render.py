#!/usr/bin/env python3
"""Keep `_copy_without_render` in cookiecutter.json to exactly the project files with no Jinja.

Cookiecutter compiles every file it renders; a file with no Jinja in it comes out the same when
copied, at a fraction of the cost. The `__environment__` folders stay listed as a pattern: the
post-generation step renders them, once per environment.

    .venv/bin/python -m scripts.copy_without_render           # print the list as it should be
    .venv/bin/python -m scripts.copy_without_render --write   # put it in cookiecutter.json
    .venv/bin/python -m scripts.copy_without_render --check   # exit 1 when cookiecutter.json differs
"""

from __future__ import annotations

import argparse
import json
import sys

from cookiecutter.environment import StrictEnvironment

from flask_cicd.answers import COOKIECUTTER_JSON, ROOT, TEMPLATE_PROJECT
from flask_cicd.extension import GITHUB_EXPRESSION, jinja_starts
from flask_cicd.pruning import PER_ENVIRONMENT

CONFIG = ROOT / "cookiecutter.json"
# Patterns matched against paths relative to the project folder, as cookiecutter does.
PATTERNS = [f"*/{PER_ENVIRONMENT}"]
# What starts Jinja syntax in the environment cookiecutter renders this template with.
JINJA_STARTS = jinja_starts(StrictEnvironment(context={"cookiecutter": COOKIECUTTER_JSON}))


def has_jinja(source: str) -> bool:
    """Whether Jinja would do anything to `source` beyond copying it: a tag, an expression or a
    comment (shell's `${#x}` too) outside GitHub's own `${{ ... }}`, which the extension keeps
    from Jinja. An explicit raw block counts: copied, its tags would stay in the file."""
    return any(marker in GITHUB_EXPRESSION.sub("", source) for marker in JINJA_STARTS)


def copy_without_render() -> list[str]:
    """The patterns, then every project file that has no Jinja, as cookiecutter names them."""
    plain = [
        path.relative_to(TEMPLATE_PROJECT).as_posix()
        for path in sorted(TEMPLATE_PROJECT.rglob("*"))
        if path.is_file()
        and PER_ENVIRONMENT not in path.relative_to(TEMPLATE_PROJECT).parts
        and not has_jinja(path.read_text("utf-8"))
    ]
    return [*PATTERNS, *plain]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="update cookiecutter.json")
    action.add_argument("--check", action="store_true", help="exit 1 when cookiecutter.json is out of date")
    options = parser.parse_args()

    expected = copy_without_render()
    config = json.loads(CONFIG.read_text("utf-8"))
    if options.write:
        config["_copy_without_render"] = expected
        CONFIG.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
    elif options.check and config.get("_copy_without_render") != expected:
        print(
            "cookiecutter.json's _copy_without_render is out of date; run"
            " `.venv/bin/python -m scripts.copy_without_render --write`. It should be:\n"
            + json.dumps(expected, indent=2),
            file=sys.stderr,
        )
        return 1
    elif not options.check:
        print(json.dumps(expected, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
