import pytest

from {{ cookiecutter.package_name }} import create_app


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("GIT_COMMIT", "0123abc")
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()
