import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from {{ cookiecutter.package_name }} import create_app


class Envelopes(Transport):
    """Keeps what the SDK would send."""

    def __init__(self, options=None):
        super().__init__(options)
        self.sent = []

    def capture_envelope(self, envelope):
        self.sent.append(envelope)


@pytest.fixture
def sentry(monkeypatch):
    transport = Envelopes()
    init = sentry_sdk.init
    monkeypatch.setattr(
        sentry_sdk, "init", lambda **options: init(**options, transport=transport)
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def test_nothing_is_set_up_without_a_dsn(sentry, app):
    assert not sentry_sdk.get_client().is_active()


def test_unexpected_errors_go_to_sentry(sentry, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    monkeypatch.setenv("GIT_COMMIT", "0123abc")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "staging")
    app = create_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    assert app.test_client().get("/boom").status_code == 500
    sentry_sdk.flush()
    events = [envelope.get_event() for envelope in sentry.sent]
    events = [event for event in events if event]
    assert [e["exception"]["values"][-1]["type"] for e in events] == ["RuntimeError"]
    assert (events[0]["release"], events[0]["environment"]) == ("0123abc", "staging")


def test_client_errors_are_not_sent(sentry, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    assert create_app().test_client().get("/nope").status_code == 404
    sentry_sdk.flush()
    assert [envelope for envelope in sentry.sent if envelope.get_event()] == []
