import io

import pytest
from flask import got_request_exception, request
from gunicorn.http.errors import InvalidChunkSize


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


def test_json_nested_too_deep_is_a_json_400(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/greetings", data=body, content_type="application/json"
    )
    assert_problem(response, 400)
    assert "nested" in response.json["detail"]


CHUNKED = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


def post_chunked(client, body: bytes):
    # As a server passes a chunked body: no length, and the stream ends with the body.
    return client.post(
        "/api/v1/greetings",
        data=io.BytesIO(body),
        headers=CHUNKED,
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_too_large_a_chunked_body_is_a_json_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10
    assert_problem(post_chunked(client, b'{"name": "x"}'), 413)
    # 10 bytes, at the limit, not over it: read, and found no valid greeting.
    assert_problem(post_chunked(client, b'{"name":1}'), 400)


class BrokenFraming(io.RawIOBase):
    """A server's request body whose chunked framing it finds broken while reading."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise InvalidChunkSize(b"zz")


def test_a_body_the_server_cannot_read_is_a_json_400(client):
    response = client.post(
        "/api/v1/greetings",
        headers=CHUNKED,
        environ_overrides={
            "wsgi.input": BrokenFraming(),
            "wsgi.input_terminated": True,
        },
    )
    assert_problem(response, 400)


def test_options_names_the_methods_without_a_body(client):
    response = client.options("/api/v1/greetings")
    assert response.status_code == 204
    assert "POST" in response.headers["Allow"]
    assert "Content-Type" not in response.headers and response.data == b""


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


def test_json_nested_too_deep_is_none_when_asked_to_be_silent(app):
    deep = "[" * 100_000 + "]" * 100_000
    with app.test_request_context(data=deep, content_type="application/json"):
        assert request.get_json(silent=True) is None
