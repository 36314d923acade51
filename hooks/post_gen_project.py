"""Write the pinned dependencies and the per-environment files, remove the files that the
answers switched off, and warn when the pinned dependencies are old. The bake worked all of it out while rendering this script
(answers.post_generation) and wrote it in as a Python literal: this process imports only `os`."""

import os

PLAN = {{ post_generation(cookiecutter) | python_literal }}  # fmt: skip


def remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        for entry in os.scandir(path):
            remove(entry.path)
        os.rmdir(path)
    elif os.path.lexists(path):
        os.remove(path)


for path in PLAN["remove"]:
    remove(path)
for path, text in PLAN["write"].items():
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)

if PLAN["warn"]:
    os.write(2, f"{PLAN['warn']}\n".encode())
