"""The project set-up: requirements.txt, environment.yml and pyproject.toml agree."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def requirements() -> dict[str, str]:
    return _pins((ROOT / "requirements.txt").read_text().splitlines())


def conda_pip_section() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    section = text.split("- pip:", 1)[1]
    return _pins(section.splitlines())


def test_requirements_are_all_pinned():
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    lines = [line for line in lines if line]
    assert len(requirements()) == len(lines), "every requirement must be pinned with =="


def test_environment_yml_mirrors_requirements():
    assert conda_pip_section() == requirements()


def test_torch_is_pinned_to_the_cpu_build_version():
    assert requirements()["torch"] == "2.13.0"


def test_jupyter_book_is_version_1():
    assert requirements()["jupyter-book"].startswith("1.")


def test_pyproject_dependencies_are_in_the_pinned_environment():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [
        re.split(r"[<>=!~ ;\[]", dep)[0].lower() for dep in project["dependencies"]
    ]
    pinned = requirements()
    missing = [name for name in names if name not in pinned]
    assert not missing, (
        f"pyproject dependencies not pinned in requirements.txt: {missing}"
    )


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci
    assert "make test" in readme and "make book" in readme
