"""SETTINGS in config.py is the one list of what the service reads: the code reads
nothing else, and .env.example is made from it."""

import re
from pathlib import Path

import pytest

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.config import SETTINGS, ConfigError, load_config

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = Path({{ cookiecutter.package_name }}.__file__).parent
SOURCES = [*PACKAGE.glob("*.py"), PROJECT / "gunicorn.conf.py"]
# The process environment anywhere (os.environ.get("X", os.environ["X"], "X" in
# os.environ), and load_config's `environ` in config.py (not WSGI's, elsewhere).
PROCESS_READS = re.compile(r'os\.environ(?:\.get\(|\[)"(\w+)"|"(\w+)" (?:not )?in os\.')
CONFIG_READS = re.compile(r'environ(?:\.get\(|\[)"(\w+)"|number\(environ, "(\w+)"')
NAMES = [setting.name for setting in SETTINGS]
# A default written in the code: os.environ.get("X", "default").
DEFAULT_READS = re.compile(r'os\.environ\.get\("(\w+)", "([^"]*)"\)')


def config_source() -> str:
    return (PACKAGE / "config.py").read_text("utf-8")


def test_every_setting_read_is_declared():
    read = {"".join(m) for m in CONFIG_READS.findall(config_source())}
    for path in SOURCES:
        read |= {"".join(m) for m in PROCESS_READS.findall(path.read_text("utf-8"))}
    assert read, "the pattern finds no reads: it is out of date"
    assert read <= set(NAMES), f"read but not in SETTINGS: {read - set(NAMES)}"


def test_every_declared_setting_is_used_and_declared_once():
    others = [path for path in SOURCES if path.name != "config.py"]
    code = "".join(path.read_text("utf-8") for path in others)
    config = config_source()
    for name in NAMES:
        assert config.count(f'"{name}"') >= 2 or f'"{name}"' in code, name
    assert len(NAMES) == len(set(NAMES))


def test_defaults_in_the_code_are_the_documented_ones():
    literal = re.compile(r"`([^`]*)`")
    documented = {s.name: literal.fullmatch(s.default) for s in SETTINGS}
    checked = 0
    for path in SOURCES:
        for name, default in DEFAULT_READS.findall(path.read_text("utf-8")):
            if documented.get(name):
                checked += 1
                assert default == documented[name][1], f"{path.name}: {name}"
    assert checked, "the pattern finds no defaults: it is out of date"


def test_env_example_is_made_from_settings():
    lines = (PROJECT / ".env.example").read_text("utf-8").splitlines()
    assignments = [line.split("=", 1) for line in lines if not line.startswith("#")]
    expected = [[s.name, s.local] for s in SETTINGS if s.local is not None]
    assert assignments == expected


def test_secrets_are_read_from_files_in_secrets_dir(tmp_path):
    secrets = [setting.name for setting in SETTINGS if setting.secret]
    for name in secrets:
        (tmp_path / name).write_text(f"from-a-file-{name}\n", "utf-8")
    config = load_config({"SECRETS_DIR": str(tmp_path)})
    assert config["SECRET_KEY"] == "from-a-file-SECRET_KEY"
    for name in secrets:
        assert config[name] == f"from-a-file-{name}"


def test_the_environment_wins_over_secrets_dir(tmp_path):
    (tmp_path / "SECRET_KEY").write_text("from-a-file", "utf-8")
    (tmp_path / "LOG_LEVEL").write_text("DEBUG", "utf-8")  # not a secret: not read
    config = load_config({"SECRETS_DIR": str(tmp_path), "SECRET_KEY": "from-env"})
    assert config["SECRET_KEY"] == "from-env"
    assert config["LOG_LEVEL"] == "INFO"


def test_an_empty_secrets_dir_still_requires_the_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config({"SECRETS_DIR": str(tmp_path)})
