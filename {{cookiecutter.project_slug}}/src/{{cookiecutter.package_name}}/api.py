"""An example JSON API: replace it with your own, keeping the validation pattern."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_NAME_LENGTH = 100


def validated_name(payload: object) -> str:
    if not isinstance(payload, dict):
        raise BadRequest("The body must be a JSON object.")
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("'name' must be a non-empty string.")
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"'name' must be at most {MAX_NAME_LENGTH} characters.")
    return name.strip()


@blueprint.post("/greetings")
def create_greeting():
    # silent=False: a malformed body raises BadRequest, which errors.py renders as JSON.
    name = validated_name(request.get_json(silent=False))
    return jsonify(greeting=f"Hello, {name}!"), 201
