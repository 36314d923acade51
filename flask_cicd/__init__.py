"""The flask-cicd template's own code: the answers and their checks, the deploy targets' and
registries' facts, pruning, the generated pipeline's graph, pins, quoting, and the Jinja extension
cookiecutter loads (`_extensions` in cookiecutter.json). Imported from the template's checkout."""
