"""Any answers at all: either one clear refusal and nothing on disk, or a project that works.

Answer sets come from a grammar of hostile and odd values (keywords, standard-library and
dependency names, YAML specials, numbers, long strings, unicode, control characters, shell and
`${{ }}` syntax, clashing environments, odd branches). Every example gets the cheap checks (the
files parse, the build backend writes the metadata, `kubectl kustomize` renders every overlay with
valid names); a few accepted ones get the expensive ones through the real `cookiecutter` command
(wheel, import, unit tests, actionlint, zizmor).

    PROPERTY_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_properties.py -k cheap   # many more
    PROPERTY_SEED=1234 ...                                                              # replay a run

A failure names its seed (and Hypothesis its smallest example).
"""

from __future__ import annotations

import io
import json
import keyword
import os
import random
import sys
import tempfile
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from baked_checks import assert_parses, assert_valid_kubernetes_names
from helpers import CHOICES, ROOT, Baked, answers, as_typed, cookiecutter_command, uv_environment
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from slugify import slugify  # cookiecutter's own slugify filter
from validators import actionlint, zizmor

from flask_cicd import checks

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "25"))
BUILDS = int(os.environ.get("PROPERTY_BUILDS", "1"))

# --- the grammar: each answer is left to its default, odd (mostly accepted) or hostile

YAML_SPECIAL = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "NULL",
    "~",
    "0123",
    "1e3",
    "0x1F",
    "1_000",
    "1:20",
    ".inf",
    "-1",
    "0o17",
    "2001-12-14",
]
HOSTILE = [
    "$(id)",
    "`id`",
    "; rm -rf /",
    "&& echo",
    "| cat",
    "'",
    '"',
    "\\",
    "#",
    ": x",
    "- x",
    "*a",
    "&a",
    "!tag",
    "${{ secrets.TOKEN }}",
    "${{ github.event.issue.title }}",
    "{{ x }}",
    "{% if %}",
    "{#",
    "%}",
    "../..",
    "/etc",
    "a/b",
    "",
    " ",
    "-",
    "_",
    ",",
    "->",
    ":",
    "@",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\u202e",
    "\u200b",
    "\ufeff",
]
UNICODE = ["café", "Zoë", "日本語", "ßtraße", "👩\u200d💻", "Ünïcødé", "İstanbul", "ﬁle", "Ⅻ"]
NAMES = sorted(
    {
        *keyword.kwlist,
        "Email",
        "Queue",
        "HTTP",
        "Test",
        "Tests",
        "Types",
        "json",
        "__main__",
        "tasks",
        *random.Random(0).sample(sorted(checks.STDLIB_MODULES), 25),
        *checks.dependency_modules(),
        *answers.locked_distributions(),
        "Prometheus Client",
    }
)
ANY_WORD = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(YAML_SPECIAL),
    st.sampled_from(UNICODE),
    st.sampled_from(HOSTILE),
    st.integers(0, 10**6).map(str),
    st.integers(1, 90).map(lambda n: "x" * n),
    st.text(max_size=8),
)
HOSTILE_TEXT = st.lists(ANY_WORD, min_size=1, max_size=4).map(" ".join)
# One line of printable text: what a prompt takes.
PRINTABLE = st.text(st.characters(exclude_categories=sorted(checks.NOT_ONE_LINE)), min_size=1, max_size=30)
ODD_WORD = st.one_of(
    st.sampled_from(YAML_SPECIAL),
    st.sampled_from(UNICODE),
    st.sampled_from(["Email", "Flask", "Queue", "Import"]),
    st.sampled_from(["$(id)", "${{ secrets.X }}", "{{ x }}", "it's", '"q"', "#1", "a: b", "- c"]),
)
ODD_NAME = st.tuples(st.sampled_from(["Billing", "orders", "My", "The"]), st.lists(ODD_WORD, max_size=3)).map(
    lambda parts: " ".join([parts[0], *parts[1]])
)
ODD_TEXT = st.one_of(PRINTABLE, st.lists(ODD_WORD, min_size=1, max_size=5).map(" ".join))
ODD_LABEL = st.sampled_from([*YAML_SPECIAL[:13], "Prod_EU", "QA-1", "e" * 63, "release/1.2", "v2.x", "a.b"])
ODD_ENVIRONMENT = st.sampled_from(["staging", "production", "Prod_EU", "QA-1", "e" * 63, *YAML_SPECIAL[:13]])
ODD_BRANCH = st.sampled_from(["main", "develop", "release/1.2", "feature/ABC-1_x", "v2.x", "on", "0123", "1e3"])
HOSTILE_ENVIRONMENT = st.one_of(st.sampled_from(["Prod_EU", "prod-eu", "PROD", "prod", "e" * 64, "a_", "a"]), ANY_WORD)
HOSTILE_BRANCH = st.one_of(
    st.sampled_from(["HEAD", "a/.b", "x.lock", "-x", "a..b", "@{", "feat#1", "é", "a b", "/", "~", "b" * 130]),
    ANY_WORD,
)


