"""Refuse a bad answer, and warn of doubtful ones. cookiecutter.json's `__answers_checked` refuses
first, in cookiecutter's own process; this hook refuses replayed answers, which skip that entry.
The bake checked the answers while rendering this script (flask_cicd.checks.verdict) and wrote in what to
print and the exit status: this process imports only `sys`. On a refusal cookiecutter removes the
(still empty) project folder."""

import sys

LINES, STATUS = {{ cookiecutter | verdict | python_literal }}  # fmt: skip

for line in LINES:
    print(line, file=sys.stderr)
sys.exit(STATUS)
