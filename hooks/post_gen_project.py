"""Write the pinned dependencies and remove the files that the answers switched off."""

import json
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | tojson | quoted }})
sys.path.insert(0, ANSWERS["_repo_dir"])

from answers import prune, write_locks  # noqa: E402

write_locks(ANSWERS, Path.cwd())
prune(ANSWERS, Path.cwd())
