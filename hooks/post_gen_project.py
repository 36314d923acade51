"""Remove the files that the answers switched off (the list lives in answers.py)."""

import json
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | tojson | quoted }})
sys.path.insert(0, ANSWERS["_repo_dir"])

from answers import prune  # noqa: E402

prune(ANSWERS, Path.cwd())
