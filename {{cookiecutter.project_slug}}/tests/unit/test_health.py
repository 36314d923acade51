from {{ cookiecutter.package_name }} import __version__, create_app


def test_healthz_touches_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_with_passing_checks(app, client):
    app.extensions["readiness"].add_check("database", lambda: True)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_readyz_names_failing_and_raising_checks(app, client):
    def broken():
        raise ConnectionError("down")

    readiness = app.extensions["readiness"]
    readiness.add_check("cache", lambda: False)
    readiness.add_check("queue", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "failing": ["cache", "queue"]}


def test_readyz_fails_while_shutting_down(app, client):
    app.extensions["readiness"].shutting_down = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["shutting_down"]


def test_version_reports_the_baked_commit(client):
    response = client.get("/version")
    assert response.json == {
        "name": "{{ cookiecutter.project_slug }}",
        "version": __version__,
        "commit": "0123abc",
    }


def test_version_reports_the_release_baked_into_the_image(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    response = create_app().test_client().get("/version")
    assert response.json["version"] == "1.2.3"
