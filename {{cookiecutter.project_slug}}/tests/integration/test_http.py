import json
import urllib.error
import urllib.request

from .conftest import COMMIT


def fetch(url, method="GET", body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers=headers or {}
    )
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_probes_answer(base_url):
    assert fetch(f"{base_url}/healthz")[0] == 200
    assert fetch(f"{base_url}/readyz")[0] == 200


def test_version_reports_the_commit(base_url):
    status, _, body = fetch(f"{base_url}/version")
    assert status == 200
    assert body["commit"] == COMMIT


def test_request_id_round_trips(base_url):
    _, headers, _ = fetch(f"{base_url}/healthz", headers={"X-Request-ID": "it-42"})
    assert headers["X-Request-ID"] == "it-42"


def test_api_over_http(base_url):
    status, _, body = fetch(
        f"{base_url}/api/v1/greetings", method="POST", body={"name": "Grace"}
    )
    assert (status, body) == (201, {"greeting": "Hello, Grace!"})


def test_errors_are_json_over_http(base_url):
    status, headers, body = fetch(f"{base_url}/missing")
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 404


def test_api_headers_over_http(base_url):
    _, headers, _ = fetch(f"{base_url}/healthz")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Cache-Control"] == "no-store"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
{%- if cookiecutter.metrics == "prometheus" %}


def test_metrics_over_http(base_url):
    from .conftest import wait_for

    options = urllib.request.Request(f"{base_url}/version", method="OPTIONS")
    with urllib.request.urlopen(options, timeout=5) as response:
        assert response.status == 204
    counted = 'http_requests_total{method="OPTIONS",route="/version",status="204"} 1.0'

    def scraped():
        # Each worker writes its counts every second, or when it answers /metrics.
        with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
            return counted in response.read().decode()

    wait_for(scraped, "the request counted in /metrics")
{%- endif %}
