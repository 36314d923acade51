import pytest


def test_greeting_is_created(client):
    response = client.post("/api/v1/greetings", json={"name": "  Ada "})
    assert response.status_code == 201
    assert response.json == {"greeting": "Hello, Ada!"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([1, 2], "The body must be a JSON object."),
        ({}, "'name' must be a non-empty string."),
        ({"name": 42}, "'name' must be a non-empty string."),
        ({"name": "   "}, "'name' must be a non-empty string."),
        ({"name": "x" * 101}, "'name' must be at most 100 characters."),
    ],
)
def test_invalid_input_is_a_400_problem(client, body, detail):
    response = client.post("/api/v1/greetings", json=body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == detail
