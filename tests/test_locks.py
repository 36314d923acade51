"""locks/: the generated project's lock files, one folder per answers that select them, and the
warning a bake gives when they are older than answers.LOCKS_MAX_AGE_DAYS."""

import itertools
import json
from datetime import date, timedelta

import pytest
from helpers import CHOICES, answers, bake

from flask_cicd import pruning
from scripts import lock_dependencies

COMBOS = list(itertools.product(*(CHOICES[name] for name in lock_dependencies.LOCK_ANSWERS)))
MADE = date.fromisoformat(json.loads(answers.LOCKS_MADE.read_text("utf-8"))["made"])


def selecting(folder_name: str) -> dict[str, str]:
    return {} if folder_name == "any" else dict(pair.split("=", 1) for pair in folder_name.split(","))


def stored(package_manager: str, combo: tuple) -> dict[str, str]:
    """The lock files a combination selects, as stored (placeholders in); each name from one folder."""
    chosen = dict(zip(lock_dependencies.LOCK_ANSWERS, combo, strict=True))
    files = {}
    for folder in (answers.LOCKS / package_manager).iterdir():
        if all(chosen[name] == value for name, value in selecting(folder.name).items()):
            for path in folder.iterdir():
                assert path.name not in files, f"two folders give {combo} a {path.name}"
                files[path.name] = path.read_text("utf-8")
    return files


@pytest.mark.parametrize("package_manager", lock_dependencies.LOCK_FILES)
def test_every_combination_gets_each_of_its_lock_files_once(package_manager):
    for combo in COMBOS:
        assert set(stored(package_manager, combo)) == set(lock_dependencies.LOCK_FILES[package_manager]), combo


def test_folders_name_only_lock_answers_and_their_values():
    # A misspelt or retired value would select no bake at all, silently.
    folders = [path for path in answers.LOCKS.glob("*/*") if path.is_dir()]
    assert {path.parent.name for path in folders} == set(lock_dependencies.LOCK_FILES)
    for folder in folders:
        for name, value in selecting(folder.name).items():
            assert name in lock_dependencies.LOCK_ANSWERS and value in CHOICES[name], folder.name


def test_locks_are_stored_as_lock_dependencies_writes_them(tmp_path, monkeypatch):
    # Rewriting the stored texts gives the same files: a folder names no answer its file ignores.
    files = {}
    for package_manager in lock_dependencies.LOCK_FILES:
        results = {combo: stored(package_manager, combo) for combo in COMBOS}
        files.update(lock_dependencies.layout(package_manager, results))
    monkeypatch.setattr(lock_dependencies, "LOCKS", tmp_path)
    monkeypatch.setattr(lock_dependencies, "LOCKS_MADE", tmp_path / "made.json")
    (tmp_path / "pip" / "metrics=retired").mkdir(parents=True)  # a folder of an older refresh goes
    lock_dependencies.write(files, MADE)
    written = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    kept = {p.relative_to(answers.LOCKS).as_posix(): p.read_bytes() for p in answers.LOCKS.rglob("*") if p.is_file()}
    assert written == kept


def test_a_file_is_named_by_the_answers_that_change_it():
    results = {
        combo: {"requirements.txt": f"flask\n{combo[2]}\n", "requirements-test.txt": "pytest\n"} for combo in COMBOS
    }
    files = lock_dependencies.layout("pip", results)
    assert sorted(files) == [
        "pip/any/requirements-test.txt",
        "pip/metrics=none/requirements.txt",
        "pip/metrics=prometheus/requirements.txt",
    ]
    assert files["pip/metrics=none/requirements.txt"] == "flask\nnone\n"


def test_lock_files_fill_the_projects_own_values():
    context = {
        **answers.DEFAULT_ANSWERS,
        "project_slug": "billing-api",
        "package_manager": "uv",
        "version": "2.3.4",
        "python_versions": "3.12, 3.13",
    }
    lock = answers.lock_files(context)["uv.lock"]
    assert '\nname = "billing-api"\nversion = "2.3.4"\n' in lock
    assert 'requires-python = ">=3.12"' in lock and "<<" not in lock


def test_the_warning_starts_after_the_maximum_age():
    limit = MADE + timedelta(days=answers.LOCKS_MAX_AGE_DAYS)
    assert answers.stale_locks_warning(MADE) is None
    assert answers.stale_locks_warning(limit) is None
    warning = answers.stale_locks_warning(limit + timedelta(days=1))
    assert warning.startswith(f"warning: the pinned dependencies are {answers.LOCKS_MAX_AGE_DAYS + 1} days old")
    assert "\n" not in warning and "scripts/lock_dependencies.py" in warning


class Today(date):
    """A date class whose today() is `fake`: the bake's own clock, moved without waiting."""

    fake = MADE

    @classmethod
    def today(cls):
        return cls.fake


@pytest.mark.parametrize("package_manager", CHOICES["package_manager"])
@pytest.mark.parametrize("age", [answers.LOCKS_MAX_AGE_DAYS, answers.LOCKS_MAX_AGE_DAYS + 1])
def test_a_bake_with_stale_locks_warns_in_one_line_and_succeeds(cookies, monkeypatch, capfd, age, package_manager):
    monkeypatch.setattr(Today, "fake", MADE + timedelta(days=age))
    monkeypatch.setattr(pruning, "date", Today)  # post_generation asks for today
    project = bake(cookies, package_manager=package_manager)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "pinned dependencies" in line]
    if age <= answers.LOCKS_MAX_AGE_DAYS:
        assert warnings == []
        return
    assert warnings == [answers.stale_locks_warning(Today.fake)]
    # The commands it tells the user to run are the baked project's own tasks.
    for task in ("lock", "install"):
        assert f"`python tasks.py {task}`" in warnings[0]
        assert f'\n    "{task}": [' in project.text("tasks.py")
