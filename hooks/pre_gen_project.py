"""Refuse a bad answer before anything is written: cookiecutter then removes the project folder."""

import json
import sys

ANSWERS = json.loads({{ cookiecutter | tojson | quoted }})
sys.path.insert(0, ANSWERS["_repo_dir"])

from answers import check_or_exit  # noqa: E402

check_or_exit(ANSWERS)