@st.composite
def environments(draw, name, branch) -> str:
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        group = f"{draw(name)}:{draw(branch)}"
        for _ in range(draw(st.integers(0, 2))):
            group += f" -> {draw(name)}"
        groups.append(group)
    return ", ".join(groups)


def listed(values: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True).map(", ".join)


# Per answer: (odd, hostile). Hostile values are mostly refused; odd ones mostly accepted.
FREE_TEXT = {
    "project_name": (ODD_NAME, HOSTILE_TEXT),
    "project_slug": (ODD_NAME.map(slugify), HOSTILE_TEXT),
    "package_name": (ODD_NAME.map(lambda name: slugify(name, separator="_")), HOSTILE_TEXT),
    "description": (ODD_TEXT, HOSTILE_TEXT),
    "author_name": (ODD_TEXT, HOSTILE_TEXT),
    "author_email": (
        st.sampled_from(["pat@example.com", "o.brien+ci@sub.example.org", "x_y-z@a.b.example"]),
        ANY_WORD.map(lambda word: f"{word}@example.com"),
    ),
    "github_owner": (ODD_LABEL, HOSTILE_TEXT),
    "version": (st.sampled_from(["1.0", "2.0.0rc1", "0.1.0.dev3", "10.20.30.post1"]), ANY_WORD),
    "python_versions": (listed([*answers.PYTHON_END_OF_LIFE]), ANY_WORD),
    "os_matrix": (listed([*answers.OS_RUNNERS]), ANY_WORD),
    "runner": (listed(["self-hosted", "linux", "gpu", "yes", "0123", "on"]), ANY_WORD),
    "environments": (environments(ODD_ENVIRONMENT, ODD_BRANCH), environments(HOSTILE_ENVIRONMENT, HOSTILE_BRANCH)),
}


@st.composite
def answer_sets(draw, modes=("default",) * 5 + ("odd",) * 4 + ("hostile",)) -> dict[str, str]:
    """Answers as a user passes them: free text as typed (see `as_typed`), choices from their lists."""
    given = {}
    for name, (odd, hostile) in FREE_TEXT.items():
        mode = draw(st.sampled_from(modes))
        if mode != "default":
            given[name] = draw(odd if mode == "odd" else hostile)
    for name, values in CHOICES.items():
        if name == "deploy_target":  # kustomize is checked on most examples
            given[name] = draw(st.one_of(st.just("kubernetes"), st.sampled_from(values)))
        elif draw(st.booleans()):
            given[name] = draw(st.sampled_from(values))
    return given


def typable(given: dict[str, str]) -> bool:
    """What can be given through a raw block (a value holding `endraw` cannot)."""
    return not any("endraw" in value for value in given.values())


# --- running cookiecutter


def bake_in_process(given: dict[str, str], output: Path) -> tuple[int, str]:
    """cookiecutter's own function, in this process (fast): its exit code and all it printed."""
    from cookiecutter.main import cookiecutter

    printed = io.StringIO()
    config = output.parent / "cookiecutter.yaml"
    config.write_text(f"replay_dir: {output.parent / 'replay'}\ncookiecutters_dir: {output.parent / 'cc'}\n")
    with redirect_stdout(printed), redirect_stderr(printed):
        try:
            cookiecutter(
                str(ROOT), no_input=True, extra_context=as_typed(given), output_dir=str(output), config_file=str(config)
            )
        except SystemExit as stop:
            return int(stop.code or 0), printed.getvalue()
    return 0, printed.getvalue()


def assert_refused_in_one_line(printed: str, output: Path) -> str:
    """One `error: <answer>: ...` line and nothing else; nothing on disk. Returns the answer's name."""
    assert printed.count("\n") == 1 and printed.startswith("error: "), printed
    name = printed.removeprefix("error: ").split(":")[0]
    assert name in answers.ANSWER_NAMES, printed
    assert list(output.iterdir()) == [], f"a refusal left {list(output.iterdir())}"
    return name


def assert_metadata_as_the_backend_writes_it(project: Path) -> None:
    from hatchling.metadata.core import ProjectMetadata
    from hatchling.metadata.spec import construct_metadata_file_2_4

    construct_metadata_file_2_4(ProjectMetadata(str(project), None))


def with_seed(test):
    """Run a Hypothesis test under a recorded seed (PROPERTY_SEED, else a random one), named on failure."""
    chosen = int(os.environ.get("PROPERTY_SEED") or random.randrange(2**32))
    try:
        seed(chosen)(test)()
    except BaseException as failure:
        failure.add_note(f"property seed: {chosen} (rerun with PROPERTY_SEED={chosen})")
        raise


