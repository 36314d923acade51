"""The bake's speed-ups change nothing in what it makes: plain names are not compiled, compiled
templates come from the cache only for the same source and settings, and the hooks need only
the standard library."""

import jinja2
import pytest
from cookiecutter.environment import StrictEnvironment
from helpers import COOKIECUTTER_JSON, ROOT

from flask_cicd import extension, pruning


@pytest.fixture(autouse=True)
def _nothing_compiled_yet(monkeypatch):
    monkeypatch.setattr(extension.CompiledTemplates, "memory", {})


def environment(tmp_path, **settings) -> jinja2.Environment:
    """cookiecutter's environment for this template, its compiled templates cached under tmp_path."""
    env = StrictEnvironment(context={"cookiecutter": COOKIECUTTER_JSON}, keep_trailing_newline=True, **settings)
    env.bytecode_cache.directory = str(tmp_path)
    env.loader = jinja2.DictLoader({"page.txt": "{{ name }} ${{ github.sha }}\n"})
    return env


@pytest.mark.parametrize(
    "source",
    ["README.md", "src/{{cookiecutter.package_name}}/api.py", "a {b} c", "{{ 1 + 1 }}", "x\r\ny\n", "{# c #}"],
)
def test_names_render_as_jinja_renders_them(tmp_path, source):
    plain = jinja2.Environment(keep_trailing_newline=True)
    expected = plain.from_string(source).render(cookiecutter={"package_name": "pkg"})
    rendered = environment(tmp_path).from_string(source).render(cookiecutter={"package_name": "pkg"})
    assert rendered == expected


def test_a_name_without_jinja_is_not_compiled(tmp_path, monkeypatch):
    env = environment(tmp_path)
    compiled = []
    monkeypatch.setattr(env, "compile", lambda *args, **kwargs: compiled.append(args))
    assert env.from_string("src/pkg/api.py").render() == "src/pkg/api.py"
    assert compiled == []


@pytest.fixture
def compiled(monkeypatch) -> list:
    """The sources Jinja compiles from now on."""
    sources = []
    original = jinja2.Environment.compile

    def counted(self, source, *args, **kwargs):
        sources.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return sources


@pytest.mark.parametrize("memory", ["in this process", "on disk only"])
def test_compiled_templates_are_reused_only_for_the_same_source_and_settings(tmp_path, compiled, memory):
    # The environments compile into a cache folder of this test's own, and a memory of its own.
    first = environment(tmp_path)
    assert first.get_template("page.txt").render(name="a") == "a ${{ github.sha }}\n"
    assert len(compiled) == 1

    if memory == "on disk only":
        extension.CompiledTemplates.memory.clear()
    else:
        for entry in tmp_path.iterdir():
            entry.unlink()
    compiled.clear()
    again = environment(tmp_path)
    assert again.get_template("page.txt").render(name="b") == "b ${{ github.sha }}\n"
    assert compiled == [], "the second environment compiled a template the cache holds"

    other_settings = environment(tmp_path, trim_blocks=True)
    other_settings.get_template("page.txt")
    assert len(compiled) == 1, "a template compiled with other settings was reused"

    changed = environment(tmp_path)
    changed.loader.mapping["page.txt"] = "{{ name }} changed"
    assert changed.get_template("page.txt").render(name="c") == "c changed"


def test_a_name_with_jinja_is_compiled_once(tmp_path, compiled):
    for _ in range(2):
        env = environment(tmp_path)
        assert env.from_string("src/{{ package }}/api.py").render(package="pkg") == "src/pkg/api.py"
    assert compiled == ["src/{{ package }}/api.py"]


def refuse(*args, **kwargs):
    raise PermissionError("read-only")


@pytest.mark.parametrize("broken", ["dump_bytecode", "_get_default_cache_dir"])
def test_a_bake_needs_no_writable_cache(cookies, monkeypatch, broken):
    # A cache that cannot be written, or whose folder cannot be made, only makes the bake slower.
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, broken, refuse)
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "load_bytecode", lambda self, bucket: None)
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    assert (result.project_path / "README.md").read_text("utf-8").startswith("# Flask Service")


def test_the_post_generation_hook_imports_only_os(baked):
    # The bake writes its plan into the hook as data: no Jinja, YAML or flask_cicd in that process.
    hook = (ROOT / "hooks" / "post_gen_project.py").read_text("utf-8")
    assert [line for line in hook.splitlines() if line.startswith(("import ", "from "))] == ["import os"]
    overlays = baked().path / "deploy" / "kubernetes" / "overlays"
    assert sorted(p.name for p in overlays.iterdir()) == ["production", "staging"]
    assert 'namespace: "production"' in (overlays / "production" / "kustomization.yaml").read_text("utf-8")


def test_the_pre_generation_hook_imports_only_sys():
    # The bake checks the answers while rendering the hook and writes in the verdict: the hook's
    # process does not import answers.py, nor what it needs.
    hook = (ROOT / "hooks" / "pre_gen_project.py").read_text("utf-8")
    assert [line for line in hook.splitlines() if line.startswith(("import ", "from "))] == ["import sys"]


@pytest.mark.parametrize(
    ("content", "binary"),
    [
        pytest.param("name: {{ cookiecutter.project_slug }} é\n".encode(), False, id="utf-8-text"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x80\xff\x00", True, id="not-utf-8"),
        pytest.param(b"plain\x00ascii", True, id="nul"),
    ],
)
def test_project_files_are_told_binary_without_the_classifier(tmp_path, monkeypatch, content, binary):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    for folder in (project, elsewhere):
        folder.mkdir()
        (folder / "file").write_bytes(content)
    asked = []
    is_binary = extension.TextUnlessBinary(lambda path: asked.append(path) or "the classifier's", project)
    monkeypatch.chdir(project)  # cookiecutter asks with paths relative to the project template
    assert is_binary("file") is binary
    assert asked == []
    assert is_binary(str(elsewhere / "file")) == "the classifier's"


def test_a_bake_loads_no_template_its_answers_prune(cookies, monkeypatch):
    loaded = []
    get_source = jinja2.FileSystemLoader.get_source
    monkeypatch.setattr(
        jinja2.FileSystemLoader,
        "get_source",
        lambda self, environment, name: loaded.append(name) or get_source(self, environment, name),
    )
    result = cookies.bake(extra_context={"deploy_target": "ecs", "container_registry": "ecr"})
    assert result.exit_code == 0, result.exception
    prunable = pruning.prunable_files()
    pruned = {name for name in prunable if not pruning.kept(name, result.context)}
    assert "deploy/ssh-compose/deploy.sh" in pruned and "deploy/ecs/task-definition.json" not in pruned
    assert not pruned & set(loaded), "a pruned file's template was loaded"
    assert "deploy/ecs/task-definition.json" in loaded
    assert (result.project_path / "deploy" / "ecs" / "task-definition.json").read_text("utf-8").startswith("{")
