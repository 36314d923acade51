"""Refuse a bad answer, and warn of doubtful ones. cookiecutter.json's `__answers_checked` refuses
first, in cookiecutter's own process; this hook is what checks replayed answers, which skip it.
On a refusal cookiecutter removes the (still empty) project folder."""

import json
import sys

ANSWERS = json.loads({{ cookiecutter | tojson | quoted }})
# The template's own folder, absolute: _repo_dir is relative after `cookiecutter .`, and the
# hook runs in the new project's folder.
sys.path.insert(0, {{ template_dir | quoted }})

from flask_cicd.checks import check_or_exit  # noqa: E402

check_or_exit(ANSWERS)