SETTINGS = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.long
def test_cheap_any_answers_are_refused_in_one_line_or_bake_files_that_parse():
    outcomes: Counter = Counter()

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(answer_sets().filter(typable))
    def bakes_or_refuses(given):
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "out"
            output.mkdir()
            code, printed = bake_in_process(given, output)
            if code:
                assert code == 1
                outcomes[f"refused: {assert_refused_in_one_line(printed, output)}"] += 1
                return
            assert printed.strip() == "" or all(line.startswith("warning: ") for line in printed.splitlines()), printed
            (project,) = output.iterdir()
            assert_parses(project)
            assert_metadata_as_the_backend_writes_it(project)
            if (project / "deploy" / "kubernetes").is_dir():
                assert_valid_kubernetes_names(project, replayed(output))
                outcomes["baked, kustomized"] += 1
            else:
                outcomes["baked"] += 1

    with_seed(bakes_or_refuses)
    print(f"{sum(outcomes.values())} answer sets:", dict(sorted(outcomes.items())))
    # The grammar reaches both sides: a property that only ever refuses (or bakes) proves little.
    if EXAMPLES >= 20:
        refused = sum(count for outcome, count in outcomes.items() if outcome.startswith("refused"))
        assert refused and outcomes["baked, kustomized"], outcomes


def replayed(output: Path) -> dict:
    """The answers a project was baked with, all rendered: cookiecutter's replay file of the bake."""
    (replay,) = (output.parent / "replay").glob("*.json")
    return json.loads(replay.read_text("utf-8"))["cookiecutter"]


# --- the expensive part, for a few accepted answer sets


def accepted(given: dict[str, str]) -> bool:
    """Whether the checks accept `given`, slug and package derived as cookiecutter derives them."""
    slug = given.get("project_slug", slugify(given.get("project_name", answers.DEFAULT_ANSWERS["project_name"])))
    derived = {"project_slug": slug, "package_name": slug.replace("-", "_")}
    try:
        checks.check({**answers.DEFAULT_ANSWERS, **derived, **given})
    except answers.AnswerError:
        return False
    return typable(given)


# Installable here: pip (the tests' venvs use its locks) and Pythons this machine has.
INSTALLABLE = {"package_manager": "pip", "python_versions": "3.12, 3.13"}


def assert_works(given: dict[str, str], folder: Path) -> None:
    """Baked by the real command, the project installs, imports, passes its unit tests, builds its
    wheel with the real build backend, and its workflows are actionlint- and zizmor-clean."""
    output = folder / "out"
    config = folder / "cookiecutter.yaml"  # the replay goes here, not to ~/.cookiecutter_replay
    config.write_text(f"replay_dir: {folder / 'replay'}\ncookiecutters_dir: {folder / 'cc'}\n")
    arguments = [f"{name}={value}" for name, value in as_typed(given).items()]
    result = cookiecutter_command(output, *arguments, env={"COOKIECUTTER_CONFIG": str(config)})
    assert result.returncode == 0, result.stdout
    assert all(line.startswith("warning: ") for line in result.stdout.splitlines()), result.stdout
    (path,) = output.iterdir()
    project = Baked(path, replayed(output))
    if (path / "deploy" / "kubernetes").is_dir():
        assert_valid_kubernetes_names(path, project.context)
    package = project.context["package_name"]
    python = project.install(folder / "venv")
    project.run(python, "-c", f"import {package}; {package}.create_app()", env={"SECRET_KEY": "property-test"})
    project.run(python, "-m", "pytest", "tests/unit", "-q", "-x", "-p", "no:cacheprovider")
    dist = folder / "dist"
    project.run(
        sys.executable, "-m", "uv", "build", "--wheel", "--python", python, "--out-dir", dist, ".", env=uv_environment()
    )
    assert [wheel.name.split("-")[0] for wheel in dist.glob("*.whl")] == [path.name.replace("-", "_")]
    actionlint(path)
    zizmor(path)


@pytest.mark.slow
def test_expensive_sampled_answers_build_import_test_and_lint(tmp_path):
    # Odd answers only, and no shrinking: each example takes a minute or more.
    @settings(max_examples=BUILDS, phases=[Phase.generate], **SETTINGS)
    @given(answer_sets(modes=["odd"]).map(lambda given: {**given, **INSTALLABLE}).filter(accepted))
    def works(given):
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            assert_works(given, Path(folder))

    with_seed(works)


@pytest.mark.slow
def test_names_the_issue_found_broken_now_make_a_working_project(tmp_path):
    # A keyword's lower case, YAML specials for the slug, the environments and their branches.
    assert_works(
        {
            "project_name": "None",
            "environments": "0123:on -> null, Yes:off",
            "runner": "self-hosted, no",
            "deploy_target": "kubernetes",
            **INSTALLABLE,
        },
        tmp_path,
    )
