"""The project's promises about itself: pixi, pyproject, README, CI and Dockerfile agree, the code is ruff-clean.

These run under plain pytest without pixi or Docker (neither can run here): they parse the files instead.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_TASKS = {"serve", "test", "build-warehouse", "train-scorer", "train-protovit", "bench"}


def load_toml(name: str) -> dict:
    return tomllib.loads((ROOT / name).read_text(encoding="utf-8"))


def project_requirements() -> dict[str, Requirement]:
    project = load_toml("pyproject.toml")["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in extra]
    return {r.name.lower(): r for r in requirements}


def quick_start_commands() -> list[str]:
    """The shell commands in the README's 'Quick start' section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_pixi_has_the_required_tasks_pointing_at_existing_scripts() -> None:
    tasks = load_toml("pixi.toml")["tasks"]
    assert set(tasks) >= REQUIRED_TASKS
    for name, task in tasks.items():
        command = task if isinstance(task, str) else task["cmd"]
        words = shlex.split(command)
        assert words[0] == "python", f"task {name} should run the project's Python scripts"
        if words[1] == "-m":
            assert words[2] == "pytest"
        else:
            assert (ROOT / words[1]).is_file(), f"task {name} runs {words[1]}, which does not exist"


def test_pixi_python_satisfies_requires_python() -> None:
    pixi_python = load_toml("pixi.toml")["dependencies"]["python"]
    requires = SpecifierSet(load_toml("pyproject.toml")["project"]["requires-python"])
    assert pixi_python == "3.11.*"
    assert Version("3.11.0") in requires and Version("3.11.99") in requires


def test_pixi_installs_the_project_itself_and_pins_nothing_differently() -> None:
    pixi = load_toml("pixi.toml")
    project = load_toml("pyproject.toml")["project"]
    own = pixi["pypi-dependencies"][project["name"]]
    assert own["path"] == "." and own["editable"] is True
    assert set(own.get("extras", [])) <= set(project["optional-dependencies"])
    requirements = project_requirements()
    for table in ("dependencies", "pypi-dependencies"):
        for name, spec in pixi.get(table, {}).items():
            if name in (project["name"], "python") or not isinstance(spec, str):
                continue
            assert name.lower() in requirements, f"pixi declares {name}, which pyproject does not"
            assert SpecifierSet(spec) == requirements[name.lower()].specifier, f"{name} pinned differently"


