"""Write the pinned dependencies, remove the files that the answers switched off, and render the
per-environment folders."""

import json
import sys
from pathlib import Path

ANSWERS = json.loads({{ cookiecutter | tojson | quoted }})
# The template's own folder, absolute: _repo_dir is relative after `cookiecutter .`, and the
# hook runs in the new project's folder.
sys.path.insert(0, {{ template_dir | quoted }})

from answers import prune, render_per_environment, write_locks  # noqa: E402

write_locks(ANSWERS, Path.cwd())
prune(ANSWERS, Path.cwd())
render_per_environment(ANSWERS, Path.cwd())
