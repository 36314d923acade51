import json
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from {{ cookiecutter.package_name }}.logs import GunicornLogger


def gunicorn_logger(accesslog):
    config = Config()
    config.set("accesslog", accesslog)
    return GunicornLogger(config)


def test_gunicorn_access_log_is_one_json_line(capsys):
    response = SimpleNamespace(
        status_code=201, sent=17, headers=[("X-Request-ID", "req-9")]
    )
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api", "REMOTE_ADDR": "10.0.0.1"}
    gunicorn_logger("-").access(response, None, environ, timedelta(milliseconds=2.5))
    line = json.loads(capsys.readouterr().out)
    expected = {
        "event": "request",
        "method": "POST",
        "path": "/api",
        "status": 201,
        "bytes": 17,
        "duration_ms": 2.5,
        "request_id": "req-9",
    }
    assert expected.items() <= line.items()
    assert line["timestamp"].endswith("Z")


def test_gunicorn_access_log_can_be_off(capsys):
    gunicorn_logger(None).access(None, None, {}, timedelta(0))
    assert capsys.readouterr().out == ""
