import pytest
from flask import request

from {{ cookiecutter.package_name }} import create_app

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def make_client(monkeypatch, **environ):
    monkeypatch.setenv("APP_ENV", "testing")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return create_app().test_client()


@pytest.mark.parametrize("path", ["/healthz", "/nope"])
def test_every_response_has_the_api_headers(client, path):
    response = client.get(path)
    assert API_HEADERS.items() <= dict(response.headers).items()


def test_a_view_may_set_its_own_cache_control(app, client):
    @app.get("/cached")
    def cached():
        return {}, 200, {"Cache-Control": "max-age=60"}

    assert client.get("/cached").headers.getlist("Cache-Control") == ["max-age=60"]


def test_hsts_is_off_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_hsts_when_configured_and_never_a_redirect(monkeypatch):
    client = make_client(monkeypatch, HSTS_SECONDS="600")
    response = client.get("/healthz")  # plain HTTP, as a probe behind TLS termination
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=600"


def test_forwarded_headers_are_ignored_by_default(client):
    @client.application.get("/whoami")
    def whoami():
        return {"addr": request.remote_addr, "scheme": request.scheme}

    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    response = client.get("/whoami", headers=forged)
    assert response.json == {"addr": "127.0.0.1", "scheme": "http"}


def test_proxy_fix_trusts_the_configured_number_of_proxies(monkeypatch):
    client = make_client(monkeypatch, TRUSTED_PROXIES="1")

    @client.application.get("/whoami")
    def whoami():
        return {"addr": request.remote_addr, "scheme": request.scheme}

    # The client forged the first address; the one proxy appended the real one.
    headers = {
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
        "X-Forwarded-Proto": "https",
    }
    response = client.get("/whoami", headers=headers)
    assert response.json == {"addr": "203.0.113.9", "scheme": "https"}


def test_cors_is_closed_by_default(client):
    response = client.get("/healthz", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_listed_origins_only(monkeypatch):
    client = make_client(monkeypatch, CORS_ORIGINS="https://app.example, https://b.ex")
    allowed = client.get("/healthz", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed.headers["Access-Control-Expose-Headers"] == "X-Request-ID"
    assert "Origin" in allowed.vary
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.vary
    assert "Access-Control-Allow-Origin" not in client.get("/healthz").headers


def test_cors_preflight_lists_the_route_methods(monkeypatch):
    client = make_client(monkeypatch, CORS_ORIGINS="https://app.example")
    response = client.options(
        "/api/v1/greetings",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_cors_any_origin(monkeypatch):
    client = make_client(monkeypatch, CORS_ORIGINS="*")
    response = client.get("/healthz", headers={"Origin": "https://any.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