def test_torch_and_torchvision_are_pinned_together_everywhere() -> None:
    requirements = project_requirements()
    constraints = {
        Requirement(line).name: Requirement(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for name, version in (("torch", "2.13.0"), ("torchvision", "0.28.0")):
        assert str(requirements[name].specifier) == f"=={version}"
        assert str(constraints[name].specifier) == f"=={version}"


def test_readme_quick_start_is_two_commands_matching_pixi_and_ci() -> None:
    commands = quick_start_commands()
    assert commands == ["./scripts/serve.sh", "./scripts/test.sh"]
    for command in commands:
        script = ROOT / command.removeprefix("./")
        assert script.is_file() and script.stat().st_mode & 0o111, f"{command} must be an executable file"
    tasks = load_toml("pixi.toml")["tasks"]
    assert "python scripts/serve.py" in (ROOT / "scripts/serve.sh").read_text()
    assert tasks["serve"] == "python scripts/serve.py"
    assert "python -m pytest" in (ROOT / "scripts/test.sh").read_text()
    assert tasks["test"] == "python -m pytest"
    ci = (ROOT / ".ci/run").read_text()
    assert "scripts/test.sh" in ci and "set -euo pipefail" in ci


def test_dockerfile_serves_as_non_root_with_a_liveness_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/liveness", dockerfile, flags=re.M)
    for variable in (
        "CREDIT_WAREHOUSE",
        "CREDIT_MODEL_DIR",
        "PROTOVIT_RUN",
        "PORT",
        "PANEL_ALLOW_WEBSOCKET_ORIGIN",
    ):
        assert f"{variable}=" in dockerfile
    for copied in re.findall(r"^COPY (\S+)", dockerfile, flags=re.M):
        assert (ROOT / copied).exists(), f"Dockerfile copies {copied}, which does not exist"
    assert "torch==2.13.0 torchvision==0.28.0" in dockerfile


def test_serve_command_enables_liveness_and_session_limits() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import serve
    finally:
        sys.path.pop(0)
    command = serve.panel_command(serve.parse_args(["--port", "5999"]))
    assert command[1:4] == ["-m", "panel", "serve"] and command[4].endswith("dashboard/app.py")
    assert "--liveness" in command and "--unused-session-lifetime" in command
    assert command[command.index("--allow-websocket-origin") + 1] == "localhost:5999"


def test_torchvision_workaround_lives_in_one_place() -> None:
    needle = "Library(" + '"torchvision"'  # built so that this file does not match itself
    definers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("dashboard", "warehouse", "models", "protovit", "scripts", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if needle in path.read_text(encoding="utf-8")
    ]
    assert definers == ["protovit/_torchvision_compat.py"]


def test_dependency_direction() -> None:
    """warehouse and protovit import nothing of ours; models imports only warehouse."""
    allowed = {"warehouse": set(), "protovit": set(), "models": {"warehouse"}}
    pattern = re.compile(r"^\s*(?:from|import)\s+(dashboard|warehouse|models|protovit)\b", flags=re.M)
    for package, may_use in allowed.items():
        for path in (ROOT / package).rglob("*.py"):
            used = set(pattern.findall(path.read_text(encoding="utf-8"))) - {package}
            assert used <= may_use, f"{path.relative_to(ROOT)} imports {used - may_use}"


def test_views_talk_only_to_the_cockpit() -> None:
    """Views import the façade, i18n, charts and their own package, never a lower layer or the session plumbing;
    the shell and the benchmark reach views only for their classes, and data only through the cockpit."""
    pattern = re.compile(r"^\s*(?:from|import)\s+((?:dashboard|warehouse|models|protovit)[\w.]*)", flags=re.M)
    allowed = ("dashboard.cockpit", "dashboard.i18n", "dashboard.charts", "dashboard.views")
    for path in (ROOT / "dashboard" / "views").rglob("*.py"):
        if path.name == "base.py":  # the views' own base passes on the session and page widgets they build on
            assert not re.search(
                r"^\s*(?:from|import)\s+(?:warehouse|models|protovit)\b", path.read_text(), re.M
            )
            continue
        for module in pattern.findall(path.read_text(encoding="utf-8")):
            assert module.startswith(allowed) or module == "dashboard", (
                f"{path.relative_to(ROOT)} imports {module}"
            )
    for path in (
        ROOT / "dashboard" / "shell.py",
        ROOT / "dashboard" / "app.py",
        ROOT / "scripts" / "bench_dashboard.py",
    ):
        text = path.read_text(encoding="utf-8")
        names = re.findall(r"^from dashboard\.views\.(?!base\b)\w+ import ([\w, ]+)$", text, flags=re.M)
        assert all(name.strip()[0].isupper() for line in names for name in line.split(",")), path
        assert not re.search(r"^\s*(?:from|import)\s+(?:warehouse|models|protovit)\b", text, flags=re.M), path


def test_sql_and_lightgbm_stay_in_their_packages() -> None:
    for package in ("dashboard", "models", "protovit"):
        for path in (ROOT / package).rglob("*.py"):
            assert "import duckdb" not in path.read_text(encoding="utf-8"), f"{path} uses DuckDB directly"
    for package in ("dashboard", "warehouse", "protovit"):
        for path in (ROOT / package).rglob("*.py"):
            assert "import lightgbm" not in path.read_text(encoding="utf-8"), f"{path} uses LightGBM directly"


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed (pip install -e .[test])",
)
def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
