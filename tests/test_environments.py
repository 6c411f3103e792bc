"""The conda environment lists pyproject.toml's packages with all extras; Binder's the runtime ones and JupyterLab/Voila."""
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"playwright-python": "playwright"}  # conda-forge name -> PyPI name


def requirement(spec):
    """('name', 'version constraint') of a requirement such as 'numpy>=1.24' or 'sphinx==7.4.7'."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*((?:>=|==|=)\s*[0-9][0-9a-z.]*)?\s*", spec)
    assert m, f"unexpected requirement {spec!r}"
    return m.group(1).lower().replace("_", "-"), (m.group(2) or "").replace(" ", "")


def pyproject_requirements(extras=("lab", "book", "test")):
    """The packages of pyproject's dependencies and the named extras (an extra's 'cpteach[...]' is left out)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [s for extra in extras for s in project["optional-dependencies"][extra]]
    return dict(requirement(s) for s in specs if not s.startswith("cpteach["))


def test_extras_are_the_known_ones_and_test_pulls_in_lab_and_book():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) == {"lab", "book", "test"}
    assert "cpteach[lab,book]" in project["optional-dependencies"]["test"]
    assert not {"jupyterlab", "voila"} & set(pyproject_requirements(extras=()))


def conda_requirements(path):
    specs, in_deps = [], False
    for line in path.read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and re.match(r"^  - [^ ]", line) and not line.strip().endswith(":"):
            specs.append(line.strip()[2:])
    reqs = dict(requirement(s) for s in specs)
    reqs = {CONDA_NAMES.get(name, name): bound for name, bound in reqs.items()}
    reqs.pop("python"), reqs.pop("pip")
    return reqs


def test_developer_environment_lists_pyproject_with_all_extras():
    assert conda_requirements(ROOT / "environment.yml") == pyproject_requirements()


def test_binder_installs_only_what_the_notebooks_and_voila_run():
    binder = conda_requirements(ROOT / "binder" / "environment.yml")
    assert binder == pyproject_requirements(extras=("lab",))
    assert not {"pytest", "nbval", "hypothesis", "playwright", "jupyter-book"} & set(binder)


def test_binder_postbuild_installs_the_package():
    text = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in text


@pytest.mark.skipif(shutil.which("repo2docker") is None, reason="repo2docker is not installed")
def test_repo2docker_accepts_the_repository():
    result = subprocess.run(["repo2docker", "--no-build", "--no-run", str(ROOT)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_readme_presenter_command_is_the_one_the_benchmark_and_tests_start():
    """The presenter command of the README and ``live.PRESENTER_OPTIONS`` (how the benchmark serves the
    presenter) name the same Voila options, so the measured first figure is the one a lecturer gets."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("live", ROOT / "tests" / "browser" / "live.py")
    live = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(live)
    command = re.search(r"^\s*voila (.*?)notebooks/presenter\.ipynb", (ROOT / "README.md").read_text(), re.S | re.M)
    assert command, "the README has no 'voila ... notebooks/presenter.ipynb' command"
    assert set(re.findall(r"--\S+", command.group(1))) == set(live.PRESENTER_OPTIONS)
