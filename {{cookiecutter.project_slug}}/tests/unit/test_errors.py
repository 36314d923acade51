import pytest
from flask import got_request_exception


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status
    assert response.json["title"]


def test_unknown_route_is_a_json_404(client):
    assert_problem(client.get("/nope"), 404)


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_a_json_400(client):
    response = client.post(
        "/api/v1/greetings", data="{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_too_large_body_is_a_json_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.post("/api/v1/greetings", json={"name": "x" * 100})
    assert_problem(response, 413)


def test_unexpected_error_is_a_json_500_without_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = client.get("/boom")
    assert_problem(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)


def test_unexpected_errors_reach_error_trackers(app, client):
    received = []

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    def receiver(sender, exception, **extra):
        received.append(exception)

    with got_request_exception.connected_to(receiver, app):
        client.get("/boom")
    assert [type(error) for error in received] == [RuntimeError]


@pytest.mark.parametrize("path", ["/healthz", "/nope"])
def test_every_response_is_json(client, path):
    assert client.get(path).is_json
