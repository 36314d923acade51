import pytest

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


def test_bad_size_limit_is_refused():
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        load_config({"APP_ENV": "testing", "MAX_CONTENT_LENGTH": "1MB"})


def test_overrides_win(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    app = create_app({"MAX_CONTENT_LENGTH": 5})
    assert app.config["MAX_CONTENT_LENGTH"] == 5


def test_wsgi_entry_point_builds_the_app(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    from {{ cookiecutter.package_name }} import wsgi

    assert wsgi.app.name == "{{ cookiecutter.package_name }}"
