import pytest
from flask import session

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.config import ConfigError, load_config


def test_production_requires_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config({"APP_ENV": "production"})


def test_production_is_the_default_environment():
    config = load_config({"SECRET_KEY": "s3cret"})
    assert config["APP_ENV"] == "production"
    assert config["DEBUG"] is False
    assert config["SECRET_KEY"] == "s3cret"


@pytest.mark.parametrize("app_env", ["development", "testing"])
def test_development_and_testing_get_a_throwaway_key(app_env):
    first, second = load_config({"APP_ENV": app_env}), load_config({"APP_ENV": app_env})
    assert len(first["SECRET_KEY"]) == 64
    assert first["SECRET_KEY"] != second["SECRET_KEY"]


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV='staging' is not one of"):
        load_config({"APP_ENV": "staging"})


def test_settings_come_from_the_environment():
    config = load_config(
        {
            "APP_ENV": "testing",
            "LOG_LEVEL": "warning",
            "MAX_CONTENT_LENGTH": "10",
            "GIT_COMMIT": "abc123",
            "APP_VERSION": "1.2.3",
        }
    )
    assert config["LOG_LEVEL"] == "WARNING"
    assert config["MAX_CONTENT_LENGTH"] == 10
    assert config["GIT_COMMIT"] == "abc123"
    assert config["APP_VERSION"] == "1.2.3"


NUMBERS = ["MAX_CONTENT_LENGTH", "HSTS_SECONDS", "TRUSTED_PROXIES"]


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("value", ["1MB", "-1", ""])
def test_a_bad_number_is_refused(name, value):
    with pytest.raises(ConfigError, match=f"{name}=.* must be a whole number"):
        load_config({"APP_ENV": "testing", name: value})


def test_security_defaults_are_closed():
    config = load_config({"SECRET_KEY": "s3cret"})
    assert config["TRUSTED_PROXIES"] == 0
    assert config["CORS_ORIGINS"] == []
    assert config["HSTS_SECONDS"] == 365 * 24 * 3600
    assert load_config({"APP_ENV": "development"})["HSTS_SECONDS"] == 0


def test_cors_origins_are_a_comma_separated_list():
    config = load_config(
        {"APP_ENV": "testing", "CORS_ORIGINS": " https://a.example,https://b.example, "}
    )
    assert config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]


def test_overrides_win(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    app = create_app({"MAX_CONTENT_LENGTH": 5})
    assert app.config["MAX_CONTENT_LENGTH"] == 5


def test_wsgi_entry_point_builds_the_app(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    from {{ cookiecutter.package_name }} import wsgi

    assert wsgi.app.name == "{{ cookiecutter.package_name }}"


def test_sessions_work_for_views_that_use_them(app, client):
    @app.post("/visits")
    def visit():
        session["visits"] = session.get("visits", 0) + 1
        return {"visits": session["visits"]}

    assert client.post("/visits").json == {"visits": 1}
    assert client.post("/visits").json == {"visits": 2}  # from the signed cookie
    assert "Set-Cookie" not in client.get("/healthz").headers
